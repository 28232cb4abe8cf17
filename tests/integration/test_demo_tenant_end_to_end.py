"""The whole path on generated tenants: every headline metric, the alert set and the compliance-failure set
must equal the generator's ground truth, on three seeds of size S and one of size M."""

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.demo_tenant.advice_truth import ADVICE_KINDS
from pipelines.demo_tenant.over_privileged import REASONS as OVER_PRIVILEGED_REASONS
from pipelines.lib import paths
from pipelines.lib.alerting.store import acknowledge, open_store, state_path
from pipelines.lib.design import ALERT_RULES
from pipelines.lib.graph.collections import COLLECTIONS
from pipelines.lib.powerbi.spec import load_model
from pipelines.lib.progress_view import ProgressBoard
from pipelines.lib.warehouse.metrics import read_headline_metrics
from pipelines.lib.warehouse.publish import TableDocs, mart_docs
from tests.dbt_docs import load_manifest, undeclared
from tests.powerbi_validation import project_problems
from tests.shared_tenant import tenant_id

from .conftest import GENERATED_AS_OF, SHARED_TENANT, generated_run, run_refresh
from .conftest import GeneratedRun as DemoRun

pytestmark = pytest.mark.slow

AS_OF = GENERATED_AS_OF
# The largest first: it is the suite's longest piece of work. Each tenant is a unit of work of its own for
# `pytest -n` (tests/conftest.py), so that both workers run tenants.
TENANTS = [("M", 7), ("S", 7), ("S", 11), ("S", 23)]
# The tenant whose run is run again on a copy of its warehouse (the rerun test below).
RERUN_TENANT = ("S", 7)


@pytest.fixture(scope="module", params=TENANTS, ids=[tenant_id(size, seed) for size, seed in TENANTS])
def demo_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """One generated tenant and one real pipeline run against it, shared by every assertion below (the shared
    tenant's run is also read by other modules)."""
    size, seed = request.param
    if (size, seed) == SHARED_TENANT:
        yield request.getfixturevalue("shared_tenant_run")
        return
    yield from generated_run(tmp_path_factory.mktemp(f"{size}-{seed}"), size, seed)


def test_the_run_succeeds(demo_run: DemoRun) -> None:
    assert demo_run.success


def test_headline_metrics_equal_ground_truth(demo_run: DemoRun) -> None:
    assert read_headline_metrics(demo_run.warehouse)[demo_run.truth.tenant_id] == demo_run.truth.metrics


def test_alerts_equal_the_planted_ones(demo_run: DemoRun) -> None:
    found = Counter(demo_run.query("select alert_rule, principal_id, role_definition_id from marts.fct_alerts"))
    expected = Counter((a["rule"], a["principal_id"], a["role_definition_id"]) for a in demo_run.truth.alerts)
    assert found == expected
    assert {rule for rule, *_ in expected} == set(ALERT_RULES)  # each kind planted at least once


def test_alerts_start_their_lifecycle_at_the_first_run(demo_run: DemoRun) -> None:
    """A first run over a year of history: every state alert is open since this run; an event alert is open only
    while younger than the design's max age (7 days), older ones are closed by age at event + 7 days."""
    rows = demo_run.query(
        f"""select alert_kind, status, resolution, opened_at = first_seen_at,
            resolved_at = event_at + interval 7 day, event_at + interval 7 day > timestamptz '{AS_OF.isoformat()}',
            history_started_at = timestamptz '{AS_OF.isoformat()}', is_suppressed
        from marts.fct_alerts"""
    )
    for kind, status, resolution, opened_first, resolved_aged, young, history_now, suppressed in rows:
        assert history_now and opened_first and not suppressed
        if kind == "state" or young:
            assert (status, resolution) == ("open", None)
        else:
            assert (status, resolution, resolved_aged) == ("closed", "aged", True)
    assert {kind for kind, *_ in rows} == {"state", "event"}


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


