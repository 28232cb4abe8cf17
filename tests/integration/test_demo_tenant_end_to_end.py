"""The whole path on generated tenants: every headline metric, the alert set and the compliance-failure set
must equal the generator's ground truth, on three seeds of size S and one of size M."""

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.demo_tenant import GroundTruth, generate_tenant
from pipelines.demo_tenant.over_privileged import REASONS as OVER_PRIVILEGED_REASONS
from pipelines.emulator import start_emulator
from pipelines.lib import paths
from pipelines.lib.powerbi.spec import load_model
from pipelines.lib.warehouse.metrics import read_headline_metrics
from tests.limits import emulator_options
from tests.powerbi_validation import project_problems

from .conftest import run_refresh

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
# The largest first: it is the suite's longest piece of work. Each tenant is a unit of work of its own for
# `pytest -n` (tests/conftest.py), so that both workers run tenants.
TENANTS = [("M", 7), ("S", 7), ("S", 11), ("S", 23)]
ALERT_RULES = {
    "after_hours_activation",
    "repeated_activation",
    "assignment_outside_pim",
    "too_many_global_admins",
    "no_mfa_on_activation",
    "stale_eligibility",
    "break_glass_used",
    "membership_burst",
}


@dataclass
class DemoRun:
    truth: GroundTruth
    tenant_dir: Path
    warehouse: Path
    success: bool

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()


@pytest.fixture(scope="module", params=TENANTS, ids=[f"{size}-seed{seed}" for size, seed in TENANTS])
def demo_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """One generated tenant and one real pipeline run against it, shared by every assertion below."""
    size, seed = request.param
    root = tmp_path_factory.mktemp(f"{size}-{seed}")
    truth = generate_tenant(root / "tenant", size=size, seed=seed, as_of=AS_OF)
    with (
        start_emulator(root / "tenant", state_dir=root / "emulator", options=emulator_options()) as emulator,
        pytest.MonkeyPatch.context() as env,
    ):
        run = run_refresh(emulator, root, env, raise_on_error=False, design=root / "tenant" / "design.yaml")
        yield DemoRun(truth, root / "tenant", run.warehouse, run.result.success)


def test_the_run_succeeds(demo_run: DemoRun) -> None:
    assert demo_run.success


def test_headline_metrics_equal_ground_truth(demo_run: DemoRun) -> None:
    assert read_headline_metrics(demo_run.warehouse)[demo_run.truth.tenant_id] == demo_run.truth.metrics


def test_alerts_equal_the_planted_ones(demo_run: DemoRun) -> None:
    found = Counter(demo_run.query("select alert_rule, principal_id, role_definition_id from marts.fct_alerts"))
    expected = Counter((a["rule"], a["principal_id"], a["role_definition_id"]) for a in demo_run.truth.alerts)
    assert found == expected
    assert {rule for rule, *_ in expected} == ALERT_RULES  # each kind planted at least once


