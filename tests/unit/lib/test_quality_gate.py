from pathlib import Path

import pandas as pd
import pytest

from pipelines.lib import paths
from pipelines.lib.graph.collections import COLLECTIONS
from pipelines.lib.quality.gate import QualityProject, SuiteFileError, read_suite_file, read_suite_files, validate

ACCESS_SUITE = paths.EXPECTATIONS_DIR / "fct_role_access.json"


def good_access_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "access_id": ["a1", "a2"],
            "tenant_id": ["t", "t"],
            "principal_id": ["p1", "p2"],
            "role_definition_id": ["r", "r"],
            "access_state": ["eligible", "active_permanent"],
            "is_standing": [False, True],
            "start_at": pd.to_datetime(["2026-01-01", "2026-02-01"], utc=True),
            "end_at": pd.to_datetime(["2026-06-01", None], utc=True),
        }
    )


def test_every_raw_collection_and_the_key_marts_have_a_suite() -> None:
    suites = read_suite_files(paths.EXPECTATIONS_DIR)
    gated = {key for suite in suites for key in suite.asset_keys}
    assert {("raw", spec.table) for spec in COLLECTIONS} <= gated
    assert {
        ("marts", name)
        for name in (
            "fct_headline_metrics",
            "fct_role_access",
            "fct_effective_privilege_daily",
            "fct_activation_requests",
            "fct_activations_monthly",
            "fct_privileged_access_daily",
            "fct_alerts",
            "fct_data_quality",
            "fct_unreadable_inputs",
        )
    } <= gated
    # Every raw suite reads the load of each row (verdicts are per load); only the suites whose collections' models
    # skip held loads may hold one.
    assert all(" load_id" in suite.query for suite in suites if suite.is_raw)
    assert {suite.name for suite in suites if suite.holds_loads} == {"raw_directory_audits", "raw_users"}


def test_a_family_suite_reads_each_of_its_tables() -> None:
    suite = read_suite_file(paths.EXPECTATIONS_DIR / "raw.role_schedule_instances.json")
    assert "from raw.role_eligibility_schedule_instances as rows" in suite.query_for(
        ("raw", "role_eligibility_schedule_instances")
    )


def test_a_suite_of_several_tables_must_name_its_table(tmp_path: Path) -> None:
    path = tmp_path / "raw.family.json"
    path.write_text(
        '{"meta": {"pimlens": {"asset_keys": [["raw", "a"], ["raw", "b"]], "description": "d", '
        '"query": "select * from raw.a"}}, "expectations": [{"type": "expect_column_values_to_not_be_null"}]}'
    )
    with pytest.raises(SuiteFileError, match=r"raw.family.json: a suite of several assets names its table as"):
        read_suite_file(path)


def test_clean_rows_pass() -> None:
    result = validate(read_suite_file(ACCESS_SUITE), good_access_rows())
    assert result.passed
    assert (result.rows_checked, result.expectations) == (2, 6)


def test_a_failure_names_the_expectation_and_shows_bad_values() -> None:
    rows = good_access_rows()
    rows.loc[1, "access_state"] = "sort_of_active"
    rows.loc[1, "access_id"] = "a1"
    result = validate(read_suite_file(ACCESS_SUITE), rows)
    described = {failure.expectation_type: failure.describe() for failure in result.failures}
    assert set(described) == {"expect_column_values_to_be_unique", "expect_column_values_to_be_in_set"}
    assert (
        "on column access_state: 1 bad rows, e.g. ['sort_of_active']" in described["expect_column_values_to_be_in_set"]
    )


def test_an_end_before_its_start_fails() -> None:
    rows = good_access_rows()
    rows.loc[0, "end_at"] = pd.Timestamp("2025-01-01", tz="UTC")
    (failure,) = validate(read_suite_file(ACCESS_SUITE), rows).failures
    assert failure.expectation_type == "expect_column_pair_values_a_to_be_greater_than_b"


def test_a_suite_without_its_pimlens_block_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"name": "x", "expectations": [{"type": "expect_column_to_exist", "kwargs": {"column": "a"}}]}')
    with pytest.raises(SuiteFileError, match=r"meta\.pimlens is missing"):
        read_suite_file(path)


def test_audit_ids_are_unique_per_tenant_not_across_tenants() -> None:
    suite = read_suite_file(paths.EXPECTATIONS_DIR / "raw.directory_audits.json")
    rows = pd.DataFrame(
        {
            "tenant_id": ["t1", "t2", "t1"],
            "load_id": ["l1", "l2", "l1"],
            "id": ["PIM_1", "PIM_1", "PIM_2"],
            "activity_date_time": ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.5Z", "2026-01-02T00:00:00+01:00"],
            "activity_display_name": ["x", "x", "y"],
            "logged_by_service": ["PIM", "PIM", "PIM"],
        }
    )
    assert validate(suite, rows).passed
    duplicated = pd.concat([rows, rows.iloc[[2]]], ignore_index=True)
    (failure,) = validate(suite, duplicated).failures
    assert failure.expectation_type == "expect_compound_columns_to_be_unique"


def test_the_headline_suite_fails_a_share_above_one_and_a_negative_count() -> None:
    suite = read_suite_file(paths.EXPECTATIONS_DIR / "fct_headline_metrics.json")
    rows = pd.DataFrame(
        {
            "headline_metric_id": ["m1", "m2", "m3"],
            "tenant_id": ["t", "t", "t"],
            "metric_name": ["global_admin_share", "global_admins", "approval_rate"],
            "is_known": [True, True, True],
            "ratio_value": [0.5, None, 0.9],
            "count_value": [None, 6.0, None],
            "is_unknown_without_value": [True, True, True],
        }
    )
    assert validate(suite, rows).passed
    rows.loc[0, "ratio_value"] = 1.5
    rows.loc[1, "count_value"] = -1.0
    failed = {failure.describe() for failure in validate(suite, rows).failures}
    assert failed == {
        "expect_column_values_to_be_between on column ratio_value: 1 bad rows, e.g. [1.5]",
        "expect_column_values_to_be_between on column count_value: 1 bad rows, e.g. [-1.0]",
    }


def test_projects_opened_in_turn_in_one_process_each_validate_and_keep_their_results(tmp_path: Path) -> None:
    """As the tests' several warehouses do: GX resolves through the context opened last, so each switch reopens."""
    suite = read_suite_file(ACCESS_SUITE)
    for root in (tmp_path / "a", tmp_path / "b", tmp_path / "a"):
        project = QualityProject.at(root)
        assert project.validate(suite, good_access_rows(), project.new_run("run")).passed
        assert validate(suite, good_access_rows()).passed
    assert len(list((tmp_path / "a" / "validations").rglob("*.json"))) == 2
    assert len(list((tmp_path / "b" / "validations").rglob("*.json"))) == 1


def test_a_suite_validates_again_after_other_suites_were_registered(tmp_path: Path) -> None:
    """As a second run in one process does: every suite registered in the context stays usable."""
    project = QualityProject.at(tmp_path / "gx")
    suites = read_suite_files(paths.EXPECTATIONS_DIR)
    access = read_suite_file(ACCESS_SUITE)
    assert project.validate(access, good_access_rows()).passed
    for suite in suites:
        project._definition(suite)
    assert project.validate(access, good_access_rows()).passed