def test_a_fresh_warehouse_shows_a_year_of_access_trend_equal_to_the_true_daily_state(demo_run: DemoRun) -> None:
    """One run, yet the trend reaches back to the year's first day: the days before the snapshot are rebuilt by
    replaying the audit log (Log Analytics' copy keeps the year) backwards, each equal to the state the generator's
    model says held at the day's close (never read from the log). The tenant is frozen at AS_OF, so the days
    between it and the run hold its state."""
    rows = demo_run.query(
        """select snapshot_date, standing_access, eligible_access, activated_access, is_reconstructed,
        history_covered_from, first_snapshot_date from marts.fct_access_trend_daily order by snapshot_date"""
    )
    truth = {
        date.fromisoformat(row["date"]): (row["standing_access"], row["eligible_access"], row["activated_access"])
        for row in demo_run.truth.daily_trend
    }
    # The log begins on the day of its first event the pipeline reads (PIM and Access Reviews rows): Graph keeps
    # 30 days, so that event is in the workspace's copy.
    audits = json.loads((demo_run.tenant_dir / "loganalytics" / "AuditLogs.json").read_bytes())
    first_event = min(
        datetime.fromisoformat(a["ActivityDateTime"])
        for a in audits
        if a["LoggedByService"] in ("PIM", "Access Reviews")
    )
    first_day, as_of_day = first_event.astimezone(UTC).date(), AS_OF.date()
    assert (first_day - min(truth)).days <= 2  # the generated log starts with the year
    snapshot_day = rows[-1][0]
    assert [row[0] for row in rows if not row[4]] == [snapshot_day]  # one run, one snapshot day: today
    assert {(row[5], row[6]) for row in rows} == {(first_day, snapshot_day)}
    # Every day from the log's first to the snapshot, none before: the year and the days since AS_OF.
    assert [row[0] for row in rows] == [
        first_day + timedelta(days=n) for n in range((snapshot_day - first_day).days + 1)
    ]
    known = {day: counts for day, counts in truth.items() if day >= first_day}
    assert len([row for row in rows if row[4] and row[0] <= as_of_day]) == len(known) >= 364
    found = {row[0]: tuple(row[1:4]) for row in rows}
    assert {day: found[day] for day in known} == known
    assert {found[day] for day in found if day > as_of_day} == {truth[as_of_day]}
    # Not flat: the year's standing and eligible access changed, as the model says it did.
    assert len({counts[0] for counts in truth.values()}) > 1 and len({counts[1] for counts in truth.values()}) > 5
    # The LA copy feeds the union beside Graph's, each event once.
    [(events, distinct)] = demo_run.query(
        "select count(*), count(distinct audit_event_id) from intermediate.int_audit_events_unioned"
    )
    assert events == distinct > 0
    [(la_events,)] = demo_run.query("select count(*) from staging.stg_loganalytics__audit_logs")
    assert la_events > 0


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
            "select role_definition_id, compliance_rule from marts.fct_role_compliance "
            "where is_failure and role_system = 'entra' order by 1, 2"
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
    filter; the workspace's copy for the months Graph no longer keeps) and each names a request PIM logged; the
    headline metrics above show none is counted twice."""
    [(records, kinds, unfolded, approvals)] = demo_run.query(
        """
        select
            count(*),
            count(distinct audits.activity_display_name),
            count(*) filter (where requests.request_id is null),
            count(distinct audits.request_id) filter (where audits.activity_display_name = 'Request approved')
        from intermediate.int_audit_events_unioned as audits
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


def test_the_yaml_declares_exactly_the_columns_the_build_made_of_every_source_and_model(demo_run: DemoRun) -> None:
    """The unit tier checks that every declared column is described; only a build says which columns there are: a
    column added to a model's select, or one the YAML still describes after it was dropped, shows here."""
    built = demo_run.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() order by table_schema, table_name, ordinal_position"
    )
    assert undeclared(load_manifest(), built) == []