def test_after_hours_verdicts_use_each_users_mailbox_zone_else_their_countrys(demo_run: DemoRun) -> None:
    """The alerts above equal ground truth in each user's own zone; here, each verdict names the source the
    generator's model says it should use, and only privileged users' mailboxes were read."""
    mailbox_file = demo_run.tenant_dir / "v1.0" / "mailboxSettings.json"
    mailboxes = {m["id"]: m["timeZone"] for m in json.loads(mailbox_file.read_bytes())}
    verdicts = demo_run.query(
        "select principal_id, evidence from marts.fct_alerts where alert_rule = 'after_hours_activation'"
    )
    kinds = Counter()
    for principal, evidence in verdicts:
        zone = mailboxes.get(principal)
        source = "country" if zone in (None, "Customized Time Zone") else "mailbox"
        assert f"(zone from {source})" in evidence, (principal, zone, evidence)
        kinds["no mailbox" if zone is None else "custom" if source == "country" else source] += 1
    # Custom zones are one mailbox in sixteen: not every small tenant has one among its after-hours activations (the
    # dbt unit test of int_user_time_zones_resolved pins that rule on its own).
    assert {"no mailbox", "mailbox"} <= set(kinds)
    # Seattle's people with a mailbox are judged in their zone, which the per-country map would have made New York's.
    assert any("America/Los_Angeles (zone from mailbox)" in evidence for _, evidence in verdicts)
    read = dict(demo_run.query("select has_mailbox, count(*) from staging.stg_graph__user_mailbox_settings group by 1"))
    assert read[True] > 0 and read[False] > 0  # Graph's 404 MailboxNotEnabledForRESTAPI kept as "no mailbox"
    [(outside,)] = demo_run.query(
        """select count(*) from staging.stg_graph__user_mailbox_settings as settings
        where settings.user_id not in (select principal_id from marts.fct_role_access)
        and settings.user_id not in (select member_id from staging.stg_graph__group_transitive_members)
        and settings.user_id not in (select principal_id from staging.stg_graph__pim_group_eligibility_instances)
        and settings.user_id not in (select principal_id from staging.stg_graph__pim_group_assignment_instances)"""
    )
    assert outside == 0
    [(status,)] = demo_run.query(
        "select status from meta.coverage where collection = 'user_mailbox_settings' order by checked_at desc limit 1"
    )
    assert status == "ok"


def test_over_privileged_principals_equal_the_planted_ones(demo_run: DemoRun) -> None:
    found = sorted(demo_run.query("select principal_id, reason from marts.fct_over_privileged_principals"))
    expected = sorted((row["principal_id"], row["reason"]) for row in demo_run.truth.over_privileged)
    assert found == expected
    assert {reason for _, reason in expected} == set(OVER_PRIVILEGED_REASONS)  # each reason planted at least once


def test_every_head_count_equals_ground_truth_by_path(demo_run: DemoRun) -> None:
    """fct_privileged_head_counts against the generator's own paths: each head-count, per principal type and path
    kind, with groups expanded to their members and owners on paths of their own, never among the holders."""
    found = {
        (name, kind, path): (principals, is_holder)
        for name, kind, path, principals, is_holder in demo_run.query(
            "select head_count, principal_type, path_kind, principals, is_holder_path "
            "from marts.fct_privileged_head_counts"
        )
    }
    expected = {
        (h["head_count"], h["principal_type"], h["path_kind"]): h["principals"] for h in demo_run.truth.head_counts
    }
    assert {key: principals for key, (principals, _) in found.items()} == expected
    assert all(is_holder == ("owner" not in path) for (_, _, path), (_, is_holder) in found.items())
    # The tenant's tier-0 PIM for Groups design is there to be counted: Global Administrators through eligible
    # and active group membership, an app that is a member of that group, and owners reported apart.
    global_admin_paths = {(kind, path) for name, kind, path in expected if name == "global_admins"}
    assert {
        ("user", "pim_group_member_eligible"),
        ("user", "pim_group_member_active"),
        ("service_principal", "group_member"),
        ("user", "pim_group_owner_active"),
    } <= global_admin_paths
    metrics = demo_run.truth.metrics
    for name, metric in (("global_admins", "global_admins"), ("privileged_principals", "privileged_principals")):
        assert (
            sum(count for (head, _, path), count in expected.items() if head == name and path == "any")
            == (metrics[metric])
        )


def test_rollout_head_counts_equal_ground_truth_by_department_and_path(demo_run: DemoRun) -> None:
    """fct_privileged_access_daily on the run's one day: access rows as they are, principals as the head-count
    (groups expanded, owners apart, users and apps apart), per department and path."""
    columns = [column for column in demo_run.truth.rollout[0] if column != "department"]
    rows = demo_run.query(f"select department, {', '.join(columns)} from marts.fct_privileged_access_daily")
    found = {department: dict(zip(columns, counts, strict=True)) for department, *counts in rows}
    expected = {row["department"]: {column: row[column] for column in columns} for row in demo_run.truth.rollout}
    assert found == expected
    assert (
        sum(row["privileged_principals"] for row in expected.values())
        == demo_run.truth.metrics["privileged_principals"]
    )


