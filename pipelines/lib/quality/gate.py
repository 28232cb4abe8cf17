"""Great Expectations suites as data, validated against pandas batches, results kept, Data Docs built.

GX 1.x cannot validate DuckDB through SQLAlchemy, so a gate reads the rows it checks into pandas (only the rows of
the batch under test) and validates them. A suite file is GX's own suite JSON with a ``meta.pimlens`` block that
says which assets it gates (``asset_key``, or ``asset_keys`` for a family of raw tables of one shape, whose
``query`` then names its table as ``{table}``), which rows to read, and, for a raw suite, whether a load that fails
it is held out of the marts (``holds_loads``).

GX is slow to import (seconds), so a process keeps one context open and registers each suite in it once, while it
works on one project (``QualityProject.at``). The project folder is ``gx/`` beside the warehouse: GX's validation
results are kept there, and its Data Docs, a static site, are rendered after each batch of validations for just
those results, with the index.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.lib.files import FOLDER_MODE

SAMPLE_SIZE = 5
PANDAS_SOURCE = "pimlens"
DATA_DOCS_SITE = "local_site"
# Inside the project folder: every validation result as GX's JSON, and the Data Docs site (index.html).
RESULTS = "validations"
DATA_DOCS = "data_docs"


def project_folder(warehouse: Path) -> Path:
    """The GX project of a warehouse: ``gx/`` beside it (``var/gx`` for the demo)."""
    return warehouse.parent / "gx"


def data_docs_index(warehouse: Path) -> Path:
    return project_folder(warehouse) / DATA_DOCS / "index.html"


class SuiteFileError(ValueError):
    """An expectations file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class SuiteFile:
    path: Path
    name: str
    asset_keys: tuple[tuple[str, ...], ...]
    query: str
    description: str
    expectations: list[dict[str, Any]]
    holds_loads: bool = False

    @property
    def is_raw(self) -> bool:
        return self.asset_keys[0][0] == "raw"

    def query_for(self, key: tuple[str, ...]) -> str:
        return self.query.replace("{table}", key[-1])


@dataclass(frozen=True)
class FailedExpectation:
    expectation_type: str
    column: str | None
    unexpected_count: int | None
    sample: list[Any]

    def describe(self) -> str:
        where = f" on column {self.column}" if self.column else ""
        count = f"{self.unexpected_count} bad rows, " if self.unexpected_count is not None else ""
        return f"{self.expectation_type}{where}: {count}e.g. {self.sample}"