def test_every_mart_description_reaches_the_warehouse_the_analytics_file_and_the_export(demo_run: DemoRun) -> None:
    """dbt persists the YAML's descriptions of the marts as DuckDB comments; publishing and exporting carry them."""
    expected = {}
    for node in load_manifest()["nodes"].values():
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts":
            expected[node["alias"]] = TableDocs(
                node["description"].strip(),
                {name: column["description"].strip() for name, column in node["columns"].items()},
            )
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        assert mart_docs(con) == expected
    with duckdb.connect(str(demo_run.warehouse.with_name("analytics.duckdb")), read_only=True) as con:
        assert mart_docs(con) == expected
    export = json.loads((demo_run.warehouse.parent / "exports" / "_manifest.json").read_text(encoding="utf-8"))
    exported = {
        table: TableDocs(entry["description"], entry["column_descriptions"])
        for table, entry in export["tables"].items()
    }
    assert exported == expected


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


def test_the_star_holds_azure_and_group_rows_beside_directory_roles_whose_keys_stay(demo_run: DemoRun) -> None:
    """The contracted star restates every role system row for row (docs/metrics.md, "Star schema"): Azure roles,
    access rows and holder paths beside the directory's, and every policy check of the compliance matrix, Azure and
    PIM for Groups included; a directory role keeps the key it had before the other systems joined the dimension."""

    def by_system(sql: str) -> dict[str, int]:
        return dict(demo_run.query(f"select role_system, count(*) from ({sql}) group by all"))

    star = {
        "roles": by_system("select role_system from marts.dim_role_v1"),
        "access": by_system("select role_system from marts.fct_star_access_v1"),
        "paths": by_system("select role_system from marts.fct_star_holder_paths_v1"),
        "checks": by_system("select role_system from marts.fct_star_role_compliance_v1"),
    }
    sources = {
        "roles": by_system(
            "select 'entra' as role_system from marts.dim_roles"
            " union all select 'azure' from intermediate.int_azure_roles_classified"
            " union all select 'pim_group' from (select distinct tenant_id, policy_scope_id, role_definition_id"
            " from marts.fct_role_compliance where role_system = 'pim_group')"
        ),
        "access": by_system(
            "select 'entra' as role_system from marts.fct_role_access"
            " union all select 'azure' from intermediate.int_azure_access_rows"
        ),
        "paths": by_system("select role_system from marts.fct_effective_privilege"),
        "checks": by_system("select role_system from marts.fct_role_compliance"),
    }
    assert star == sources
    assert set(star["roles"]) == {"entra", "azure", "pim_group"} and set(star["paths"]) == {"entra", "azure"}
    [(moved,)] = demo_run.query(
        "select count(*) from marts.dim_role_v1 where role_system = 'entra'"
        " and role_key != cast('0x' || left(md5(concat_ws('|', tenant_id, role_definition_id)), 15) as bigint)"
    )
    assert moved == 0
    # An Azure path's scope is an ARM path of its kind.
    scopes = demo_run.query(
        "select distinct scope_type, directory_scope_id from marts.fct_star_holder_paths_v1 where role_system = 'azure'"
    )
    assert {kind for kind, _ in scopes} >= {"management_group", "subscription", "resource_group", "resource"}
    assert all(scope.startswith(("/subscriptions/", "/providers/Microsoft.Management/")) for _, scope in scopes)


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


