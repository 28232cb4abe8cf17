"""The ``pimlens`` command: generate a demo tenant, serve it, run the demo, print metrics, open the UI."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from pipelines.lib import paths
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV, ConfigError
from pipelines.lib.design import DESIGN_ENV


def _as_of(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--as-of wants an ISO date such as 2026-11-01, got {text!r}") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class UsageError(Exception):
    """A mistake of the user's (a path, an argument); the message names what to fix. ``main`` prints it in one
    line and exits 2."""


def _existing(database: Path, what: str) -> Path:
    if not database.is_file():
        raise UsageError(
            f"no {what} at {database}: run `pimlens run` (or `make demo`) first, or point --warehouse at one"
        )
    return database


def _user_error(error: Exception) -> str | None:
    """The one-line message for an error the user can fix, None for a bug (whose traceback is then shown)."""
    import duckdb

    from pipelines.lib.design import DesignError
    from pipelines.lib.warehouse.locks import WarehouseLocked, lock_holder

    if isinstance(error, UsageError | ConfigError | DesignError | WarehouseLocked):
        return str(error)
    if isinstance(error, duckdb.IOException) and (holder := lock_holder(str(error))):
        return (
            f"the database is locked by {holder}: wait for that run to finish, or close that process's "
            "connection (analysts and BI tools open the analytics file, never the warehouse)"
        )
    if isinstance(error, PermissionError):
        return f"{error.filename}: permission denied: run pimlens as a user who may read and write it"
    return None


def cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.demo_tenant import generate_tenant

    truth = generate_tenant(args.out, size=args.size, seed=args.seed, as_of=args.as_of)
    print(f"Wrote a size-{args.size} tenant (seed {args.seed}, as of {args.as_of:%Y-%m-%d}) to {args.out}")
    print(f"Ground truth: {args.out / 'ground_truth.json'} ({len(truth.metrics)} metrics)")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from pipelines.lib.config import load_config
    from pipelines.lib.recording import record_tenant

    config = load_config(args.config)
    tenant = config.tenant_named(args.tenant) if args.tenant else None
    if tenant is None:
        if len(config.tenants) != 1:
            print(f"{args.config} lists {list(config.tenant_names)}: name one with --tenant.", file=sys.stderr)
            return 2
        (tenant,) = config.tenants
    pseudonymiser = config.pseudonymiser()
    if pseudonymiser is None:
        print(
            f"{args.config} has no pseudonymise option: a recording leaves the tenant, so add "
            "`pseudonymise: {key_env: VARIABLE}` and set that variable to a key.",
            file=sys.stderr,
        )
        return 2
    if args.out.exists():
        print(f"{args.out} already exists: record into a new folder.", file=sys.stderr)
        return 2
    recording = record_tenant(tenant, args.out, pseudonymiser, design=args.design)
    print(f"Recorded tenant {tenant.name}: {recording.objects} objects in {recording.files} files, in {args.out}")
    for collection, status in sorted(recording.not_covered.items()):
        print(f"  not recorded: {collection} ({status})")
    return 0


def cmd_emulate(args: argparse.Namespace) -> int:
    from pipelines.emulator import EmulatorOptions, TenantFormatError, start_emulator

    options = EmulatorOptions(enforce_rate_limits=not args.no_rate_limits)
    try:
        emulator = start_emulator(args.tenant, state_dir=args.state_dir, port=args.port, options=options)
    except TenantFormatError as error:
        print(f"pimlens emulate: {error}", file=sys.stderr)
        return 2
    ready = {
        "url": emulator.url,
        "ca_file": str(emulator.ca_file),
        "tenant_id": emulator.tenant_id,
        "client_id": options.client_id,
        "client_secret": options.client_secret,
    }
    # Written last and atomically: its presence tells a waiting process the emulator is listening.
    ready_file = args.state_dir / "emulator.json"
    ready_file.with_suffix(".tmp").write_text(json.dumps(ready, indent=2), encoding="utf-8")
    ready_file.with_suffix(".tmp").replace(ready_file)
    print(f"Serving {args.tenant} at {emulator.url} (CA: {emulator.ca_file}); Ctrl-C stops.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        ready_file.unlink(missing_ok=True)
    return 0


def _demo_inputs_changed(ground_truth: Path, last_seen: Path) -> bool:
    """Whether the demo tenant just generated, or the dbt project that models it, differs from what the demo
    warehouse was built from; remembers them.

    The generator is deterministic, so equal ground truth means an equal tenant. The project's sources count too:
    an incremental model whose columns changed cannot take the old warehouse's rows (docs: "Upgrading pimlens").
    """
    current = ground_truth.read_bytes() + b"\n" + _dbt_sources_digest().encode()
    changed = not last_seen.exists() or last_seen.read_bytes() != current
    last_seen.parent.mkdir(parents=True, exist_ok=True)
    last_seen.write_bytes(current)
    return changed


def _dbt_sources_digest() -> str:
    digest = hashlib.sha256()
    for folder in ("models", "macros", "seeds", "tests"):
        for source in sorted((paths.DBT_PROJECT_DIR / folder).rglob("*")):
            if source.is_file():
                digest.update(source.relative_to(paths.DBT_PROJECT_DIR).as_posix().encode() + b"\0")
                digest.update(source.read_bytes())
    return digest.hexdigest()


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.demo_tenant import generate_tenant
    from pipelines.lib.demo_session import (
        emulator_process,
        pipeline_environment,
        run_refresh_job,
        tenant_subscriptions,
        write_demo_config,
    )
    from pipelines.lib.quality.gate import data_docs_index
    from pipelines.lib.report import report_files, reports_folder
    from pipelines.lib.run_summary import format_value
    from pipelines.lib.warehouse.metrics import compare_with_truth, read_headline_metrics
    from pipelines.lib.warehouse.publish import analytics_path
    from pipelines.lib.warehouse.trend import compare_trend_with_truth, read_access_trend

    tenant_dir = paths.DEMO_TENANT_DIR
    truth = generate_tenant(tenant_dir, size=args.size, seed=args.seed, as_of=args.as_of)
    print(f"Generated a size-{args.size} demo tenant (seed {args.seed}) in {tenant_dir}")
    warehouse = paths.VAR_DIR / "warehouse.duckdb"
    if args.fresh or _demo_inputs_changed(tenant_dir / "ground_truth.json", paths.VAR_DIR / "demo" / "tenant.json"):
        # A different demo tenant (another seed, size or day, or a newer generator) is another reality: the
        # history kept from the old one would mix with it. A newer dbt project may not fit the old derived tables.
        # Either way the demo's warehouse starts empty.
        for leftover in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
            leftover.unlink(missing_ok=True)
    with emulator_process(tenant_dir, paths.EMULATOR_STATE_DIR) as emulator:
        print(f"Emulator listening at {emulator.url}")
        # The tenant is frozen at --as-of, so the run evaluates every window and verdict at that instant too.
        config_file = write_demo_config(
            paths.VAR_DIR / "demo" / "pimlens.yaml",
            emulator,
            as_of=args.as_of.isoformat(),
            azure_subscriptions=tenant_subscriptions(tenant_dir),
        )
        run_log = paths.VAR_DIR / "demo" / "dagster-run.log"
        print(f"Running ingest_tenant, then transform_warehouse, in Dagster (log: {run_log}) ...", flush=True)
        environment = pipeline_environment(config_file, warehouse, emulator, tenant_dir / "design.yaml")
        run_refresh_job(environment, run_log)
    analytics = analytics_path(warehouse)
    measured = read_headline_metrics(analytics).get(truth.tenant_id, {})
    rows = compare_with_truth(measured, truth.metrics)
    # The daily trend, rebuilt before the first snapshot from the audit log, day by day against the true state.
    trend = compare_trend_with_truth(
        read_access_trend(analytics, truth.tenant_id), truth.daily_trend, args.as_of.astimezone(UTC).date()
    )
    equal_days = trend.compared - len(trend.mismatched)
    rows.append(("access_trend_days_equal_to_truth", equal_days, trend.compared, trend.matches))
    print()
    print(f"{'metric':40} {'warehouse':>14} {'ground truth':>14}  match")
    for name, actual, expected, same in rows:
        print(f"{name:40} {format_value(actual):>14} {format_value(expected):>14}  {'yes' if same else 'NO'}")
    print()
    print(
        f"Standing vs eligible trend (marts.fct_access_trend_daily): {trend.days} days, {trend.reconstructed} rebuilt "
        f"from the audit log back to {trend.covered_from}; every day equal to ground truth: "
        f"{'yes' if trend.matches else 'NO (' + ', '.join(map(str, trend.mismatched[:5])) + ')'}"
    )
    print()
    print(f"Analytics database (the marts, republished after every run; open it, never the warehouse): {analytics}")
    # The columns an analyst reads first, every row: `from` the whole mart cuts metric_value off on a terminal.
    query = "select metric_name, metric_value, is_known from marts.fct_headline_metrics order by all"
    show = f"duckdb.connect('{analytics}', read_only=True).sql('{query}').show(max_rows=100)"
    print(f'  .venv/bin/python -c "import duckdb; {show}"')
    print(f"Power BI export (Parquet): {warehouse.parent / 'exports'}")
    print(f"Power BI project (docs/powerbi.md): {warehouse.parent / 'exports' / 'pimlens.pbip'}")
    print(f"Great Expectations Data Docs (every validation of every run): {data_docs_index(warehouse).as_uri()}")
    print("dbt docs (every source, model and column described): make docs   (then open http://127.0.0.1:8080)")
    print("Dagster UI on the same data: make ui   (then open http://127.0.0.1:3000)")
    print("Stakeholder report (docs/report.md), rewritten after every run; open it in a browser:")
    for page in report_files(reports_folder(warehouse)):
        print(f"  {page.as_uri()}")
    _print_demo_deliveries(config_file, warehouse, environment)
    return 0 if all(same for *_, same in rows) else 1


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.lib.config import AS_OF_ENV, load_config
    from pipelines.lib.demo_session import log_tail, pipeline_environment, run_refresh
    from pipelines.lib.design import load_design
    from pipelines.lib.report import reports_folder
    from pipelines.lib.run_summary import describe, published_metrics, summarise
    from pipelines.lib.warehouse.publish import analytics_path

    config = load_config(args.config)
    tenants = [config.tenant_named(args.tenant)] if args.tenant else list(config.tenants)
    load_design(args.design)
    if not (paths.DBT_PROJECT_DIR / "target" / "manifest.json").is_file():
        raise UsageError("the dbt project is not parsed yet: run `make dbt_project/target/manifest.json` first")
    warehouse = args.warehouse.resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    analytics = analytics_path(warehouse)
    before = published_metrics(analytics)
    started = datetime.now(UTC)
    env = pipeline_environment(args.config.resolve(), warehouse, None, args.design.resolve())
    if args.as_of is not None:
        env[AS_OF_ENV] = args.as_of.isoformat()
    log_dir = warehouse.parent / "logs"
    stem = log_dir / f"run-{started:%Y%m%dT%H%M%SZ}"
    log_file, result_file = stem.with_suffix(".log"), stem.with_suffix(".json")
    refresh_args = ("--result", str(result_file), *(("--tenant", args.tenant) if args.tenant else ()))
    names = ", ".join(tenant.name for tenant in tenants)
    print(f"Refreshing {names}: ingest_tenant per tenant, then transform_warehouse (Dagster's log: {log_file}) ...")
    sys.stdout.flush()
    code = run_refresh(env, log_file, refresh_args)
    if not result_file.is_file():
        print(
            f"pimlens run: the refresh stopped before any run (exit code {code}); the end of {log_file}:",
            file=sys.stderr,
        )
        print(log_tail(log_file, 20), file=sys.stderr)
        return 1
    runs = json.loads(result_file.read_text(encoding="utf-8"))
    after = published_metrics(analytics)
    summaries = summarise(warehouse, started, {tenant.name: tenant.tenant_id for tenant in tenants}, before, after)
    transform = {True: "succeeded", False: "FAILED", None: "not started (no tenant ingested)"}[runs["transform"]]
    for summary in summaries:
        ingest = "succeeded" if runs["ingests"].get(summary.name) else "FAILED"
        print(f"tenant {summary.name} ({summary.tenant_id}): ingest {ingest}, transform {transform}")
        print("\n".join(describe(summary)))
    failed = code != 0 or any(summary.held for summary in summaries)
    if code != 0:
        print(f"A run failed: its steps are in {log_file} and in the Dagster UI.", file=sys.stderr)
    print(f"Analytics database: {analytics}")
    if (index := reports_folder(warehouse) / "index.html").is_file():
        print(f"Stakeholder report: {index}")
    return 1 if failed else 0


def cmd_ui(args: argparse.Namespace) -> int:
    from pipelines.lib.demo_session import (
        emulator_process,
        pipeline_environment,
        tenant_as_of,
        tenant_subscriptions,
        write_demo_config,
    )
    from pipelines.lib.process_group import run_in_own_group

    if not (paths.DEMO_TENANT_DIR / "tenant.json").exists():
        print("No demo tenant yet: run `make demo` first.", file=sys.stderr)
        return 2
    warehouse = paths.VAR_DIR / "warehouse.duckdb"
    dagster = str(Path(sys.executable).with_name("dagster"))
    with emulator_process(paths.DEMO_TENANT_DIR, paths.EMULATOR_STATE_DIR) as emulator:
        config_file = write_demo_config(
            paths.VAR_DIR / "demo" / "pimlens.yaml",
            emulator,
            as_of=tenant_as_of(paths.DEMO_TENANT_DIR),
            azure_subscriptions=tenant_subscriptions(paths.DEMO_TENANT_DIR),
        )
        env = pipeline_environment(config_file, warehouse, emulator, paths.DEMO_TENANT_DIR / "design.yaml")
        command = [dagster, "dev", "-m", "pipelines.definitions", "--host", "127.0.0.1", "--port", str(args.port)]
        # Ctrl-C or a SIGTERM reaches every process dagster dev started, and none outlives it.
        result = run_in_own_group(command, env=env, cwd=paths.REPO_ROOT)
        return 0 if result.stopped_by is not None else result.returncode


def cmd_metrics(args: argparse.Namespace) -> int:
    import duckdb

    from pipelines.lib.run_summary import format_value
    from pipelines.lib.warehouse.metrics import read_headline_metrics

    try:
        published = read_headline_metrics(_existing(args.warehouse, "analytics database"))
    except duckdb.CatalogException:
        raise UsageError(
            f"{args.warehouse} holds no marts.fct_headline_metrics: point --warehouse at the analytics database a "
            "run publishes (var/analytics.duckdb by default)"
        ) from None
    for tenant_id, metrics in published.items():
        print(f"tenant {tenant_id}")
        for name, value in metrics.items():
            print(f"  {name:40} {format_value(value):>14}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.lib.report import NotAnAnalyticsDatabase, reports_folder, write_reports

    analytics = _existing(args.warehouse, "analytics database")
    try:
        written = write_reports(analytics, args.out or reports_folder(analytics))
    except NotAnAnalyticsDatabase as error:
        raise UsageError(
            f"{analytics} is not an analytics database ({error}): point --warehouse at the file a run publishes "
            "(var/analytics.duckdb by default)"
        ) from None
    print(f"Wrote the report of {len(written) - 1} tenants; open the index in a browser:")
    for page in written:
        print(f"  {page.as_uri()}")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from pipelines.lib.config import load_config
    from pipelines.lib.ingest import ingest_all
    from pipelines.lib.progress import writing_to
    from pipelines.lib.progress_view import showing_progress

    config = load_config(args.config)
    args.warehouse.parent.mkdir(parents=True, exist_ok=True)
    progress_file = args.warehouse.with_name(args.warehouse.name + ".extract.progress.jsonl")
    progress_file.unlink(missing_ok=True)
    with writing_to(progress_file), showing_progress(progress_file):
        reports = ingest_all(config.tenants, args.warehouse)
    progress_file.unlink(missing_ok=True)
    print()
    for report in reports:
        rows = report.loaded.rows_inserted if report.loaded else 0
        print(f"{report.spec.table:40} {report.status:10} {report.extracted.rows:>9} read {rows:>9} new")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from pipelines.lib.config import load_config
    from pipelines.lib.design import load_design

    config = load_config(args.config)
    print(f"configuration {args.config}: valid")
    for tenant in config.tenants:
        credential = f"{tenant.identity}, {tenant.cloud.name} cloud"
        workspace = tenant.log_analytics_workspace_id or "none (AuditLogs and SigninLogs beyond 30 days not read)"
        print(f"  tenant {tenant.name} ({tenant.tenant_id}): {credential}, Graph at {tenant.graph_url}")
        print(f"    Log Analytics workspace: {workspace}; Azure subscriptions: {len(tenant.azure_subscriptions)}")
    print(f"  evaluated at: {config.as_of.isoformat() if config.as_of else 'the start of each run'}")
    print(f"  pseudonymised publication: {'yes' if config.pseudonym_key else 'no'}")
    design = load_design(args.design)
    print(f"design {args.design}: valid")
    print(f"  tiers {', '.join(design.tiers)}; {len(design.role_tiers)} roles tiered")
    print(f"  {len(design.break_glass_accounts)} break-glass accounts; {len(design.waves)} rollout waves")
    print("Nothing was contacted: `pimlens doctor` checks credentials and permissions against the tenant.")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from pipelines.lib.config import load_config
    from pipelines.lib.doctor import check_tenant, findings_as_json

    config = load_config(args.config)
    checked = [(tenant, check_tenant(tenant)) for tenant in config.tenants]
    if args.json:
        print(json.dumps([findings_as_json(tenant, findings) for tenant, findings in checked], indent=2))
    for tenant, findings in [] if args.json else checked:
        print(f"tenant {tenant.name} ({tenant.tenant_id}) at {tenant.graph_url}")
        for finding in findings:
            print(f"  {finding.status:14} {finding.collection:40} {finding.detail}")
    return 0 if all(finding.ok for _, findings in checked for finding in findings) else 1


def cmd_release_load(args: argparse.Namespace) -> int:
    import duckdb

    from pipelines.lib.warehouse.schema import ensure_meta
    from pipelines.lib.warehouse.verdicts import UnknownLoad, release_load

    with duckdb.connect(str(_existing(args.warehouse, "warehouse"))) as con:
        ensure_meta(con)
        try:
            gates = release_load(con, args.load_id, args.reason)
        except UnknownLoad as error:
            print(f"pimlens release-load: {error}", file=sys.stderr)
            return 2
    print(f"Released load {args.load_id} ({gates} gate verdicts overridden, logged in meta.gate_verdicts): the next")
    print("transform builds the marts with it.")
    return 0


def cmd_reread_events(args: argparse.Namespace) -> int:
    import duckdb

    from pipelines.lib.warehouse.rereads import reread_set_aside_events
    from pipelines.lib.warehouse.schema import ensure_meta

    with duckdb.connect(str(args.warehouse)) as con:
        ensure_meta(con)
        rereads = reread_set_aside_events(con, args.reason)
    if not rereads:
        print("Every event set aside has landed since: nothing to read again.")
    for reread in rereads:
        since = reread.window_start.isoformat() if reread.window_start else "the start of its history"
        print(
            f"tenant {reread.tenant_id}: the next ingest reads {reread.collection} again from {since} "
            f"({reread.missing_events} events set aside are still missing; logged in meta.rereads)"
        )
    return 0


def cmd_alerts_ack(args: argparse.Namespace) -> int:
    import duckdb

    from pipelines.lib.alerting.store import acknowledge, open_store, state_path
    from pipelines.lib.warehouse.publish import analytics_path

    analytics = _existing(analytics_path(args.warehouse), "analytics database")
    with duckdb.connect(str(analytics), read_only=True) as con:
        found = con.execute(
            "select alert_kind, status, alert_rule from marts.fct_alerts where alert_id = ?", [args.alert_id]
        ).fetchone()
    if found is None:
        raise UsageError(f"no alert {args.alert_id} in {analytics}: copy the id from marts.fct_alerts or a message")
    kind, status, rule = found
    if kind != "event":
        raise UsageError(
            f"alert {args.alert_id} ({rule}) is a state alert: it resolves when its condition clears, or suppress "
            "its rule and principal in the design's alerts.suppressions"
        )
    with open_store(state_path(args.warehouse)) as con:
        when = acknowledge(con, args.alert_id, args.by, args.note)
    print(f"Acknowledged {rule} alert {args.alert_id} ({status}) at {when} by {args.by}: the next transform closes it.")
    return 0


def cmd_alerts_deliver(args: argparse.Namespace) -> int:
    from pipelines.lib.alerting.delivery import deliver, dry_run
    from pipelines.lib.alerting.store import state_path
    from pipelines.lib.config import load_config
    from pipelines.lib.warehouse.publish import analytics_path

    config = load_config(args.config)
    analytics = _existing(analytics_path(args.warehouse), "analytics database")
    if args.dry_run:
        for line in dry_run(config, analytics, state_path(args.warehouse)) or ["no alerts to deliver"]:
            print(line)
        return 0
    report = deliver(config, analytics, state_path(args.warehouse))
    print(f"planned {report.queued} messages; sent {report.sent or 'none'}")
    for channel, error in report.failed.items():
        print(f"channel {channel} failed (retried after a backoff): {error}", file=sys.stderr)
    return 1 if report.failed else 0


def _print_demo_deliveries(config_file: Path, warehouse: Path, environment: dict[str, str]) -> None:
    """The end of `make demo`: the deliveries a first delivery pass would make, from the published alerts."""
    from pipelines.lib.alerting.delivery import dry_run
    from pipelines.lib.alerting.store import state_path
    from pipelines.lib.config import load_config
    from pipelines.lib.warehouse.publish import analytics_path

    config = load_config(config_file, environment)
    print("Alert deliveries a first pass would make (dry run; route them with alert_channels, docs/alerts.md):")
    for line in dry_run(config, analytics_path(warehouse), state_path(warehouse)) or ["no alerts to deliver"]:
        print(f"  {line}")


SIZE_HELP = "S, M or L: how many users, roles and events the tenant has"
SEED_HELP = "the generator's seed: the same seed, size and --as-of give the same tenant"
DESIGN_HELP = f"the programme design (default: ${DESIGN_ENV}, else design/default.yaml)"
CONFIG_HELP = f"the pimlens configuration file (default: ${CONFIG_ENV}, else pimlens.yaml)"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pimlens")
    except PackageNotFoundError:
        return "(not installed: run `make env`)"


def _design_default() -> Path:
    return Path(os.environ.get(DESIGN_ENV) or paths.DEFAULT_DESIGN_FILE)


def _config_default() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or "pimlens.yaml")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pimlens", description=__doc__)
    parser.add_argument("--version", action="version", version=f"pimlens {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    tenant = commands.add_parser("tenant", help="demo tenants and recordings of real ones").add_subparsers(
        dest="tenant_command", required=True
    )
    generate = tenant.add_parser("generate", help="write a seeded demo tenant directory with its ground truth")
    generate.add_argument("--size", choices=["S", "M", "L"], default="S", help=SIZE_HELP)
    generate.add_argument("--seed", type=int, default=7, help=SEED_HELP)
    generate.add_argument("--as-of", type=_as_of, default=_today(), help="the instant the tenant is frozen at")
    generate.add_argument("--out", type=Path, required=True, help="the tenant directory to write")
    generate.set_defaults(handler=cmd_generate)

    record = tenant.add_parser(
        "record", help="read a configured tenant and write it, pseudonymised, as a tenant directory the emulator serves"
    )
    record.add_argument("--config", type=Path, default=_config_default(), help=CONFIG_HELP)
    record.add_argument("--tenant", help="the tenant's name in the configuration (needed when it lists several)")
    record.add_argument("--out", type=Path, required=True, help="a new folder for the recording")
    record.add_argument("--design", type=Path, help="a programme design to include, its break-glass UPNs pseudonymised")
    record.set_defaults(handler=cmd_record)

    emulate = commands.add_parser("emulate", help="serve a tenant directory as Graph and Log Analytics over HTTPS")
    emulate.add_argument("--tenant", type=Path, required=True, help="the tenant directory to serve")
    emulate.add_argument("--port", type=int, default=0, help="0 picks a free port")
    emulate.add_argument("--state-dir", type=Path, default=paths.EMULATOR_STATE_DIR, help="where the CA is kept")
    emulate.add_argument("--no-rate-limits", action="store_true", help="do not enforce Graph's documented limits")
    emulate.set_defaults(handler=cmd_emulate)

    demo = commands.add_parser("demo", help="generate, serve and extract the demo tenant, then compare metrics")
    demo.add_argument("--size", choices=["S", "M", "L"], default="S", help=SIZE_HELP)
    demo.add_argument("--seed", type=int, default=7, help=SEED_HELP)
    demo.add_argument(
        "--as-of",
        type=_as_of,
        default=_today(),
        help="the instant the tenant is frozen at and every window and verdict is evaluated at",
    )
    demo.add_argument("--fresh", action="store_true", help="start from an empty warehouse")
    demo.set_defaults(handler=cmd_demo)

    run = commands.add_parser(
        "run", help="refresh every configured tenant end to end, as the schedule does, and summarise each"
    )
    run.add_argument("--config", type=Path, default=_config_default(), help=CONFIG_HELP)
    run.add_argument(
        "--tenant",
        help="refresh only this tenant (its name in the configuration); the transform still builds every tenant",
    )
    run.add_argument(
        "--as-of",
        type=_as_of,
        help="evaluate every window and verdict at this instant (a replay or backfill) instead of the run's start",
    )
    run.add_argument(
        "--warehouse",
        type=Path,
        default=Path(os.environ.get(WAREHOUSE_ENV) or paths.VAR_DIR / "warehouse.duckdb"),
        help=f"the warehouse file the pipeline writes (default: ${WAREHOUSE_ENV}, else var/warehouse.duckdb); "
        "the analytics database and the export are written beside it",
    )
    run.add_argument(
        "--design",
        type=Path,
        default=_design_default(),
        help=DESIGN_HELP,
    )
    run.set_defaults(handler=cmd_run)

    ui = commands.add_parser("ui", help="the Dagster UI on the demo warehouse, with the emulator running")
    ui.add_argument("--port", type=int, default=3000, help="the port of the UI on 127.0.0.1")
    ui.set_defaults(handler=cmd_ui)

    extract = commands.add_parser("extract", help="land every collection of every tenant, without Dagster or dbt")
    extract.add_argument("--config", type=Path, default=_config_default(), help=CONFIG_HELP)
    extract.add_argument(
        "--warehouse", type=Path, default=paths.VAR_DIR / "warehouse.duckdb", help="the warehouse file to land in"
    )
    extract.set_defaults(handler=cmd_extract)

    check = commands.add_parser(
        "check", help="validate the configuration and the programme design offline, contacting nothing"
    )
    check.add_argument("--config", type=Path, default=_config_default(), help=CONFIG_HELP)
    check.add_argument("--design", type=Path, default=_design_default(), help=DESIGN_HELP)
    check.set_defaults(handler=cmd_check)

    doctor = commands.add_parser("doctor", help="check configuration, credentials and permissions of each tenant")
    doctor.add_argument("--config", type=Path, default=_config_default(), help=CONFIG_HELP)
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON, one object per tenant")
    doctor.set_defaults(handler=cmd_doctor)

    metrics = commands.add_parser("metrics", help="print the headline metrics of the analytics database")
    metrics.add_argument(
        "--warehouse",
        type=Path,
        default=paths.VAR_DIR / "analytics.duckdb",
        help="the analytics database the pipeline publishes (or a warehouse, which a running refresh may lock)",
    )
    metrics.set_defaults(handler=cmd_metrics)

    report = commands.add_parser(
        "report", help="write the stakeholder report: one self-contained HTML page per tenant and an index"
    )
    report.add_argument(
        "--warehouse",
        type=Path,
        default=paths.VAR_DIR / "analytics.duckdb",
        help="the analytics database the pipeline publishes (read-only; never the warehouse a run writes)",
    )
    report.add_argument("--out", type=Path, help="the folder to write (default: reports/ beside the database)")
    report.set_defaults(handler=cmd_report)

    release = commands.add_parser("release-load", help="let a load a raw gate held into the marts, with a reason")
    release.add_argument("load_id", help="the held load (the raw check's message and meta.gate_verdicts name it)")
    release.add_argument("--reason", required=True, help="why it may be read; kept in meta.gate_verdicts")
    release.add_argument(
        "--warehouse", type=Path, default=paths.VAR_DIR / "warehouse.duckdb", help="the warehouse that holds the load"
    )
    release.set_defaults(handler=cmd_release_load)

    reread = commands.add_parser(
        "reread-events", help="once the source is fixed, read again the event windows whose events were set aside"
    )
    reread.add_argument("--reason", required=True, help="why they may be read now; kept in meta.rereads")
    reread.add_argument(
        "--warehouse", type=Path, default=paths.VAR_DIR / "warehouse.duckdb", help="the warehouse to read them into"
    )
    reread.set_defaults(handler=cmd_reread_events)

    alerts = commands.add_parser("alerts", help="acknowledge alerts, deliver them now").add_subparsers(
        dest="alerts_command", required=True
    )
    warehouse_help = "the warehouse; its analytics database and alert state store are beside it"
    ack = alerts.add_parser("ack", help="acknowledge an event alert: the next transform closes it")
    ack.add_argument("alert_id", help="the alert's id (marts.fct_alerts, or any message about it)")
    ack.add_argument("--by", required=True, help="who acknowledges it, kept with the alert")
    ack.add_argument("--note", help="why, kept with the acknowledgement")
    ack.add_argument("--warehouse", type=Path, default=paths.VAR_DIR / "warehouse.duckdb", help=warehouse_help)
    ack.set_defaults(handler=cmd_alerts_ack)
    deliver = alerts.add_parser("deliver", help="one delivery pass now, as the deliver_alerts sensor makes each minute")
    deliver.add_argument("--config", type=Path, default=_config_default(), help=CONFIG_HELP)
    deliver.add_argument("--warehouse", type=Path, default=paths.VAR_DIR / "warehouse.duckdb", help=warehouse_help)
    deliver.add_argument("--dry-run", action="store_true", help="say what would be sent, send and record nothing")
    deliver.set_defaults(handler=cmd_alerts_deliver)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.umask(0o027)  # what pimlens writes is for its owner and group only
    try:
        return args.handler(args)
    except BrokenPipeError:
        # The reader went away (`pimlens metrics | head`): nothing more to say, and nowhere to say it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:
        message = _user_error(error)
        if message is None:
            raise
        command = " ".join(
            filter(None, (args.command, getattr(args, "tenant_command", None), getattr(args, "alerts_command", None)))
        )
        print(f"pimlens {command}: {' '.join(message.split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
