"""Where the extractor's memory goes: peak RSS of reading and of landing each collection, one at a time.

    python -m bench.extract.memory --size L [--only directory_audits,la_audit_logs] [--skip-others]

The emulator runs in this process; the extractor runs in a child (``--child``) that lands the collections in
order into a fresh DuckDB file and, around each one, resets the kernel's peak-RSS mark (``/proc/self/clear_refs``)
so that each figure is that step's own high-water mark, not the run's. Per collection it prints the rows, the
peak RSS while reading (pages to the NDJSON file) and while landing (DuckDB), and what DuckDB's buffer manager
still held after the landing transaction (``duckdb_memory()``), and the wall time of reading and of landing.
``--tracemalloc`` also prints, when each landing starts, the Python heap tracemalloc traces and the source lines
holding most of it (slow: every Python allocation is traced), to tell Python's heap from DuckDB's and the rest.
``--skip-others`` reads only the ``--only`` collections (those without a parent collection): an A/B of landing
the big audit logs takes a minute or two instead of a whole run. Results: var/bench/runs/memory-<size>/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.extract.run import BENCH_DIR, SECRET_ENV, tenant_dir, write_config
from pipelines.emulator import EmulatorOptions, start_emulator


def _status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name == field:
                return int(value.split()[0]) / 1024
    raise KeyError(field)


def _anonymous_by_kind() -> str:
    """Resident anonymous memory by mapping (/proc/self/smaps): the C heap, and the other anonymous mappings by
    size. The kernel merges adjacent mappings, so a run of pymalloc's 1 MB arenas shows as one larger mapping:
    the ">8MB" ones of the L runs were such runs (strace of their mmap calls, docs/benchmarks.md)."""
    kinds: dict[str, float] = {}
    kind = None
    with open("/proc/self/smaps", encoding="ascii", errors="replace") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and not line.startswith(("Rss", "Size")) and not fields[0].endswith(":"):
                start, end = (int(x, 16) for x in fields[0].split("-"))
                name = fields[5] if len(fields) > 5 else ""
                size_mb = (end - start) / 2**20
                if name == "[heap]":
                    kind = "heap"
                elif name:
                    kind = None  # a file or [stack]: not anonymous heap
                else:
                    kind = "mmap <=1MB" if size_mb <= 1.01 else "mmap <=8MB" if size_mb <= 8 else "mmap >8MB"
            elif fields[0] == "Anonymous:" and kind is not None:
                kinds[kind] = kinds.get(kind, 0.0) + int(fields[1]) / 1024
    return ", ".join(f"{name} {mb:.0f} MB" for name, mb in sorted(kinds.items()))


def _reset_peak() -> None:
    # "5" resets VmHWM to the current RSS (Linux >= 4.0), so the next reading is the peak since now.
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")


def _python_heap(table: str) -> dict[str, Any]:
    """What tracemalloc traces now, and the lines that allocated most of it (printed)."""
    import tracemalloc

    current, _ = tracemalloc.get_traced_memory()
    top = tracemalloc.take_snapshot().statistics("lineno")[:8]
    print(f"{table}: Python heap traced {current / 2**20:.1f} MB when landing starts; largest holders:", flush=True)
    for stat in top:
        print(f"    {stat.size / 2**20:7.2f} MB  {stat.count:>8,} blocks  {stat.traceback[0]}", flush=True)
    return {"python_traced_mb": current / 2**20}


def child(config: Path, warehouse: Path, only: set[str], skip_others: bool, out: Path, trace: bool = False) -> None:
    import duckdb

    import pipelines.lib.ingest as ingest
    import pipelines.lib.warehouse.landing as landing
    from pipelines.lib.config import load_config
    from pipelines.lib.graph.collections import COLLECTIONS

    landed: dict[str, dict[str, Any]] = {}
    real_land = landing.land_collection

    def measured_land(con: duckdb.DuckDBPyConnection, spec: Any, **kwargs: Any) -> Any:
        landed[spec.table] = {
            "read_peak_mb": _status_mb("VmHWM"),
            "rss_before_landing_mb": _status_mb("VmRSS"),
            # Anonymous memory is heap (Python's, malloc's, DuckDB's); file-backed is mostly shared libraries' code.
            "anon_before_landing_mb": _status_mb("RssAnon"),
            "file_before_landing_mb": _status_mb("RssFile"),
            "ndjson_mb": kwargs["ndjson_path"].stat().st_size,
        }
        if trace:
            landed[spec.table].update(_python_heap(spec.table))
        print(f"{spec.table}: anonymous memory when landing starts: {_anonymous_by_kind()}", flush=True)
        _reset_peak()
        started = time.perf_counter()
        summary = real_land(con, spec, **kwargs)
        landed[spec.table]["land_s"] = time.perf_counter() - started
        held = con.execute("select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory()").fetchone()[0]
        landed[spec.table].update(land_peak_mb=_status_mb("VmHWM"), duckdb_held_mb=held / 2**20)
        return summary

    landing.land_collection = measured_land  # land_extracted (and its retry) calls it by this name
    if trace:
        import tracemalloc

        tracemalloc.start()
    (tenant,) = load_config(config).tenants
    results = []
    print(
        f"baseline after imports: {_status_mb('VmRSS'):.0f} MB "
        f"(anon {_status_mb('RssAnon'):.0f}, file {_status_mb('RssFile'):.0f})",
        flush=True,
    )
    for spec in COLLECTIONS:
        if skip_others and spec.table not in only:
            continue
        _reset_peak()
        started = time.perf_counter()
        (report,) = ingest.ingest_all([tenant], warehouse, (spec,))
        ingest_s = time.perf_counter() - started
        if only and spec.table not in only:
            continue
        row = {"table": spec.table, "status": report.status, "rows": report.extracted.rows, "ingest_s": ingest_s}
        row.update(landed.get(spec.table, {}))
        row["ndjson_mb"] = row.get("ndjson_mb", 0) / 2**20
        results.append(row)
        print(
            f"{spec.table:40} {report.status:8} {report.extracted.rows:>9,} rows  "
            f"ndjson {row['ndjson_mb']:7.0f} MB  read peak {row.get('read_peak_mb', 0):5.0f} MB  "
            f"RSS then {row.get('rss_before_landing_mb', 0):5.0f} MB "
            f"(anon {row.get('anon_before_landing_mb', 0):4.0f}, "
            f"file {row.get('file_before_landing_mb', 0):3.0f})  land peak {row.get('land_peak_mb', 0):5.0f} MB  "
            f"duckdb held {row.get('duckdb_held_mb', 0):5.0f} MB  "
            f"ingest {ingest_s:6.1f} s  of which landing {row.get('land_s', 0):6.1f} s",
            flush=True,
        )
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M")
    parser.add_argument("--only", default="", help="print only these tables (all are still landed, in order)")
    parser.add_argument("--skip-others", action="store_true", help="read only the --only tables")
    parser.add_argument("--tracemalloc", action="store_true", help="trace the Python heap (slow)")
    parser.add_argument("--child", nargs=2, type=Path, metavar=("CONFIG", "WAREHOUSE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    work = BENCH_DIR / "runs" / f"memory-{args.size}"
    if args.child:
        child(*args.child, only, args.skip_others, work / "memory.json", trace=args.tracemalloc)
        return 0
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("warehouse.duckdb*"):
        stale.unlink()
    options = EmulatorOptions(enforce_rate_limits=False)
    with start_emulator(tenant_dir(args.size, False), state_dir=BENCH_DIR / "emulator", options=options) as emulator:
        config = work / "pimlens.yaml"
        write_config(config, emulator)
        env = {**os.environ, SECRET_ENV: options.client_secret}
        command = [sys.executable, "-m", "bench.extract.memory", "--size", args.size, "--only", args.only]
        command += ["--skip-others"] if args.skip_others else []
        command += ["--tracemalloc"] if args.tracemalloc else []
        command += ["--child", str(config), str(work / "warehouse.duckdb")]
        return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