# The tenant's module run is the first run (the same fixture instance: pytest reuses it for an equal param), and a
# copy of its warehouse is refreshed again, so the module's other tests still read the first run.
@pytest.mark.parametrize("demo_run", [RERUN_TENANT], indirect=True, ids=["{}-seed{}".format(*RERUN_TENANT)])
def test_rerunning_changes_no_history_and_no_metric(demo_run: DemoRun, tmp_path: Path) -> None:
    assert demo_run.success
    audits_after_first = demo_run.query("select count(*), count(distinct id) from raw.directory_audits")[0]
    alerts_after_first = demo_run.query("select alert_id, first_seen_at from marts.fct_alerts order by 1")
    [(acknowledged,)] = demo_run.query(
        "select alert_id from marts.fct_alerts where alert_kind = 'event' and status = 'open' order by 1 limit 1"
    )
    copy = tmp_path / demo_run.warehouse.name
    shutil.copy2(demo_run.warehouse, copy)
    # An on-call admin acknowledges an open event alert before the next run (`pimlens alerts ack`).
    with open_store(state_path(copy)) as store:
        acknowledge(store, acknowledged, "Sam Admin", "seen", at=AS_OF - timedelta(hours=1))
    with pytest.MonkeyPatch.context() as env:
        second = run_refresh(demo_run.emulator, tmp_path, env, design=demo_run.tenant_dir / "design.yaml")
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
        # Nothing cleared between the runs: no alert resolved or opened again, one history.
        assert con.execute(
            "select count(*) filter (where status = 'resolved' or opened_at != first_seen_at),"
            " count(distinct history_started_at) from marts.fct_alerts"
        ).fetchone() == (0, 1)
        assert con.execute(
            "select alert_id, status, resolution, acknowledged_by_display_name from marts.fct_alerts"
            " where resolution = 'acknowledged'"
        ).fetchall() == [(acknowledged, "closed", "acknowledged", "Sam Admin")]
    assert second.metrics(demo_run.truth.tenant_id) == demo_run.truth.metrics


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPORT_ARTEFACTS = paths.VAR_DIR / "test-artefacts"


def test_the_report_opens_offline_in_a_real_browser_with_a_point_per_mart_row(
    demo_run: DemoRun, tmp_path: Path
) -> None:
    """The transform's report asset wrote the index and the tenant's page beside the warehouse. In Debian's chromium
    (one launch, on the S seed-7 tenant): the index links to the page, neither asks for anything beyond its own file
    nor logs an error, and every chart has one point per row of its mart at the chart's grain."""
    reports = demo_run.warehouse.parent / "reports"
    assert sorted(page.name for page in reports.iterdir()) == ["demo.html", "index.html"]
    if (demo_run.truth.size, demo_run.truth.seed) != ("S", 7):
        return  # one browser launch for the suite: the other tenants' pages are written, not opened
    assert CHROMIUM.is_file(), "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    tenant = demo_run.truth.tenant_id
    analytics = demo_run.warehouse.parent / "analytics.duckdb"

    def mart(sql: str) -> int:
        with duckdb.connect(str(analytics), read_only=True) as con:
            return con.execute(sql, [tenant]).fetchone()[0]

    requests: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            viewport={"width": 1100, "height": 900},
        )
        page = browser.new_page()
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto((reports / "index.html").as_uri())
        page.click("text=demo")
        page.wait_for_load_state("load")

        def points(chart: str, series: str | None = None) -> int:
            selector = f'svg[data-chart="{chart}"] .point' + (f'[data-series="{series}"]' if series else "")
            return page.locator(selector).count()

        # A year of trend on the first run: the rebuilt days and the snapshot day; the target on snapshot days only.
        days = mart("select count(*) from marts.fct_access_trend_daily where tenant_id = ?")
        snapshot_days = mart(
            "select count(distinct snapshot_date) from marts.fct_privileged_access_daily where tenant_id = ?"
        )
        assert [points("standing", s) for s in ("standing", "eligible")] == [days] * 2 and days >= 365
        assert points("standing", "target") == snapshot_days
        decided_months = mart(
            "select count(distinct requested_date_key // 100) from marts.fct_star_activation_requests_v1 "
            "where is_decided and tenant_id = ?"
        )
        assert points("approval_rate") == points("approval_latency") == decided_months >= 12  # a year of history
        activated_months = mart(
            "select count(distinct requested_date_key // 100) from marts.fct_star_activation_requests_v1 "
            "where is_activated and tenant_id = ?"
        )
        assert points("after_hours", "activations") == points("after_hours", "after_hours") == activated_months
        checks = mart(
            "select count(*) from marts.fct_star_role_compliance_v1 where role_system = 'entra' and tenant_id = ?"
        )
        assert points("compliance") == checks
        assert points("compliance", "fail") == len(demo_run.truth.compliance_failures)
        waves = mart(
            "select count(distinct coalesce(wave_name, '')) from marts.fct_star_access_daily_v1 where tenant_id = ?"
        )
        assert [points("waves", s) for s in ("baseline", "standing", "eligible")] == [waves] * 3
        instances = mart("select count(*) from marts.fct_access_review_outcomes where tenant_id = ?")
        assert points("reviews") == instances
        # Open alerts by kind: a bar per rule with an open alert, the bars' values adding up to every open alert.
        open_rules = mart(
            "select count(distinct alert_rule) from marts.fct_alerts where resolved_at is null and tenant_id = ?"
        )
        open_alerts = mart("select count(*) from marts.fct_alerts where resolved_at is null and tenant_id = ?")
        assert points("alerts") == open_rules >= 1
        bars = page.locator('svg[data-chart="alerts"] .point title').all_text_contents()
        assert sum(int(text.rsplit(": ", 1)[1].replace(",", "")) for text in bars) == open_alerts
        assert page.locator("tr.finding").count() == 10
        REPORT_ARTEFACTS.mkdir(parents=True, exist_ok=True)
        screenshot = REPORT_ARTEFACTS / "report-S-seed7.png"
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert problems == []
    assert requests == [(reports / "index.html").as_uri(), (reports / "demo.html").as_uri()]
    assert screenshot.read_bytes().startswith(b"\x89PNG")


