"""Extraction benchmark: the real extractor against the emulator, end to end, with ratios from one run.

    python -m bench.extract.run [--sizes S,M,L] [--throttled-size M] [--naive-rows 2000] [--regenerate]
                                [--profile SIZE]

1. Unthrottled, per size: `python -m pipelines.cli extract` in a child process (so the emulator's memory is not
   counted) into a fresh DuckDB file; rows landed per second, requests sent vs the minimum number of pages the
   emulator's page sizes allow, wall time and the child's peak RSS (os.wait4, from a small launcher process:
   see launch.py). The emulator runs in this process; its own RSS (anonymous and file-backed) is sampled.
2. Throttled, on a small size: the emulator enforces Graph's documented limits at their real speed
   (retry_after_scale=1.0); wall time vs the floor the audit-log limit sets (5 requests / 10 s, i.e. 0.5
   pages/s) and requests made inside an announced Retry-After window.
3. Naive: msgraph-sdk typed models (GraphServiceClient + PageIterator, sequential) reading ~2,000 audit rows.

Tenants are generated once and cached under var/bench/ (seed 7, as of 2026-11-01). Each run leaves
var/bench/runs/<label>-<size>/{extract.log,stats.json,launch.json} (and profile.pstats with --profile).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines.demo_tenant import generate_tenant
from pipelines.emulator import DEMO_CLIENT_ID, EmulatorOptions, RunningEmulator, start_emulator
from pipelines.emulator.paging import page_rule
from pipelines.lib.paths import REPO_ROOT, VAR_DIR
from pipelines.lib.warehouse.typed_events import TYPED_TABLES

BENCH_DIR = VAR_DIR / "bench"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
SEED = 7
SECRET_ENV = "PIMLENS_BENCH_SECRET"
WORKSPACE_ID = "b3c0ffee-0000-4000-8000-0000000be7c4"  # any GUID: the emulator serves every workspace
AUDIT = "v1.0/auditLogs/directoryAudits"
REPORTS_RATE = 0.5  # audit-log pages per second the documented limit allows (5 per 10 s)
ARM_PAGE = 1_000


@dataclass
class ExtractRun:
    size: str
    wall_s: float
    peak_rss_mb: float
    rows_landed: int
    requests: int
    min_pages: int
    stats: dict[str, Any]
    exit_code: int
    cpu_s: float = 0.0  # the extractor's user + system CPU time
    emulator_start_s: float = 0.0  # start_emulator: indexing (and profiling) every collection file
    emulator_rss_mb: dict[str, float] | None = None  # peaks of this process (the emulator) during the run
    # This process's user + system CPU while the extractor ran: the emulator's threads (and the RSS sampler's
    # four reads a second). On 2 cores, 2 x wall minus both CPU times is what neither process used.
    emulator_cpu_s: float = 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows_landed / self.wall_s if self.wall_s else 0.0


def tenant_dir(size: str, regenerate: bool) -> Path:
    root = BENCH_DIR / f"tenant-{size}-seed{SEED}"
    if regenerate or not (root / "ground_truth.json").is_file():
        started = time.perf_counter()
        generate_tenant(root, size=size, seed=SEED, as_of=AS_OF)
        print(f"generated {size} tenant in {time.perf_counter() - started:.1f} s -> {root}", flush=True)
    return root


def write_config(path: Path, emulator: RunningEmulator) -> None:
    entry = {
        "name": "bench",
        "tenant_id": emulator.tenant_id,
        "client_id": DEMO_CLIENT_ID,
        "client_secret_env": SECRET_ENV,
        "graph_url": emulator.url,
        "authority_url": emulator.url,
        "log_analytics_url": emulator.url + "/v1",
        "ca_bundle": str(emulator.ca_file),
        "log_analytics_workspace_id": WORKSPACE_ID,
        "history_days": 400,
    }
    path.write_text(yaml.safe_dump({"tenants": [entry]}), encoding="utf-8")


def min_pages(stats: dict[str, Any]) -> int:
    """The fewest pages that could carry what was served: rows / largest page size, per collection."""
    total = 0
    for collection, rows in stats["rows_served"].items():
        if collection.startswith("arm/"):
            cap = ARM_PAGE
        elif collection.startswith("loganalytics/"):
            cap = 500_000
        else:
            rule = page_rule(collection.split("/")[1:])
            cap = rule.maximum or rule.default or max(rows, 1)
        total += max(1, math.ceil(rows / cap))
    return total


def split_requests(stats: dict[str, Any]) -> str:
    """Requests vs min pages for Graph/ARM and for Log Analytics apart: nested Graph collections are keyed by
    their full path (`v1.0/groups/<id>/members`), so they already count one page per parent; Log Analytics
    queries are not pages of a collection (a query can carry 500,000 rows), so they are shown on their own."""
    la_queries = sum(n for path, n in stats["requests_by_path"].items() if path.endswith("/query"))
    la_rows = {c: r for c, r in stats["rows_served"].items() if c.startswith("loganalytics/")}
    la_min = min_pages({"rows_served": la_rows})
    graph_min = min_pages(stats) - la_min
    graph = data_requests(stats) - la_queries
    return f"graph/arm {graph:,} requests vs {graph_min:,} min pages; log analytics {la_queries:,} queries vs {la_min}"


def data_requests(stats: dict[str, Any]) -> int:
    return sum(
        n for path, n in stats["requests_by_path"].items() if "/oauth2/" not in path and "/.well-known/" not in path
    )


def landed_rows(warehouse: Path) -> int:
    """Rows of every raw table but the typed companions: those repeat rows already counted (typed_events.py)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
            if r[0] not in TYPED_TABLES
        ]
        return sum(con.execute(f'select count(*) from raw."{t}"').fetchone()[0] for t in tables)