@dataclass(frozen=True)
class GateResult:
    suite: str
    rows_checked: int
    expectations: int
    failures: list[FailedExpectation]

    @property
    def passed(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        if self.passed:
            return f"{self.expectations} expectations passed on {self.rows_checked} rows"
        return "; ".join(failure.describe() for failure in self.failures)


def read_suite_file(path: Path) -> SuiteFile:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SuiteFileError(f"{path} is not valid JSON: {error}") from error
    meta = document.get("meta", {}).get("pimlens")
    if not isinstance(meta, dict):
        raise SuiteFileError(f"{path}: meta.pimlens is missing; it names the asset_key and the query to check.")
    for key in ("query", "description"):
        if key not in meta:
            raise SuiteFileError(f"{path}: meta.pimlens.{key} is missing.")
    keys = meta.get("asset_keys") or ([meta["asset_key"]] if "asset_key" in meta else [])
    if not keys or not all(isinstance(key, list) and key for key in keys):
        raise SuiteFileError(f"{path}: meta.pimlens.asset_key (or asset_keys, a list of them) is missing.")
    if len(keys) > 1 and "{table}" not in meta["query"]:
        raise SuiteFileError(f"{path}: a suite of several assets names its table as {{table}} in meta.pimlens.query.")
    expectations = document.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise SuiteFileError(f"{path}: 'expectations' must be a non-empty list.")
    return SuiteFile(
        path=path,
        name=document.get("name") or path.stem,
        asset_keys=tuple(tuple(key) for key in keys),
        query=meta["query"],
        description=meta["description"],
        expectations=expectations,
        holds_loads=bool(meta.get("holds_loads", False)),
    )


def read_suite_files(folder: Path) -> list[SuiteFile]:
    return [read_suite_file(path) for path in sorted(folder.glob("*.json"))]


@dataclass
class StepRun:
    """The validations of one step. Each gets a run id of its own: GX files a result under its suite, run and
    batch, and every batch of one dataframe asset has the same identifier, so two loads validated under one run id
    would keep one result."""

    name: str
    run_ids: list[Any] = field(default_factory=list)

    def next_run_id(self) -> Any:
        from great_expectations.core.run_identifier import RunIdentifier

        self.run_ids.append(RunIdentifier(run_name=self.name, run_time=datetime.now(UTC)))
        return self.run_ids[-1]


@dataclass
class QualityProject:
    """One GX context (ephemeral, or a file project whose results and Data Docs are kept) and the suites it has
    registered so far."""

    context: Any
    root: Path | None
    _registered: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def at(root: Path) -> QualityProject:
        """The project kept in `root`: its validation results and its Data Docs site on disk, the suites and the
        pandas sources in memory (registering them in a file project rewrites its configuration every time).

        GX resolves a validation's suite and data through the context opened last in the process, so one context
        is open at a time: the one opened before is reused while it is the same project, else replaced."""
        global _opened
        if _opened is not None and _opened.root == root:
            return _opened
        gx = _import_gx()
        from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

        defaults = InMemoryStoreBackendDefaults()
        stores = dict(defaults.stores)
        stores[defaults.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(root / RESULTS)},
        }
        site = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(root / DATA_DOCS)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
        config = DataContextConfig(
            store_backend_defaults=defaults,
            stores=stores,
            data_docs_sites={DATA_DOCS_SITE: site},
            analytics_enabled=False,
        )
        # Its results hold samples of failing values: the folder is for the pipeline's owner and group only.
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(FOLDER_MODE)
        _opened = QualityProject(_quiet(gx.get_context(project_config=config, mode="ephemeral")), root)
        return _opened

    @staticmethod
    def ephemeral() -> QualityProject:
        """A context that keeps nothing, for validating outside a pipeline run (replacing any other, as ``at``)."""
        global _opened
        if _opened is None or _opened.root is not None:
            _opened = QualityProject(_quiet(_import_gx().get_context(mode="ephemeral")), None)
        return _opened

    @property
    def data_docs(self) -> Path | None:
        return None if self.root is None else self.root / DATA_DOCS / "index.html"

    def validate(self, suite: SuiteFile, frame: pd.DataFrame, step: StepRun | None = None) -> GateResult:
        """Runs the suite on the frame (its result kept, as one of `step`'s) and returns each failed expectation
        with a sample of its bad values."""
        run_id = step.next_run_id() if step is not None else None
        outcome = self._definition(suite).run(
            batch_parameters={"dataframe": frame}, result_format="SUMMARY", run_id=run_id
        )
        failures = [
            FailedExpectation(
                expectation_type=result.expectation_config.type,
                column=result.expectation_config.kwargs.get("column"),
                unexpected_count=result.result.get("unexpected_count"),
                sample=list(result.result.get("partial_unexpected_list", []))[:SAMPLE_SIZE]
                or [result.result.get("observed_value")],
            )
            for result in outcome.results
            if not result.success
        ]
        return GateResult(suite.name, len(frame), len(suite.expectations), failures)

    def new_run(self, name: str) -> StepRun:
        """The validations of one pipeline step (`name`: its Dagster run), for their Data Docs."""
        return StepRun(name)

    def build_data_docs(self, step: StepRun) -> Path | None:
        """Renders the results validated in `step`, and the index; returns the index page (None: ephemeral)."""
        if self.data_docs is None:
            return None
        store = self.context.validation_results_store
        keys = [key for key in store.list_keys() if key.run_id in step.run_ids]
        self.context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=keys)
        return self.data_docs

    def _definition(self, suite: SuiteFile) -> Any:
        definition = self._registered.get(suite.name)
        if definition is not None:
            return definition
        gx = _import_gx()
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        context = self.context
        # Added once: adding it again would replace it, and the assets of the suites registered before with it.
        source = self._registered.get(PANDAS_SOURCE) or context.data_sources.add_pandas(PANDAS_SOURCE)
        self._registered[PANDAS_SOURCE] = source
        asset = next((item for item in source.assets if item.name == suite.name), None)
        if asset is None:
            asset = source.add_dataframe_asset(suite.name)
        batch = next((item for item in asset.batch_definitions if item.name == "batch"), None)
        if batch is None:
            batch = asset.add_batch_definition_whole_dataframe("batch")
        gx_suite = context.suites.add_or_update(
            gx.ExpectationSuite(
                name=suite.name,
                expectations=[
                    ExpectationConfiguration(type=item["type"], kwargs=item.get("kwargs", {})).to_domain_obj()
                    for item in suite.expectations
                ],
            )
        )
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
        )
        self._registered[suite.name] = definition
        return definition


# The GX context open in this process (QualityProject.at).
_opened: QualityProject | None = None


def validate(suite: SuiteFile, frame: pd.DataFrame) -> GateResult:
    """The suite run on the frame in a context that keeps nothing."""
    return QualityProject.ephemeral().validate(suite, frame)


def _import_gx() -> Any:
    # Imported late: importing GX costs seconds, which code-location loading should not pay.
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return gx


def _quiet(context: Any) -> Any:
    """No progress bars on the run's log (held in memory, not written to the project's configuration)."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context