def test_progress_reports_every_collection_the_dbt_build_and_the_export(demo_run: DemoRun) -> None:
    """What `pimlens run` and `make demo` show while the run works, checked against what the run recorded."""
    board = ProgressBoard()
    events = board.read(demo_run.warehouse.parent / "progress.jsonl")
    final = {name: event for (kind, _, name), event in board.latest.items() if kind == "collection"}
    assert set(final) == {spec.table for spec in COLLECTIONS}
    assert board.under_way() == []  # everything that started, ended
    landed = dict(demo_run.query("select collection, sum(rows_received) from meta.loads group by all"))
    assert {name: event.get("rows", 0) for name, event in final.items() if event["state"] == "done"} == {
        name: landed.get(name, 0) for name, event in final.items() if event["state"] == "done"
    }
    # The emulator throttles the audit log: each wait was reported with the instant it ends.
    waits = [event for event in events if event["state"] == "waiting"]
    assert all(event["until"] > event["at"] and event["reason"] for event in waits)
    # The seconds before the first collection are reported too, first of all.
    (setup,) = [event for (kind, _, _), event in board.latest.items() if kind == "setup"]
    assert setup["state"] == "done" and events[0]["kind"] == "setup"
    dbt = board.latest[("dbt", None, "dbt build")]
    assert dbt["state"] == "done" and dbt["done"] == dbt["total"] >= 100 and dbt["rows"] > 0
    for export in ("Parquet export", "analytics database"):
        written = board.latest[("export", None, export)]
        assert written["state"] == "done" and written["done"] == written["total"] >= 30