def test_a_role_the_design_raises_to_tier0_counts_in_standing_access_and_review_coverage(demo_run: DemoRun) -> None:
    """Exchange Administrator: not privileged to Microsoft, tier 0 in the tenant's design. It is privileged in every
    count: its standing access rows are in standing_privileged_access, and it has a review coverage row."""
    exchange = "29232cdf-9323-42fd-ade2-1d097af3e4de"
    [(flag, tier, source, is_privileged)] = demo_run.query(
        "select is_privileged_microsoft, tier, tier_source, is_privileged from marts.dim_role_classification "
        f"where role_definition_id = '{exchange}'"
    )
    assert (flag, tier, source, is_privileged) == (False, "tier0", "design_override", True)
    [(standing_on_exchange, standing_on_flagged)] = demo_run.query(
        f"""select
            count(*) filter (where access.role_definition_id = '{exchange}'),
            count(*) filter (where roles.is_privileged_microsoft)
        from marts.fct_role_access as access
        inner join marts.dim_roles as roles using (tenant_id, role_definition_id)
        where access.is_standing"""
    )
    assert standing_on_exchange >= 1  # the generator plants standing Exchange Administrator access in every tenant
    [(standing,)] = demo_run.query(
        "select metric_value from marts.fct_headline_metrics where metric_name = 'standing_privileged_access'"
    )
    assert (
        standing == standing_on_flagged + standing_on_exchange == demo_run.truth.metrics["standing_privileged_access"]
    )
    # One coverage row, for a role somebody holds: reviewed or not, the role is judged.
    assert demo_run.query(
        f"select has_privileged_access from marts.fct_access_review_coverage where role_definition_id = '{exchange}'"
    ) == [(True,)]
    [(without_review,)] = demo_run.query(
        "select metric_value from marts.fct_headline_metrics "
        "where metric_name = 'privileged_roles_without_access_review'"
    )
    [(uncovered,)] = demo_run.query(
        "select count(*) from marts.fct_access_review_coverage where has_privileged_access and not is_reviewed"
    )
    assert without_review == uncovered == demo_run.truth.metrics["privileged_roles_without_access_review"]


def test_compliance_failures_equal_the_planted_ones(demo_run: DemoRun) -> None:
    found = sorted(
        demo_run.query(
            "select role_definition_id, compliance_rule from marts.fct_role_compliance where is_failure order by 1, 2"
        )
    )
    expected = sorted((f["role_definition_id"], f["rule"]) for f in demo_run.truth.compliance_failures)
    assert found == expected
    assert {rule for _, rule in expected} == {
        "approval_required",
        "min_approvers",
        "mfa_on_activation",
        "justification_required",
        "ticket_required",
        "max_activation",
        "permanent_eligibility_allowed",
        "min_activation_notification_recipients",
    }


def test_per_principal_monthly_activations_add_up_to_every_request(demo_run: DemoRun) -> None:
    [(requests, principals)] = demo_run.query(
        "select sum(activation_requests), count(distinct principal_id) from marts.fct_principal_activations_monthly"
    )
    assert requests == demo_run.truth.metrics["activation_requests"] and principals > 1


def test_access_reviews_records_of_approvals_are_read_and_fold_into_the_requests_they_name(demo_run: DemoRun) -> None:
    """Access Reviews' `Create request` / `Request approved` / `Request denied` land with PIM's rows (one Graph
    filter) and each names a request PIM logged; the headline metrics above show none is counted twice."""
    [(records, kinds, unfolded, approvals)] = demo_run.query(
        """
        select
            count(*),
            count(distinct audits.activity_display_name),
            count(*) filter (where requests.request_id is null),
            count(distinct audits.request_id) filter (where audits.activity_display_name = 'Request approved')
        from staging.stg_graph__directory_audits as audits
        left join marts.fct_activation_requests as requests
            on audits.tenant_id = requests.tenant_id and audits.request_id = requests.request_id
        where audits.logged_by_service = 'Access Reviews'
        """
    )
    assert records > 0 and kinds == 3 and unfolded == 0
    [(approved,)] = demo_run.query(
        "select count(*) from marts.fct_activation_requests where approval_decision = 'approved'"
    )
    assert approvals == approved


