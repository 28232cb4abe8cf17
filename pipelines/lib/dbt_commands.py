"""The dbt commands pimlens runs, shared by the Dagster asset, the benchmark and the tests."""

from datetime import UTC, datetime

from pipelines.lib.dbt_child import AS_OF_OPTION

# The scheduled build: seeds, models and the data tests that gate them. dbt's unit tests check the models' SQL on
# fixed inputs, not the data, so they run in CI (tests/integration/test_handwritten_tenant.py) rather than on every
# refresh, as dbt advises; they would add several seconds to each daily build.
# Its log file keeps info and above: at dbt's default (debug) every statement of every node is formatted and written
# to logs/dbt.log, about a fifth of the worker threads' time in a daily build; the SQL stays in target/run.
SCHEDULED_BUILD = ("build", "--exclude-resource-type", "unit_test", "--log-level-file", "info")

# Every dbt unit test, against a warehouse whose models exist (dbt reads the input columns' types from it).
UNIT_TESTS = ("test", "--select", "test_type:unit")


def as_of_arguments(as_of: datetime) -> tuple[str, ...]:
    """The `pimlens-dbt` arguments that set the evaluation instant of every model (the as_of macro)."""
    return (AS_OF_OPTION, as_of.astimezone(UTC).isoformat())