def test_every_privileged_surface_has_rows_in_its_new_family(demo_run: DemoRun) -> None:
    """Issue 20's families on the demo (their headline counts equal ground truth above): Azure access at every scope
    kind, through nested security groups and PIM for Groups; Azure and group policies in the compliance matrix;
    expiring access on every surface; deactivations linked to the activations they ended."""
    azure = dict(
        demo_run.query(
            "select scope_type, count(*) from marts.fct_effective_privilege where role_system = 'azure' group by 1"
        )
    )
    assert set(azure) == {"management_group", "subscription", "resource_group", "resource"}
    kinds = {
        kind
        for (kind,) in demo_run.query(
            "select distinct path_kind from marts.fct_effective_privilege where role_system = 'azure'"
        )
    }
    assert {
        "direct_eligible",
        "direct_activated",
        "direct_outside_pim",
        "group_member",
        "pim_group_member_eligible",
    } <= kinds
    # A plain security group's nested members hold its Azure role; the group itself is never a principal.
    [(nested, groups)] = demo_run.query(
        """select count(*) filter (where via_group_id in (select group_id from staging.stg_graph__groups
                where not is_assignable_to_role)),
            count(*) filter (where principal_id in (select group_id from staging.stg_graph__groups))
        from marts.fct_effective_privilege where role_system = 'azure'"""
    )
    assert nested >= 4 and groups == 0
    systems = dict(demo_run.query("select role_system, count(*) from marts.fct_role_compliance group by 1"))
    assert set(systems) == {"entra", "azure", "pim_group"}
    expiring = {system for (system,) in demo_run.query("select distinct role_system from marts.fct_expiring_access")}
    assert expiring == {"entra", "azure", "pim_group"}
    endings = dict(demo_run.query("select ended_by, count(*) from marts.fct_activation_endings group by 1"))
    assert endings["self_deactivation"] > 0 and endings["expiry"] > 0
    [(unlinked,)] = demo_run.query(
        """select count(*) from marts.fct_activation_endings
        where is_self_deactivated and not (deactivated_at > activated_at and deactivated_at <= granted_end_at)"""
    )
    assert unlinked == 0  # each deactivation ends its own activation, inside the granted window
    # Each activation judged: every verdict occurs, each failure names its first failed rule.
    verdicts = dict(demo_run.query("select verdict, count(*) from marts.fct_activation_verdicts group by 1"))
    assert set(verdicts) == {"pass", "fail", "unknown"}
    failed = {rule for (rule,) in demo_run.query("select distinct failed_rule from marts.fct_activation_verdicts")}
    assert {"approval", "ticket", "duration"} <= failed
    # Group and Azure activations with the resource each names; groups linked to what they grant.
    resources = demo_run.query(
        "select role_system, resource_id from marts.fct_resource_activations where has_activation order by all"
    )
    assert {system for system, _ in resources} == {"pim_group", "azure"}
    assert all(r.startswith("/subscriptions/") for s, r in resources if s == "azure")
    groups = {gid for (gid,) in demo_run.query("select group_id from staging.stg_graph__groups")}
    assert all(r in groups for s, r in resources if s == "pim_group")
    grants = set(demo_run.query("select role_system, is_role_assignable from marts.fct_group_role_grants"))
    assert {("entra", True), ("azure", True), ("azure", False)} <= grants


