"""Great Expectations suites as data, validated against a pandas batch.

GX 1.x cannot validate DuckDB through SQLAlchemy, so the gate reads the rows it checks into pandas (only the
rows of the batch under test) and validates them in an ephemeral context. A suite file is GX's own suite JSON
with a ``meta.pimlens`` block that says which asset it gates and which rows to read.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

SAMPLE_SIZE = 5


class SuiteFileError(ValueError):
    """An expectations file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class SuiteFile:
    path: Path
    name: str
    asset_key: tuple[str, ...]
    query: str
    description: str
    expectations: list[dict[str, Any]]


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


def read_suite_file(path: Path) -> SuiteFile:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SuiteFileError(f"{path} is not valid JSON: {error}") from error
    meta = document.get("meta", {}).get("pimlens")
    if not isinstance(meta, dict):
        raise SuiteFileError(f"{path}: meta.pimlens is missing; it names the asset_key and the query to check.")
    for key in ("asset_key", "query", "description"):
        if key not in meta:
            raise SuiteFileError(f"{path}: meta.pimlens.{key} is missing.")
    expectations = document.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise SuiteFileError(f"{path}: 'expectations' must be a non-empty list.")
    return SuiteFile(
        path=path,
        name=document.get("name") or path.stem,
        asset_key=tuple(meta["asset_key"]),
        query=meta["query"],
        description=meta["description"],
        expectations=expectations,
    )


def validate(suite: SuiteFile, frame: pd.DataFrame) -> GateResult:
    """Runs the suite on the frame and returns each failed expectation with a sample of its bad values."""
    # Imported here: importing GX costs about two seconds, which code-location loading should not pay.
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("pimlens")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("batch")
    )
    gx_suite = context.suites.add(
        gx.ExpectationSuite(
            name=suite.name,
            expectations=[
                ExpectationConfiguration(type=item["type"], kwargs=item.get("kwargs", {})).to_domain_obj()
                for item in suite.expectations
            ],
        )
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
    )
    outcome = definition.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
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