class RssSampler:
    """Peaks of this process's VmRSS / RssAnon / RssFile (MB), sampled every `every` seconds."""

    FIELDS = ("VmRSS", "RssAnon", "RssFile")

    def __init__(self, every: float = 0.25):
        self.every = every
        self.peaks = dict.fromkeys(self.FIELDS, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> None:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in self.peaks:
                    self.peaks[name] = max(self.peaks[name], int(value.split()[0]) / 1024)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def extract(
    size: str,
    tenant: Path,
    options: EmulatorOptions,
    label: str,
    *,
    profile: bool = False,
    extractor_tree: Path = REPO_ROOT,
) -> ExtractRun:
    work = BENCH_DIR / "runs" / f"{label}-{size}"
    work.mkdir(parents=True, exist_ok=True)
    warehouse = work / "warehouse.duckdb"
    # The warehouse, its write-ahead log and DuckDB's spill folder beside it (`.scratch`), from the last run.
    for stale in work.glob("warehouse.duckdb*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    with RssSampler() as emulator_rss:
        started = time.perf_counter()
        with start_emulator(tenant, state_dir=BENCH_DIR / "emulator", options=options) as emulator:
            emulator_start = time.perf_counter() - started
            config = work / "pimlens.yaml"
            write_config(config, emulator)
            env = {**os.environ, SECRET_ENV: options.client_secret}
            if extractor_tree != REPO_ROOT:  # another copy of the extractor (e.g. `git archive HEAD`)
                env["PYTHONPATH"] = f"{extractor_tree}{os.pathsep}{REPO_ROOT}"
            module = ["-m", "cProfile", "-o", str(work / "profile.pstats")] if profile else []
            command = [
                sys.executable,
                *module,
                "-m",
                "pipelines.cli",
                "extract",
                "--config",
                str(config),
                "--warehouse",
                str(warehouse),
            ]
            launch = [sys.executable, "-m", "bench.extract.launch", str(work / "launch.json"), "--", *command]
            cpu_before = _own_cpu_s()
            with open(work / "extract.log", "wb") as log:
                subprocess.run(launch, cwd=extractor_tree, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
            emulator_cpu = _own_cpu_s() - cpu_before
            child = json.loads((work / "launch.json").read_text(encoding="utf-8"))
            stats = emulator.stats()
    (work / "stats.json").write_text(json.dumps(stats, indent=1, sort_keys=True), encoding="utf-8")
    rows = landed_rows(warehouse) if warehouse.exists() else 0
    return ExtractRun(
        size,
        child["wall_s"],
        child["peak_rss_mb"],
        rows,
        data_requests(stats),
        min_pages(stats),
        stats,
        child["exit_code"],
        cpu_s=child["user_s"] + child["system_s"],
        emulator_start_s=emulator_start,
        emulator_rss_mb=emulator_rss.peaks,
        emulator_cpu_s=emulator_cpu,
    )


def _own_cpu_s() -> float:
    """This process's user + system CPU seconds so far (children excluded: the extractor is measured apart)."""
    times = os.times()
    return times.user + times.system


def describe(run: ExtractRun) -> str:
    rss = run.emulator_rss_mb or {}
    return (
        f"exit {run.exit_code}  rows landed {run.rows_landed:,}  wall {run.wall_s:.1f} s  "
        f"{run.rows_per_s:,.0f} rows/s  requests {run.requests:,} vs min pages {run.min_pages:,} "
        f"({run.requests / max(run.min_pages, 1):.2f}x)  extractor peak RSS {run.peak_rss_mb:.0f} MB, "
        f"CPU {run.cpu_s:.1f} s\n    ({split_requests(run.stats)})\n    emulator start {run.emulator_start_s:.1f} s, "
        f"CPU during the run {run.emulator_cpu_s:.1f} s, peak RSS "
        f"{rss.get('VmRSS', 0):.0f} MB (anon {rss.get('RssAnon', 0):.0f}, file {rss.get('RssFile', 0):.0f})"
    )


async def naive_rows_per_s(emulator: RunningEmulator, wanted: int) -> tuple[int, float]:
    import httpx
    from azure.identity.aio import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory
    from msgraph_core.tasks.page_iterator import PageIterator

    credential = ClientSecretCredential(
        emulator.tenant_id,
        DEMO_CLIENT_ID,
        "pimlens-demo-secret",
        authority=emulator.url,
        disable_instance_discovery=True,
        connection_verify=str(emulator.ca_file),
    )
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(emulator.ca_file)))
    )
    auth = AzureIdentityAuthenticationProvider(
        credential, scopes=["https://graph.microsoft.com/.default"], allowed_hosts=["127.0.0.1"]
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = emulator.url + "/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    seen = 0

    def count(_: Any) -> bool:
        nonlocal seen
        seen += 1
        return seen < wanted

    started = time.perf_counter()
    try:
        first = await client.audit_logs.directory_audits.get()
        await PageIterator(first, adapter).iterate(count)
    finally:
        await http.aclose()
        await credential.close()
    return seen, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L", help="sizes for the unthrottled runs and the RSS comparison")
    parser.add_argument("--throttled-size", default="M", help="size for the throttled run; 'none' skips it")
    parser.add_argument("--profile", default="", help="run the extractor under cProfile for this size")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument(
        "--extractor-tree",
        type=Path,
        default=REPO_ROOT,
        help="run the extractor from this copy of the repo (e.g. `git archive HEAD | tar -x -C DIR`); "
        "the emulator is always this tree's",
    )
    parser.add_argument("--naive-rows", type=int, default=2_000)
    parser.add_argument("--regenerate", action="store_true", help="generate the tenants again, ignoring the cache")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]

    runs = []
    for size in sizes:
        tenant = tenant_dir(size, args.regenerate)
        run = extract(
            size,
            tenant,
            EmulatorOptions(enforce_rate_limits=False),
            "unthrottled",
            profile=size == args.profile,
            extractor_tree=args.extractor_tree.resolve(),
        )
        runs.append(run)
        print(f"[unthrottled {size}] {describe(run)}", flush=True)

    throttled, floor = None, 0.0
    if args.throttled_size.lower() != "none":
        throttled = extract(
            args.throttled_size,
            tenant_dir(args.throttled_size, args.regenerate),
            EmulatorOptions(enforce_rate_limits=True, retry_after_scale=1.0),
            "throttled",
            extractor_tree=args.extractor_tree.resolve(),
        )
        audit_pages = throttled.stats["pages_served"].get(AUDIT, 0)
        floor = audit_pages / REPORTS_RATE
        print(
            f"[throttled {args.throttled_size}] {describe(throttled)}\n"
            f"    floor {floor:.1f} s ({audit_pages} audit pages / {REPORTS_RATE}/s)  "
            f"ratio {throttled.wall_s / floor if floor else float('nan'):.2f}  "
            f"429s {throttled.stats['throttled_total']} {throttled.stats['throttled_by_cause']}  "
            f"retry_after_violations {throttled.stats['retry_after_violations']}",
            flush=True,
        )

    naive_rate = 0.0
    if not args.skip_naive:
        with start_emulator(
            tenant_dir(sizes[0] if sizes else "S", args.regenerate),
            state_dir=BENCH_DIR / "emulator",
            options=EmulatorOptions(enforce_rate_limits=False),
        ) as emulator:
            naive_rows, naive_wall = asyncio.run(naive_rows_per_s(emulator, args.naive_rows))
        naive_rate = naive_rows / naive_wall
        print(f"[naive msgraph-sdk] {naive_rows:,} rows in {naive_wall:.2f} s = {naive_rate:,.0f} rows/s", flush=True)

    print("\nratios (this run):")
    for run in runs:
        versus = f" = {run.rows_per_s / naive_rate:.1f}x naive" if naive_rate else ""
        print(
            f"  {run.size}: extractor {run.rows_per_s:,.0f} rows/s{versus}; "
            f"target 20,000 rows/s {'met' if run.rows_per_s >= 20_000 else 'NOT met'}"
        )
    if throttled is not None and floor:
        ok = throttled.wall_s <= 1.2 * floor and throttled.stats["retry_after_violations"] == 0
        print(
            f"  throttled wall / floor = {throttled.wall_s / floor:.2f} (target <= 1.2, 0 violations): "
            f"{'met' if ok else 'NOT met'}"
        )
    rss = {run.size: run.peak_rss_mb for run in runs}
    if rss:
        spread = max(rss.values()) / min(rss.values())
        print(
            "  extractor peak RSS "
            + ", ".join(f"{s} {v:.0f} MB" for s, v in rss.items())
            + f"; max/min {spread:.2f} (target <= 300 MB and flat: "
            f"{'met' if max(rss.values()) <= 300 and spread <= 1.25 else 'NOT met'})"
        )
    codes = [r.exit_code for r in runs] + ([throttled.exit_code] if throttled is not None else [])
    return 0 if all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
