"""Report benchmark: how long `pimlens report` (and the asset after every transform) takes on a published database.

    python -m bench.report.run [--analytics var/analytics.duckdb] [--repeat 5]

Times the three steps of `write_reports` apart, `--repeat` times each, and prints the median of each, its share of
the whole, and the pages' sizes. Run it after `make demo` (add `DEMO_ARGS="--size M"` for the M tenant).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.lib.paths import VAR_DIR
from pipelines.lib.report import write_reports
from pipelines.lib.report.build import page_names
from pipelines.lib.report.data import read_publication
from pipelines.lib.report.page import tenant_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--analytics", type=Path, default=VAR_DIR / "analytics.duckdb")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    timings: dict[str, list[float]] = {"read the marts": [], "render the pages": [], "write_reports, whole": []}
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeat):
            started = time.perf_counter()
            with duckdb.connect(str(args.analytics), read_only=True) as con:
                publication = read_publication(con)
            read = time.perf_counter()
            pages = page_names({tenant.tenant_id: tenant.tenant_name for tenant in publication.tenants})
            for tenant in publication.tenants:
                tenant_page(tenant, publication, pages[tenant.tenant_id])
            rendered = time.perf_counter()
            written = write_reports(args.analytics, Path(out))
            done = time.perf_counter()
            timings["read the marts"].append(read - started)
            timings["render the pages"].append(rendered - read)
            timings["write_reports, whole"].append(done - rendered)
        sizes = {page.name: page.stat().st_size for page in written}
    whole = statistics.median(timings["write_reports, whole"])
    print(f"{args.analytics}: {len(publication.tenants)} tenants, median of {args.repeat} runs")
    for step, values in timings.items():
        median = statistics.median(values)
        print(f"  {step:24} {median:7.3f} s  {median / whole:6.1%} of the whole")
    for name, size in sizes.items():
        print(f"  {name:24} {size / 1024:7.0f} KiB")


if __name__ == "__main__":
    main()
