"""Transformation benchmark: a full `dbt build` on synthetic raw tables, then a daily run with 1 % new data.

    python -m bench.transform.run [--requests 1000000,10000000] [--threads 2] [--write-docs]

Per size: raw tables written straight with DuckDB SQL (no Graph, no emulator): a year of PIM activation
requests in the audit-event shapes of docs/audit-events.md (about 3.4 events per request), nine in ten in
working hours, 1 user per 20 requests, 43 built-in roles with their PIM policies, eligibilities and
assignments. The events are in both copies a first extraction lands: the Log Analytics workspace's (the year) and
Graph's (its last 30 days; later loads land in both); then

0. the audit events of both copies typed as landing types them (pipelines/lib/warehouse/typed_events.py: one
   thread, the landing pool), timed on its own: a real deployment pays it once per load, in extraction, not in dbt;
1. `dbt build --full-refresh` (every model, seed and test), timed, with the child's peak RSS (os.wait4);
2. a daily run: 1 % more requests in a new audit load and a new snapshot of each state collection, then
   `dbt build` again (the incremental models only take what is new), timed the same way.

Targets (issue #4): full build <= 30 s at 1M and <= 120 s at 10M on 2 cores, daily run <= 15 s, peak <= 3 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import yaml

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.clock import DAY, HOUR, from_datetime
from pipelines.demo_tenant.model import RolePolicy
from pipelines.demo_tenant.wire import policy_rules
from pipelines.demo_tenant.write import GRAPH_AUDIT_RETENTION
from pipelines.lib.dbt_child import OWN_TARGET_PREFIX
from pipelines.lib.dbt_commands import SCHEDULED_BUILD, as_of_arguments
from pipelines.lib.design import load_design
from pipelines.lib.paths import DBT_PROJECT_DIR, DEFAULT_DESIGN_FILE, REPO_ROOT, VAR_DIR
from pipelines.lib.warehouse.design_tables import write_design
from pipelines.lib.warehouse.landing import connect_for_landing
from pipelines.lib.warehouse.schema import ensure_meta, ensure_raw_table
from pipelines.lib.warehouse.typed_events import TYPED_TABLES, type_load

BENCH_DIR = VAR_DIR / "bench" / "transform"
TENANT = "b3c0ffee-0000-4000-8000-0000000bench"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
# What Graph serves of the audit log (the generator's own figure); the workspace keeps the year.
GRAPH_RETENTION = timedelta(milliseconds=GRAPH_AUDIT_RETENTION)
SNAPSHOTS = (
    "role_definitions",
    "role_assignments",
    "role_assignment_schedule_instances",
    "role_eligibility_schedule_instances",
    "role_management_policy_assignments",
    "users",
)


@dataclass
class BuildRun:
    wall_s: float
    cpu_s: float  # user + system time of dbt: comparable across runs even when other work shares the cores
    peak_rss_mb: float
    exit_code: int


def raw_tables() -> list[str]:
    """Every collection's raw table a dbt source names, so the project builds whatever collections it reads.

    The typed companions of event tables are not collections: landing writes them (typed_events.py)."""
    sources = yaml.safe_load((DBT_PROJECT_DIR / "models/staging/graph/_graph__sources.yml").read_text())
    raw = next(s for s in sources["sources"] if s["name"] == "raw")
    return [t["name"] for t in raw["tables"] if t["name"] not in TYPED_TABLES]


def _load(con: duckdb.DuckDBPyConnection, collection: str, load_id: str, at: datetime, rows: int) -> None:
    con.execute(
        "insert into meta.loads values (?, ?, ?, 'snapshot', ?, ?, ?, ?, 1, 0, 0, null, 'bench')",
        [load_id, TENANT, collection, at, at, rows, rows],
    )


def build_raw(path: Path, requests: int) -> float:
    """The synthetic warehouse: state collections, a year of audit events, coverage and the design.

    Returns the seconds that typing the audit events took (typed_events.py: landing does it, once per load)."""
    path.unlink(missing_ok=True)
    users = max(requests // 20, 1_000)
    eligibilities = users * 2
    as_of = from_datetime(AS_OF)
    with duckdb.connect(str(path)) as con:
        ensure_meta(con)
        for table in raw_tables():
            ensure_raw_table(con, table)
        write_design(con, load_design(DEFAULT_DESIGN_FILE))
        loaded = datetime(2026, 11, 1, 5, tzinfo=UTC)
        roles = list(catalog.BUILT_IN_ROLES)
        con.execute("create temp table roles (n integer, id varchar, name varchar, privileged boolean, tier integer)")
        con.executemany(
            "insert into roles values (?, ?, ?, ?, ?)",
            [(n, r.template_id, r.name, r.is_privileged, r.tier) for n, r in enumerate(roles)],
        )
        con.execute(
            """insert into raw.role_definitions (tenant_id, load_id, loaded_at, id, record)
            select ?, 'load-roles-1', ?, id, json_object('id', id, 'displayName', name, 'templateId', id,
                'isBuiltIn', true, 'isEnabled', true, 'isPrivileged', privileged) from roles""",
            [TENANT, loaded],
        )
        for role in roles:
            policy = RolePolicy(
                id=f"DirectoryRole_{TENANT}_{role.template_id}",
                role_id=role.template_id,
                approval_required=role.tier == 0,
                approver_ids=(),
                mfa_on_activation=True,
                authentication_context=None,
                justification_on_activation=True,
                ticketing_on_activation=False,
                max_activation=8 * HOUR,
                eligibility_expiration_required=True,
                max_eligibility=365 * DAY,
                active_expiration_required=False,
                max_active=180 * DAY,
                mfa_on_active_assignment=False,
                activation_alert_recipients=(),
                last_modified_at=as_of,
                last_modified_by="",
            )
            record = {
                "id": f"{policy.id}_{role.template_id}",
                "policyId": policy.id,
                "scopeId": "/",
                "scopeType": "DirectoryRole",
                "roleDefinitionId": role.template_id,
                "policy": {"id": policy.id, "rules": policy_rules(policy, {})},
            }
            con.execute(
                "insert into raw.role_management_policy_assignments (tenant_id, load_id, loaded_at, id, record) "
                "values (?, 'load-policies-1', ?, ?, ?)",
                [TENANT, loaded, record["id"], json.dumps(record)],
            )
        con.execute(
            """insert into raw.users (tenant_id, load_id, loaded_at, id, record)
            select ?, 'load-users-1', ?, 'u-' || i,
                json_object('id', 'u-' || i, 'displayName', 'User ' || i,
                    'userPrincipalName', 'user' || i || '@bench.test',
                    'userType', case when i % 97 = 0 then 'Guest' else 'Member' end,
                    'department', 'Dept ' || (i % 12), 'usageLocation', 'NL', 'accountEnabled', true)
            from range(?) t(i)""",
            [TENANT, loaded, users],
        )
        con.execute(
            """insert into raw.role_eligibility_schedule_instances (tenant_id, load_id, loaded_at, id, record)
            select ?, 'load-elig-1', ?, 'e-' || i,
                json_object('id', 'e-' || i, 'principalId', 'u-' || (i % ?), 'roleDefinitionId',
                    (select id from roles where n = i % 43), 'directoryScopeId', '/', 'memberType', 'Direct',
                    'startDateTime', '2025-06-01T00:00:00.000Z', 'endDateTime', null)
            from range(?) t(i)""",
            [TENANT, loaded, users, eligibilities],
        )
        con.execute(
            """insert into raw.role_assignment_schedule_instances (tenant_id, load_id, loaded_at, id, record)
            select ?, 'load-asg-1', ?, 'a-' || i,
                json_object('id', 'a-' || i, 'principalId', 'u-' || (i * 7 % ?), 'roleDefinitionId',
                    (select id from roles where n = i % 43), 'directoryScopeId', '/', 'assignmentType', 'Assigned',
                    'memberType', 'Direct', 'roleAssignmentOriginId', 'a-' || i,
                    'startDateTime', '2025-01-01T00:00:00.000Z', 'endDateTime', null)
            from range(?) t(i)""",
            [TENANT, loaded, users, users // 20],
        )
        con.execute(
            """insert into raw.role_assignments (tenant_id, load_id, loaded_at, id, record)
            select ?, 'load-ra-1', ?, 'a-' || i,
                json_object('id', 'a-' || i, 'principalId', 'u-' || (i * 7 % ?), 'roleDefinitionId',
                    (select id from roles where n = i % 43), 'directoryScopeId', '/')
            from range(?) t(i)""",
            [TENANT, loaded, users, users // 20 + users // 200],
        )
        for collection, load_id in (
            ("role_definitions", "load-roles-1"),
            ("role_management_policy_assignments", "load-policies-1"),
            ("users", "load-users-1"),
            ("role_eligibility_schedule_instances", "load-elig-1"),
            ("role_assignment_schedule_instances", "load-asg-1"),
            ("role_assignments", "load-ra-1"),
        ):
            _load(con, collection, load_id, loaded, 0)
        add_audits(con, 0, requests, "load-audits-1", loaded, users, eligibilities)
        copy_to_log_analytics(con, "load-audits-1", "load-la-audits-1", loaded)
        # A first extraction gets 30 days from Graph (its retention) and the year from the workspace.
        con.execute(
            "delete from raw.directory_audits where record->>'activityDateTime' < ?",
            [(AS_OF - GRAPH_RETENTION).strftime("%Y-%m-%dT%H:%M:%S")],
        )
        con.execute(
            """insert into meta.coverage
            select ?, t.name, ?, 'ok', 200, null, 'bench', 0, 0, 0, 0, null from (select unnest(?) as name) t""",
            [TENANT, loaded, raw_tables()],
        )
    return type_audits_as_landing_does(path, "load-audits-1", "load-la-audits-1")


def _working_hours(spread_ms: str) -> str:
    """SQL for when request `i` is made, from `spread_ms`, its instant (epoch ms) when requests are spread evenly.

    Nine in ten move into working hours, as people elevate at work: the same day (a weekend's to the Friday before),
    its time of day squeezed into 08:00-17:00 UTC, inside the default design's business hours (08:00-19:00 on
    weekdays) even after a tier-0 approval. One in ten keeps its instant, at any hour and day. Spread evenly, two
    in three activations fell outside business hours and raised an after-hours alert each."""
    day = f"(({spread_ms}) // 86400000)"
    weekend_days = f"greatest(({day} + 3) % 7 - 4, 0)"  # 1970-01-01 was a Thursday: Saturday 1, Sunday 2
    seconds_into_day = f"((({spread_ms}) % 86400000) // 1000)"
    working_ms = f"(({day} - {weekend_days}) * 86400000 + (8 * 3600 + {seconds_into_day} * 9 // 24) * 1000)"
    return f"make_timestamptz(1000 * (case when i % 10 = 0 then {spread_ms} else {working_ms} end))"


def add_audits(
    con: duckdb.DuckDBPyConnection, first: int, count: int, load_id: str, loaded: datetime, users: int, eligible: int
) -> None:
    """`count` activation requests numbered from `first`, spread through the year (_working_hours), as audit events:
    requested, approval asked and decided (tier-0 roles), completed and ran out.

    Landing types them as well; see type_audits_as_landing_does."""
    start = datetime(2025, 11, 1, tzinfo=UTC)
    spacing = 365 * 86_400 / 1_000_000  # a million requests a year, whatever the size: later ones keep going
    spread_ms = f"epoch_ms(timestamptz '{start.isoformat()}') + cast(i * {spacing} * 1000 as bigint)"
    con.execute(
        f"""insert into raw.directory_audits (tenant_id, load_id, loaded_at, id, record)
        with requests as (
            select
                i,
                'r-' || i as request_id,
                'u-' || ((i % ?) % ?) as principal_id,
                roles.id as role_id,
                roles.tier = 0 as needs_approval,
                i % 40 = 0 as denied,
                {_working_hours(spread_ms)} as requested_at
            from range(?, ?) t(i)
            inner join roles on roles.n = (i % ?) % 43
        ),
        lifecycles as (
            select
                requests.*,
                unnest([
                {{'step': 'req', 'activity': 'Add member to role requested (PIM activation)', 'offset_s': 0,
                  'keep': true}},
                {{'step': 'ask', 'activity': 'Add member to role approval requested (PIM activation)', 'offset_s': 1,
                  'keep': needs_approval}},
                {{'step': 'dec', 'activity': case when denied then 'Add member to role request denied (PIM activation)'
                    else 'Add member to role request approved (PIM activation)' end,
                  'offset_s': 600 + i % 3600, 'keep': needs_approval}},
                {{'step': 'act', 'activity': 'Add member to role completed (PIM activation)',
                  'offset_s': case when needs_approval then 4200 else 5 end, 'keep': not (needs_approval and denied)}},
                {{'step': 'end', 'activity': 'Remove member from role (PIM activation expired)',
                  'offset_s': 8 * 3600 + 4200, 'keep': not (needs_approval and denied)}}
                ]) as ev
            from requests
        ),
        events as (
            select
                lifecycles.*,
                ev.step as step,
                ev.activity as activity,
                ev.offset_s as offset_s
            from lifecycles
            where ev.keep
        )
        select
            ?, ?, ?, 'PIM_' || request_id || '_' || step,
            json_object(
                'id', 'PIM_' || request_id || '_' || step,
                'category', 'RoleManagement',
                'correlationId', request_id,
                'result', 'success',
                'resultReason', 'CHG' || (i % 9999) || ' - routine change',
                'loggedByService', 'PIM',
                'activityDisplayName', activity,
                'activityDateTime', strftime(requested_at + to_seconds(offset_s), '%Y-%m-%dT%H:%M:%S.%gZ'),
                'initiatedBy', json_object('user', json_object('id', principal_id), 'app', null),
                'targetResources', json_array(
                    json_object('id', role_id, 'type', 'Role'),
                    json_object('id', request_id, 'type', 'Request'),
                    json_object('id', principal_id, 'type', 'User')
                ),
                'additionalDetails', json_array(
                    json_object('key', 'RoleAssignmentRequestId', 'value', request_id),
                    json_object('key', 'Justification', 'value', 'CHG' || (i % 9999) || ' - routine change')
                )
            )
        from events""",
        [eligible, users, first, first + count, eligible, TENANT, load_id, loaded],
    )
    _load(con, "directory_audits", load_id, loaded, count)


def copy_to_log_analytics(con: duckdb.DuckDBPyConnection, graph_load_id: str, load_id: str, loaded: datetime) -> None:
    """The workspace's copy of one Graph audit load, in AuditLogs' columns (dynamic ones as JSON text, as the query
    API sends them): the same events, which the marts read once (int_audit_events_unioned)."""
    con.execute(
        """insert into raw.la_audit_logs (tenant_id, load_id, loaded_at, id, record)
        select tenant_id, ?, ?, id, json_object(
            'TimeGenerated', record->>'activityDateTime',
            'Id', id,
            'OperationName', record->>'activityDisplayName',
            'ActivityDisplayName', record->>'activityDisplayName',
            'ActivityDateTime', record->>'activityDateTime',
            'Category', record->>'category',
            'CorrelationId', record->>'correlationId',
            'LoggedByService', record->>'loggedByService',
            'Result', record->>'result',
            'ResultReason', record->>'resultReason',
            'InitiatedBy', (record->'initiatedBy')::varchar,
            'TargetResources', (record->'targetResources')::varchar,
            'AdditionalDetails', (record->'additionalDetails')::varchar
        )
        from raw.directory_audits where load_id = ?""",
        [load_id, loaded, graph_load_id],
    )
    [(rows,)] = con.execute("select count(*) from raw.la_audit_logs where load_id = ?", [load_id]).fetchall()
    _load(con, "la_audit_logs", load_id, loaded, rows)


def type_audits_as_landing_does(path: Path, graph_load_id: str, log_analytics_load_id: str) -> float:
    """Types one audit load of each copy as landing does (one thread, its small pool); returns the seconds it took.

    Landing types a load in the transaction that inserts it (typed_events.py); the synthetic rows are written
    first, in a connection of default settings, so the typing is timed on its own here."""
    started = time.perf_counter()
    with connect_for_landing(path) as con:
        for table, load_id in (("directory_audits", graph_load_id), ("la_audit_logs", log_analytics_load_id)):
            con.execute("begin transaction")
            type_load(con, table, load_id)
            con.execute("commit")
    return time.perf_counter() - started


def daily_increment(path: Path, requests: int, day: int = 2) -> tuple[int, float]:
    """`day` - 1 days later: 1 % new requests (numbered after the `requests` already there) in a new audit load,
    and a new snapshot of each state collection. Returns the new requests and the seconds typing their events took."""
    new = max(requests // 100, 1)
    users = max(requests // 20, 1_000)
    loaded = datetime(2026, 11, day, 5, tzinfo=UTC)
    with duckdb.connect(str(path)) as con:
        con.execute("create temp table roles (n integer, id varchar, name varchar, privileged boolean, tier integer)")
        con.executemany(
            "insert into roles values (?, ?, ?, ?, ?)",
            [(n, r.template_id, r.name, r.is_privileged, r.tier) for n, r in enumerate(catalog.BUILT_IN_ROLES)],
        )
        add_audits(con, requests, new, f"load-audits-{day}", loaded, users, users * 2)
        copy_to_log_analytics(con, f"load-audits-{day}", f"load-la-audits-{day}", loaded)
        for collection in SNAPSHOTS:
            load_id = f"load-{collection}-{day}"
            con.execute(
                f"""insert into raw.{collection} (tenant_id, load_id, loaded_at, id, record)
                select tenant_id, ?, ?, id, record from raw.{collection}
                where load_id = (select max(load_id) from meta.loads where collection = ?)""",
                [load_id, loaded, collection],
            )
            _load(con, collection, load_id, loaded, 0)
    return new, type_audits_as_landing_does(path, f"load-audits-{day}", f"load-la-audits-{day}")


def dbt_build(warehouse: Path, *, full_refresh: bool, threads: int) -> BuildRun:
    command = [str(Path(sys.executable).with_name("pimlens-dbt")), *SCHEDULED_BUILD, "--quiet"]
    # Evaluated at the synthetic data's own instant, as the pipeline evaluates a tenant at its as_of.
    command += [*as_of_arguments(AS_OF), "--threads", str(threads)] + (["--full-refresh"] if full_refresh else [])
    env = dict(os.environ, PIMLENS_WAREHOUSE=str(warehouse), PIMLENS_DUCKDB_MEMORY_LIMIT="2GB")
    # dbt is started from the small launcher of the extraction benchmark: spawned straight from this process, whose
    # synthetic 10M warehouse took 8 GB, dbt's ru_maxrss started at this process's peak (bench/extract/launch.py).
    result_file = BENCH_DIR / "launch.json"
    launch = [sys.executable, "-m", "bench.extract.launch", str(result_file), "--", *command]
    subprocess.run(launch, cwd=DBT_PROJECT_DIR, env=env, check=False)
    child = json.loads(result_file.read_text(encoding="utf-8"))
    # pimlens-dbt gives each build a target folder of its own (dbt_child.py): the newest is this build's.
    folders = (DBT_PROJECT_DIR / "target").glob(f"{OWN_TARGET_PREFIX}*")
    results = max(folders, key=lambda folder: folder.stat().st_mtime) / "run_results.json"
    print_slowest_nodes(results)
    # Kept for a closer look at where the time went (the build folders are pruned).
    if results.exists():
        kind = "full" if full_refresh else "daily"
        (BENCH_DIR / f"run_results-{kind}.json").write_bytes(results.read_bytes())
    return BuildRun(child["wall_s"], child["user_s"] + child["system_s"], child["peak_rss_mb"], child["exit_code"])


def print_slowest_nodes(run_results: Path, count: int = 8) -> None:
    """Where the build's time went, from dbt's run_results.json (to the console, not the docs table)."""
    if not run_results.exists():
        return
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    slowest = sorted(results, key=lambda result: result["execution_time"], reverse=True)[:count]
    print("  slowest:", ", ".join(f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f}s" for r in slowest))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", default="1000000", help="comma-separated activation-request counts")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--days", type=int, default=1, help="daily runs after the full build, one snapshot each")
    parser.add_argument("--write-docs", action="store_true", help="replace the section in docs/benchmarks.md")
    args = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    lines = []
    for requests in (int(n) for n in args.requests.split(",")):
        warehouse = BENCH_DIR / f"warehouse-{requests}.duckdb"
        started = time.perf_counter()
        typing_s = build_raw(warehouse, requests)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            events = con.execute("select count(*) from raw.la_audit_logs").fetchone()[0]
        synth = time.perf_counter() - started - typing_s
        full = dbt_build(warehouse, full_refresh=True, threads=args.threads)
        held = requests
        for day in range(2, 2 + args.days):
            # Each day: 1 % more requests in a new audit load and one more snapshot of every state collection, so
            # the later days show whether a daily build grows with the history kept.
            new, daily_typing_s = daily_increment(warehouse, held, day=day)
            held += new
            daily = dbt_build(warehouse, full_refresh=False, threads=args.threads)
            with duckdb.connect(str(warehouse), read_only=True) as con:
                built = con.execute("select count(*) from marts.fct_activation_requests").fetchone()[0]
            exit_codes = "ok" if full.exit_code == daily.exit_code == 0 else f"exit {full.exit_code}/{daily.exit_code}"
            first_columns = (
                f"| {requests:,} | {events:,} | {synth:.1f} | {typing_s:.1f} | {full.wall_s:.1f} | {full.cpu_s:.1f} "
                f"| {full.peak_rss_mb:,.0f} "
                if day == 2
                else f"| {requests:,}, day {day} ({day} snapshots) | | | | | | "
            )
            line = (
                f"{first_columns}| {new:,} | {daily_typing_s:.1f} | {daily.wall_s:.1f} | {daily.cpu_s:.1f} "
                f"| {daily.peak_rss_mb:,.0f} "
                f"| {daily.wall_s / full.wall_s:.2f} | {built:,} | {exit_codes} |"
            )
            print(line, flush=True)
            lines.append(line)
    if args.write_docs:
        write_docs(lines, args)
    return 0


TABLE_HEADER = (
    "| requests | audit events | synth s | typed at landing s | full s | full CPU s | full peak MB | new requests "
    "| new typed at landing s | daily s | daily CPU s | daily peak MB | daily / full | fct_activation_requests rows "
    "| exit |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def write_docs(lines: list[str], args: argparse.Namespace) -> None:
    docs = REPO_ROOT / "docs" / "benchmarks.md"
    text = docs.read_text(encoding="utf-8") if docs.exists() else "# Benchmarks\n"
    head = "## Transformation (`bench/transform`)"
    before = text.split(head, 1)[0].rstrip() + "\n\n"
    after = text.split(head, 1)[1] if head in text else ""
    after = ("\n## " + after.split("\n## ", 1)[1]) if "\n## " in after else ""
    section = (
        f"""{head}

`.venv/bin/python -m bench.transform.run --requests {args.requests} --threads {args.threads} --days {args.days}`
({os.cpu_count()} cores here, DuckDB memory limit 2 GB, measured {datetime.now(UTC):%Y-%m-%d}). Synthetic raw tables
written with DuckDB SQL; full = `dbt build --full-refresh` (all models, seeds, tests and unit tests), daily = 1 %
more requests in a new audit load plus a new snapshot of each state collection, then `dbt build`. Peak RSS is
the dbt child's (os.wait4). Targets: full <= 30 s at 1M, <= 120 s at 10M; daily <= 15 s; peak <= 3 GB.

{TABLE_HEADER}
"""
        + "\n".join(lines)
        + "\n"
    )
    docs.write_text(before + section + after, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