def test_intune_and_exchange_roles_equal_ground_truth(demo_run: DemoRun) -> None:
    """Intune's and Exchange's RBAC beside Entra roles: every principal, role and scope the generator assigned, every
    Intune role held through a security group expanded to its members, an app named by its /ServicePrincipals/ path
    resolved to its id. Exchange's role definitions open to no application permission: refused to the app-only run,
    their names stay unknown while the assignments are all there."""
    columns = ("role_system", "assignment_id", "principal_id", "via_group_id", "role_definition_id", "scope_id")
    found = demo_run.query(
        f"select {', '.join(columns)} from marts.fct_m365_role_assignments "
        "order by role_system, assignment_id, principal_id, scope_id"
    )
    expected = [tuple(row[c] for c in columns) for row in demo_run.truth.surfaces["m365_role_assignments"]]
    assert found == expected
    kinds = set(
        demo_run.query("select distinct role_system, path_kind, principal_type from marts.fct_m365_role_assignments")
    )
    assert {("intune", "group_member", "user"), ("exchange", "direct", "service_principal")} <= kinds
    assert {kind for _, _, kind in kinds} <= {"user", "service_principal"}
    assert {path for system, path, _ in kinds if system == "intune"} == {"group_member"}
    named = {
        system: (rows, with_name)
        for system, rows, with_name in demo_run.query(
            "select role_system, count(*), count(role_name) from marts.fct_m365_role_assignments group by all"
        )
    }
    assert named["exchange"][0] > 0 and named["exchange"][1] == 0
    assert named["intune"][0] == named["intune"][1] > 0
    [(status, http_status)] = demo_run.query(
        "select status, http_status from meta.coverage where collection = 'exchange_role_definitions' "
        "order by checked_at desc limit 1"
    )
    assert (status, http_status) == ("forbidden", 403)


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
    still targeted. The authentication context each privileged role asks for on activation, one only a report-only
    policy targets; every approver of every role needing approval, a disabled one, a deleted one and a group's
    members among them; and each user who decided a request, none of them their own."""
    found = sorted(
        (control, role or "", user or "", group or "", met)
        for control, role, user, group, met in demo_run.query(
            "select control, role_definition_id, user_id, approver_group_id, is_met from marts.fct_controls_coverage"
        )
    )
    expected = sorted(
        (
            row["control"],
            row["role_definition_id"] or "",
            row["user_id"] or "",
            row["approver_group_id"] or "",
            row["is_met"],
        )
        for row in demo_run.truth.surfaces["controls"]
    )
    assert found == expected
    assert {control for control, *_, met in expected if not met} == {
        "conditional_access_mfa",
        "break_glass_excluded_from_conditional_access",
        "activation_authentication_context",
        "approver_exists",
        "approver_enabled",
    }
    assert {control for control, *_, met in expected if met} >= {
        "activation_authentication_context",
        "approver_not_requester",
    }
    assert any(group for _, _, _, group, _ in expected)


def test_approver_load_per_month_equals_ground_truth(demo_run: DemoRun) -> None:
    """Requests each approver decided per calendar month (UTC), approved and denied, as the generator's history
    has its approvers decide them."""
    found = demo_run.query(
        "select approver_id, cast(decision_month as varchar), decided_requests, approved_requests, denied_requests "
        "from marts.fct_approver_load_monthly order by 1, 2"
    )
    expected = [
        (row["approver_id"], row["decision_month"], row["decided"], row["approved"], row["denied"])
        for row in demo_run.truth.surfaces["approver_load"]
    ]
    assert found == expected
    assert len({approver for approver, *_ in expected}) > 1 and any(denied for *_, denied in expected)


def test_administrative_unit_scoping_equals_ground_truth(demo_run: DemoRun) -> None:
    """Per privileged role held: its holder and role pairs, those held at administrative units only, and the units'
    names, as the generator scopes its regional roles."""
    found = demo_run.query(
        "select role_definition_id, holder_role_pairs, administrative_unit_pairs, administrative_unit_names "
        "from marts.fct_administrative_unit_scoping order by 1"
    )
    expected = [
        (
            row["role_definition_id"],
            row["holder_role_pairs"],
            row["administrative_unit_pairs"],
            row["administrative_unit_names"],
        )
        for row in demo_run.truth.surfaces["administrative_unit_scoping"]
    ]
    assert found == expected
    assert any(unit_pairs for _, _, unit_pairs, _ in expected)


def test_policy_advice_equals_ground_truth(demo_run: DemoRun) -> None:
    """Advice from behaviour, row by row with the numbers it rests on, against the generator's own assignments,
    eligibilities, policies and activations: every kind has rows, the planted short-activation role among them."""
    columns = (
        "advice_kind",
        "principal_id",
        "role_definition_id",
        "directory_scope_id",
        "access_state",
        "days_since_last_activation",
        "activations_considered",
        "percentile_used_seconds",
        "current_max_activation_hours",
        "advised_max_activation_hours",
        "activation_requests",
        "approval_decisions",
        "approved_decisions",
        "lesser_role_verdict",
        "lesser_role_template_id",
        "audited_tasks",
        "covered_share",
        "effect_metric_name",
        "effect_value",
    )
    found = demo_run.query(f"select {', '.join(columns)} from marts.fct_policy_advice")
    expected = [tuple(row.get(column) for column in columns) for row in demo_run.truth.surfaces["policy_advice"]]
    assert len(found) == len(set(found)) and set(found) == set(expected) and len(found) == len(expected)
    assert {row[0] for row in expected} == set(ADVICE_KINDS)
    # The planted habit: the role's holders ask for 2 hours at most, so it is advised at 2 hours or less.
    assert any(row[0] == "lower_max_activation" and row[9] <= 2 for row in expected)
    # Exchange Administrators whose directory tasks are all lesser ones: unknown, never a lesser role.
    verdicts = {row[13] for row in expected if row[0] == "lesser_role"}
    assert {"fits_one_role", "unknown"} <= verdicts
