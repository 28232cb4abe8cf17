"""The dbt commands pimlens runs, shared by the Dagster asset, the benchmark and the tests."""

# The scheduled build: seeds, models and the data tests that gate them. dbt's unit tests check the models' SQL on
# fixed inputs, not the data, so they run in CI (tests/integration/test_handwritten_tenant.py) rather than on every
# refresh, as dbt advises; they would add several seconds to each daily build.
SCHEDULED_BUILD = ("build", "--exclude-resource-type", "unit_test")

# Every dbt unit test, against a warehouse whose models exist (dbt reads the input columns' types from it).
UNIT_TESTS = ("test", "--select", "test_type:unit")
