"""Great Expectations gates: every suite file in ``expectations/``, run as Dagster asset checks in two steps.

``raw_expectations`` runs every raw suite (one per raw collection family) on each tenant's loads it has not judged
yet and records a verdict per load (pipelines/lib/quality/judging.py): a suite that holds loads keeps a failing
load out of the marts while the other tenants' loads, and the earlier loads that passed, are built as usual, so its
failure is a warning on the run, not a stop; the other raw suites warn. ``mart_expectations`` runs every mart suite
on its whole mart and stops what is downstream of a mart that fails (the analytics database, the export).

Each step opens one GX context (one per process: a run in one process shares it), keeps every validation result in
the GX project beside the warehouse, builds its Data Docs for them and links the site from each check's result.
Each message names the failing expectation with a sample of the rows that broke it.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipelines.defs.resources import DUCKDB_WRITER_POOL, Warehouse
from pipelines.lib import paths, progress
from pipelines.lib.quality.gate import QualityProject, SuiteFile, project_folder, read_suite_files
from pipelines.lib.quality.judging import Judgement, gate_name, judge_new_loads
from pipelines.lib.warehouse.schema import ensure_meta

SUITES = read_suite_files(paths.EXPECTATIONS_DIR)


def quality_project(warehouse: Warehouse) -> QualityProject:
    """The GX project beside the warehouse (``var/gx`` for the demo): its results and its Data Docs."""
    return QualityProject.at(project_folder(Path(warehouse.path)))


def _specs(suites: list[SuiteFile]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(gate_name(suite), asset=dg.AssetKey(list(key)), blocking=True, description=suite.description)
        for suite in suites
        for key in suite.asset_keys
    ]


def _docs_link(index: Path | None) -> dict[str, dg.MetadataValue]:
    return {"data_docs": dg.MetadataValue.url(index.as_uri())} if index is not None else {}


def _suite_file(suite: SuiteFile) -> str:
    return str(suite.path.relative_to(paths.REPO_ROOT))


def raw_gates(suites: list[SuiteFile]) -> dg.AssetChecksDefinition:
    by_check = {(key, gate_name(suite)): suite for suite in suites for key in suite.asset_keys}

    @dg.multi_asset_check(
        specs=_specs(suites),
        name="raw_expectations",
        can_subset=True,
        # It writes the verdicts into the warehouse.
        pool=DUCKDB_WRITER_POOL,
    )
    def raw_expectations(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> Iterator[dg.AssetCheckResult]:
        project = quality_project(warehouse)
        run = project.new_run(context.op_execution_context.run_id)
        selected: dict[str, list[str]] = {}
        for check_key in context.selected_asset_check_keys:
            suite = by_check[(tuple(check_key.asset_key.path), check_key.name)]
            selected.setdefault(suite.name, []).append(check_key.asset_key.path[-1])
        judged: list[tuple[SuiteFile, Judgement]] = []
        with (
            warehouse.connect() as con,
            progress.tracking("gates", "raw quality gates", total=len(selected), unit="suites run") as tracker,
        ):
            ensure_meta(con)
            for suite in suites:
                if suite.name in selected:
                    judged += [(suite, j) for j in judge_new_loads(con, project, suite, selected[suite.name], run)]
                    tracker.advance(suite.name)
            links = _docs_link(project.build_data_docs(run))
        for suite, judgement in judged:
            yield _raw_result(suite, judgement, links)

    return raw_expectations


def _raw_result(suite: SuiteFile, judgement: Judgement, links: dict[str, dg.MetadataValue]) -> dg.AssetCheckResult:
    collection = judgement.collection
    problems = [
        f"tenant {tenant}: load {load_id} of {collection} is held out of the marts ({why}); fix the source and the "
        f"next load that passes replaces it, or let it in with `pimlens release-load {load_id} --reason ...`"
        for tenant, load_id, why in judgement.held
    ] + [
        f"tenant {tenant}: load {load_id} of {collection} fails {suite.name} ({why}); the load is read as it is"
        for tenant, load_id, why in judgement.warned
    ]
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(["raw", collection]),
        check_name=judgement.gate,
        passed=judgement.passed,
        # A held load is already kept out of the marts; the other tenants' marts are built as usual.
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(problems)
        or f"{len(judgement.loads_judged)} new loads passed ({judgement.rows_checked} rows)",
        metadata={
            "suite_file": _suite_file(suite),
            "holds_loads": suite.holds_loads,
            "loads_judged": judgement.loads_judged,
            "rows_checked": judgement.rows_checked,
            "held_loads": [load_id for _, load_id, _ in judgement.held],
            "failed_expectations": sorted({failure.expectation_type for failure in judgement.failures}),
            **links,
        },
    )


def mart_gates(suites: list[SuiteFile]) -> dg.AssetChecksDefinition:
    by_check = {(key, gate_name(suite)): suite for suite in suites for key in suite.asset_keys}

    @dg.multi_asset_check(specs=_specs(suites), name="mart_expectations", can_subset=True)
    def mart_expectations(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse
    ) -> Iterator[dg.AssetCheckResult]:
        project = quality_project(warehouse)
        run = project.new_run(context.op_execution_context.run_id)
        outcomes = []
        checks = context.selected_asset_check_keys
        with (
            warehouse.connect(read_only=True) as con,
            progress.tracking("gates", "mart quality gates", total=len(checks), unit="suites run") as tracker,
        ):
            for check_key in checks:
                suite = by_check[(tuple(check_key.asset_key.path), check_key.name)]
                frame = con.execute(suite.query_for(tuple(check_key.asset_key.path))).df()
                outcomes.append((check_key, suite, project.validate(suite, frame, run)))
                tracker.advance(check_key.name)
            links = _docs_link(project.build_data_docs(run))
        for check_key, suite, result in outcomes:
            yield dg.AssetCheckResult(
                asset_key=check_key.asset_key,
                check_name=check_key.name,
                passed=result.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                description=result.describe(),
                metadata={
                    "suite_file": _suite_file(suite),
                    "rows_checked": result.rows_checked,
                    "failed_expectations": [failure.expectation_type for failure in result.failures],
                    **links,
                },
            )

    return mart_expectations


defs = dg.Definitions(
    asset_checks=[
        raw_gates([suite for suite in SUITES if suite.is_raw]),
        mart_gates([suite for suite in SUITES if not suite.is_raw]),
    ]
)