def test_role_ids_the_catalogue_lacks_are_kept_as_unknown_roles_and_counted(demo_run: DemoRun) -> None:
    """Most generated tenants hold an eligibility on a deleted custom role: the build keeps it as "unknown role <id>"
    and counts it in fct_unreadable_inputs, as the ground truth (which leaves it out of every count) says."""
    found = {
        check: (total, not_understood)
        for check, total, not_understood in demo_run.query(
            "select quality_check, rows_total, rows_not_understood from marts.fct_unreadable_inputs"
        )
    }
    assert {check: found[check] for check in demo_run.truth.unreadable_inputs} == demo_run.truth.unreadable_inputs
    unknown = demo_run.query("select role_definition_id, role_name from marts.dim_roles where is_unknown_role")
    assert len(unknown) == demo_run.truth.unreadable_inputs["unknown_role_ids"][1]
    assert all(name == f"unknown role {role_id}" for role_id, name in unknown)


def test_every_mart_and_every_mart_column_is_documented_and_every_mart_has_a_tested_key(demo_run: DemoRun) -> None:
    """docs/metrics.md promises dbt docs for every mart column; the manifest is where dbt keeps them."""
    manifest = json.loads((paths.DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    marts = {
        node["unique_id"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    }
    # model_checks (dbt_project/tests/generic) holds each model's key, fill and value checks in one test node.
    keyed = {
        test["attached_node"]
        for test in manifest["nodes"].values()
        if test["resource_type"] == "test"
        and test.get("test_metadata", {}).get("name") == "model_checks"
        and (test["test_metadata"]["kwargs"].get("unique") or test["test_metadata"]["kwargs"].get("unique_per_tenant"))
    }
    gaps = []
    for unique_id, node in marts.items():
        columns = {
            name
            for (name,) in demo_run.query(
                f"select column_name from information_schema.columns "
                f"where table_schema = 'marts' and table_name = '{node['alias']}'"
            )
        }
        documented = {name for name, column in node["columns"].items() if column.get("description")}
        gaps += [f"{node['name']}.{column}: no description" for column in sorted(columns - documented)]
        if not node.get("description"):
            gaps.append(f"{node['name']}: no description")
        if unique_id not in keyed:
            gaps.append(f"{node['name']}: no unique test on a key")
    assert marts and not gaps, gaps


def test_the_power_bi_project_validates_offline_and_every_measure_twin_equals_its_mart(demo_run: DemoRun) -> None:
    """The export's Power BI project passes every offline check, and each measure's DuckDB twin, run as the export
    ships it (measures.sql over the Parquet files), equals the headline metric or the query over the marts the
    specification names; the headline ones equal the generator's ground truth too."""
    exports = demo_run.warehouse.parent / "exports"
    assert project_problems(exports) == []
    model = load_model(paths.DBT_PROJECT_DIR / "target" / "manifest.json")
    with duckdb.connect() as con:
        con.execute(f"set file_search_path = '{exports}'")
        *views, select = [s for s in (exports / "measures.sql").read_text(encoding="utf-8").split(";\n") if s.strip()]
        for view in views:
            con.execute(view)
        twins = dict(con.execute(select).fetchall())
    assert set(twins) == {measure.name for measure in model.measures}
    truth = demo_run.truth.metrics
    mismatches = []
    for measure in model.measures:
        if "headline" in measure.equals:
            expected = truth[measure.equals["headline"]]
        else:
            [(expected,)] = demo_run.query(measure.equals["sql"])
        if expected is None or twins[measure.name] != pytest.approx(expected, rel=1e-9):
            mismatches.append((measure.name, twins[measure.name], expected))
    assert mismatches == []
    # The demo plants every kind of finding: no measure is blank, and the counts are not all trivially zero.
    assert sum(1 for value in twins.values() if value) >= len(twins) - 2
    # The date table: whole years without a gap, ISO weeks, fiscal years from July (the default).
    [(days, span, first, last)] = demo_run.query(
        "select count(*), max(calendar_date) - min(calendar_date) + 1, min(calendar_date), max(calendar_date) "
        "from marts.dim_date_v1"
    )
    assert days == span and (first.month, first.day, last.month, last.day) == (1, 1, 12, 31)
    weeks = demo_run.query(
        "select calendar_date::varchar, iso_year_week, fiscal_year, fiscal_quarter, fiscal_week from marts.dim_date_v1 "
        "where calendar_date in ('2025-12-29', '2026-06-30', '2026-07-01', '2026-07-08') order by 1"
    )
    assert weeks == [
        ("2025-12-29", "2026-W01", 2026, 2, 26),
        ("2026-06-30", "2026-W27", 2026, 4, 53),
        ("2026-07-01", "2026-W27", 2027, 1, 1),
        ("2026-07-08", "2026-W28", 2027, 1, 2),
    ]


def analyst_queries() -> list[str]:
    """The two one-query answers of docs/metrics.md, in the order the document gives them."""
    text = (paths.REPO_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    section = text.split("## Two questions, one query each", 1)[1]
    return [block.split("```", 1)[0] for block in section.split("```sql")[1:]]


def test_the_documented_analyst_queries_answer_on_the_demo_warehouse(demo_run: DemoRun) -> None:
    standing_removed, tier0_without_approval = analyst_queries()
    [(tenant_id, _, at_baseline, _, now, removed)] = demo_run.query(standing_removed)
    metrics = demo_run.truth.metrics
    # One run, one snapshot: nothing removed yet, and "now" is today's standing access.
    assert (tenant_id, at_baseline, now, removed) == (
        demo_run.truth.tenant_id,
        metrics["standing_privileged_access"],
        metrics["standing_privileged_access"],
        0,
    )
    roles = demo_run.query(tier0_without_approval)
    assert len(roles) == metrics["tier0_roles_without_approval"] >= 1


def test_rerunning_changes_no_history_and_no_metric(tmp_path: Path, serve_tenant, run_pipeline) -> None:
    truth = generate_tenant(tmp_path / "tenant", size="S", seed=7, as_of=AS_OF)
    emulator = serve_tenant(tmp_path / "tenant")
    design = tmp_path / "tenant" / "design.yaml"
    first = run_pipeline(emulator, design=design)
    with duckdb.connect(str(first.warehouse), read_only=True) as con:
        audits_after_first = con.execute("select count(*), count(distinct id) from raw.directory_audits").fetchone()
        alerts_after_first = con.execute("select alert_id, first_seen_at from marts.fct_alerts order by 1").fetchall()
    second = run_pipeline(emulator, design=design)
    with duckdb.connect(str(second.warehouse), read_only=True) as con:
        assert con.execute("select count(*), count(distinct id) from raw.directory_audits").fetchone() == (
            audits_after_first
        )
        # Snapshots are history: two runs, two dated snapshots of each state collection.
        assert con.execute("select count(*) from meta.loads where collection = 'users'").fetchone()[0] == 2
        # Alerts are raised once: the second run (incremental) keeps every id and its first-seen time.
        assert con.execute("select alert_id, first_seen_at from marts.fct_alerts order by 1").fetchall() == (
            alerts_after_first
        )
    assert second.metrics(truth.tenant_id) == truth.metrics


def test_privileged_sign_ins_equal_ground_truth_and_keep_only_privileged_users(demo_run: DemoRun) -> None:
    """Stale privileged accounts and activations made from a new country, network or device, against the
    generator's own sign-in events; the marts keep the sign-ins of privileged users only."""
    surfaces = demo_run.truth.surfaces
    stale = [
        user
        for (user,) in demo_run.query(
            "select user_id from marts.fct_privileged_account_sign_ins where is_stale order by 1"
        )
    ]
    assert stale == surfaces["stale_privileged_accounts"] and stale
    contexts = demo_run.query(
        "select request_id, is_new_country, is_new_ip_range, is_new_device from marts.fct_activation_sign_in_context "
        "where is_from_new_context order by request_id"
    )
    expected = [
        (row["request_id"], row["new_country"], row["new_ip_range"], row["new_device"])
        for row in surfaces["activation_sign_in_contexts"]
    ]
    assert contexts == expected
    assert {any(row[i] for row in expected) for i in (1, 2, 3)} == {True}  # each kind of novelty planted
    [(kept, read, outside)] = demo_run.query(
        """select
            (select count(*) from marts.fct_privileged_sign_ins),
            (select count(*) from staging.stg_loganalytics__signin_logs),
            (select count(*) from marts.fct_privileged_sign_ins as sign_ins
             where sign_ins.user_id not in (
                select principal_id from marts.fct_effective_privilege where is_privileged_role and is_holder
                union select principal_id from marts.fct_activation_requests where is_privileged_role))"""
    )
    assert 0 < kept < read and outside == 0
    [(break_glass,)] = demo_run.query("select count(*) from marts.fct_privileged_sign_ins where is_break_glass")
    assert break_glass >= demo_run.truth.metrics["break_glass_sign_ins"] >= 1


def test_application_risk_equals_ground_truth(demo_run: DemoRun) -> None:
    """One risk row per app registration, its level as the generator's own holdings, owners, credentials and
    grants make it; owners of tier-0 apps and high-privilege delegated grants are there to be seen."""
    found = demo_run.query("select application_id, risk_level from marts.fct_application_risk order by 1")
    expected = [(row["application_id"], row["risk_level"]) for row in demo_run.truth.surfaces["application_risk"]]
    assert found == expected
    assert {"critical", "high", "medium"} <= {level for _, level in expected}
    [(scopes,)] = demo_run.query(
        "select list(distinct scope_name order by scope_name) from marts.fct_high_privilege_delegated_grants"
    )
    assert scopes == ["Application.ReadWrite.All", "Directory.AccessAsUser.All"]


def test_microsoft_pim_alerts_agree_with_pimlens_as_ground_truth_says(demo_run: DemoRun) -> None:
    """Each kind of Microsoft PIM alert beside pimlens' detection of the same kind: findings on each side and on
    both, as the generator's own alert incidents and its truth of pimlens' detections give them."""
    found = demo_run.query(
        "select alert_kind, microsoft_findings, pimlens_findings, both_findings from marts.fct_pim_alert_agreement "
        "where is_known order by 1"
    )
    expected = sorted(
        (row["alert_kind"], row["microsoft"], row["pimlens"], row["both"])
        for row in demo_run.truth.surfaces["pim_alert_agreement"]
    )
    assert found == expected
    [(incidents, found_by_pimlens)] = demo_run.query(
        "select count(*), count(*) filter (where is_found_by_pimlens) from marts.fct_pim_alert_incidents"
    )
    assert incidents > found_by_pimlens > 0


def test_controls_coverage_equals_ground_truth(demo_run: DemoRun) -> None:
    """Enforced MFA by Conditional Access for each active privileged user, and the break-glass checks, as the
    generator's own policies reach its users: one tier-1 role left out of the MFA policy, one break-glass account
    still targeted."""
    found = demo_run.query("select control, user_id, is_met from marts.fct_controls_coverage order by 1, 2")
    expected = [(row["control"], row["user_id"], row["is_met"]) for row in demo_run.truth.surfaces["controls"]]
    assert found == expected
    assert {control for control, _, met in expected if not met} == {
        "conditional_access_mfa",
        "break_glass_excluded_from_conditional_access",
    }
