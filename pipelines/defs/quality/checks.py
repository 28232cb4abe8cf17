"""Great Expectations gates, one per suite file in ``expectations/``.

A gate on a mart stops every asset downstream of it in the same run. A gate on a raw collection judges each
tenant's loads it has not judged yet and records a verdict per load (pipelines/lib/warehouse/verdicts.py): a
blocked load stays out of the marts while the other tenants' loads, and the earlier loads that passed, are built
as usual, so its failure is a warning on the run, not a stop. Each message names the failing expectation with a
sample of the rows that broke it.
"""

import dagster as dg
import pandas as pd

from pipelines.defs.resources import DUCKDB_WRITER_POOL, Warehouse
from pipelines.lib import paths
from pipelines.lib.quality.gate import GateResult, SuiteFile, read_suite_file, validate
from pipelines.lib.warehouse.schema import ensure_meta
from pipelines.lib.warehouse.verdicts import held_loads, loads_to_judge, record_verdict


def _describe(result: GateResult) -> str:
    if result.passed:
        return f"{result.expectations} expectations passed on {result.rows_checked} rows"
    return "; ".join(failure.describe() for failure in result.failures)


def expectation_gate(suite: SuiteFile) -> dg.AssetChecksDefinition:
    if suite.asset_key[0] == "raw":
        return _load_gate(suite)

    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset_key)),
        name=f"expectations_{suite.name}",
        description=suite.description,
        blocking=True,
    )
    def _gate(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            frame = con.execute(suite.query).df()
        result = validate(suite, frame)
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=_describe(result),
            metadata={
                "suite_file": str(suite.path.relative_to(paths.REPO_ROOT)),
                "rows_checked": result.rows_checked,
                "failed_expectations": [failure.expectation_type for failure in result.failures],
            },
        )

    return _gate


def _load_gate(suite: SuiteFile) -> dg.AssetChecksDefinition:
    collection = suite.asset_key[-1]
    gate = f"expectations_{suite.name}"

    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset_key)),
        name=gate,
        description=suite.description,
        blocking=True,
        pool=DUCKDB_WRITER_POOL,
    )
    def _gate(warehouse: Warehouse) -> dg.AssetCheckResult:
        judged = []
        with warehouse.connect() as con:
            ensure_meta(con)
            for load in loads_to_judge(con, collection, gate):
                frame: pd.DataFrame = con.execute(
                    f"select * from ({suite.query}) as batch where batch.load_id = ?", [load.load_id]
                ).df()
                result = validate(suite, frame)
                verdict = "passed" if result.passed else "blocked"
                record_verdict(con, load, collection, gate, verdict, _describe(result))
                judged.append((load, result))
            held = [row for row in held_loads(con) if row[1] == collection and row[3] == gate]
        blocked = [
            f"tenant {tenant}: load {load_id} of {collection} is held out of the marts ({why}); fix the source and "
            f"the next load that passes replaces it, or let it in with `pimlens release-load {load_id} --reason ...`"
            for tenant, _, load_id, _, why in held
        ]
        return dg.AssetCheckResult(
            passed=not held,
            # A held load is already kept out of the marts; the other tenants' marts are built as usual.
            severity=dg.AssetCheckSeverity.WARN,
            description="; ".join(blocked)
            or f"{len(judged)} new loads passed ({sum(r.rows_checked for _, r in judged)} rows)",
            metadata={
                "suite_file": str(suite.path.relative_to(paths.REPO_ROOT)),
                "loads_judged": [load.load_id for load, _ in judged],
                "rows_checked": sum(result.rows_checked for _, result in judged),
                "held_loads": [row[2] for row in held],
                "failed_expectations": sorted(
                    {failure.expectation_type for _, result in judged for failure in result.failures}
                ),
            },
        )

    return _gate


defs = dg.Definitions(
    asset_checks=[expectation_gate(read_suite_file(path)) for path in sorted(paths.EXPECTATIONS_DIR.glob("*.json"))]
)
