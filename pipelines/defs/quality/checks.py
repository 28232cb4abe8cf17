"""Blocking Great Expectations gates, one per suite file in ``expectations/``.

A failing gate stops every asset downstream of the one it gates in the same run, and its message names the
failing expectation with a sample of the rows that broke it.
"""

import dagster as dg

from pipelines.defs.resources import Warehouse
from pipelines.lib import paths
from pipelines.lib.quality.gate import SuiteFile, read_suite_file, validate


def expectation_gate(suite: SuiteFile) -> dg.AssetChecksDefinition:
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
            description=(
                f"{result.expectations} expectations passed on {result.rows_checked} rows"
                if result.passed
                else "; ".join(failure.describe() for failure in result.failures)
            ),
            metadata={
                "suite_file": str(suite.path.relative_to(paths.REPO_ROOT)),
                "rows_checked": result.rows_checked,
                "failed_expectations": [failure.expectation_type for failure in result.failures],
            },
        )

    return _gate


defs = dg.Definitions(
    asset_checks=[expectation_gate(read_suite_file(path)) for path in sorted(paths.EXPECTATIONS_DIR.glob("*.json"))]
)
