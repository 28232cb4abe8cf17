"""Each fault a pipeline must survive, injected by the emulator: the raw tables must equal a clean run's.

"Equal" is the ids and a hash of every record's content, per table: nothing missing, nothing duplicated, and
no rows from a load that did not commit whole.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import astuple, dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.emulator import EmulatorOptions, FaultPlan, start_emulator
from pipelines.lib.config import TenantSettings
from pipelines.lib.graph.collections import COLLECTIONS_BY_TABLE, CORE_COLLECTIONS
from pipelines.lib.ingest import ingest_all

from .many_pages_tenant import write_many_pages_tenant
from .reconcile import landed_fingerprint, orphan_rows

pytestmark = pytest.mark.slow

# Faults do not care which collection they hit: the core collections (paged, incremental and snapshot) and one
# nested collection read per parent cover every code path.
SPECS = (*CORE_COLLECTIONS, COLLECTIONS_BY_TABLE["group_transitive_members"])
# Every Retry-After and rate window is a two-hundredth of the real one, so storms pass in seconds; each form of
# Retry-After still announces its own wait (the large one "2", the integer "1"; test_retry.py takes the real 315 s).
SCALE = 0.005
FAULTS = {
    "throttle_storm_every_retry_after_form": FaultPlan(
        seed=1,
        throttle_rate=0.5,
        retry_after_styles=("integer", "decimal", "http-date", "zero", "large", "missing"),
    ),
    "server_errors": FaultPlan(seed=2, server_error_rate=0.25),
    "connection_resets": FaultPlan(seed=3, reset_rate=0.2),
    "truncated_and_incomplete_bodies": FaultPlan(seed=4, truncate_rate=0.15, incomplete_body_rate=0.15),
    "empty_pages_with_next_links": FaultPlan(seed=5, empty_page_rate=0.4),
    "expired_page_token": FaultPlan(seed=6, expire_page_token_at=2),
    # Token faults are drawn per client id: with the demo application's id, seed 5 fails the first token request.
    "token_endpoint_failures": FaultPlan(seed=5, token_failure_rate=0.3),
}


@pytest.fixture(scope="module")
def tenant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_many_pages_tenant(tmp_path_factory.mktemp("many-pages"))


def settings_for(emulator, options: EmulatorOptions) -> TenantSettings:
    return TenantSettings(
        name="faults",
        tenant_id=emulator.tenant_id,
        client_id=options.client_id,
        client_secret=options.client_secret,
        graph_url=emulator.url,
        authority_url=emulator.url,
        ca_bundle=emulator.ca_file,
    )


@dataclass(frozen=True)
class Ingested:
    warehouse: Path
    stats: dict  # the emulator's, after the ingest


def ingest_through_emulator(tenant_dir: Path, work: Path, faults: FaultPlan | None) -> Ingested:
    """An ingest of the SPECS collections from an emulator of its own, with `faults` injected (None: none)."""
    options = EmulatorOptions(retry_after_scale=SCALE, faults=faults or FaultPlan())
    with start_emulator(tenant_dir, state_dir=work / "emulator", options=options) as emulator:
        ingest_all([settings_for(emulator, options)], work / "w.duckdb", SPECS)
        return Ingested(work / "w.duckdb", emulator.stats())


@pytest.fixture(scope="module")
def ingests(tenant_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str | None, Future[Ingested]]:
    """A clean ingest (key None) and one per fault, all at once, each from an emulator and into a warehouse of its
    own. The throttle storm's ingest spends nearly all of its time (27 s) waiting out Retry-After; the others' work
    fills that time instead of following it. A failed ingest fails its own test: each test takes its future's
    result."""
    plans: dict[str | None, FaultPlan | None] = {None: None, **FAULTS}
    with ThreadPoolExecutor(max_workers=len(plans), thread_name_prefix="ingest") as pool:
        return {
            name: pool.submit(ingest_through_emulator, tenant_dir, tmp_path_factory.mktemp(name or "clean"), plan)
            for name, plan in plans.items()
        }


@pytest.fixture(scope="module")
def clean_fingerprint(ingests: dict[str | None, Future[Ingested]]) -> dict:
    fingerprint = landed_fingerprint(ingests[None].result().warehouse, SPECS)
    assert fingerprint["users"][:2] == (2300, 2300)
    assert fingerprint["directory_audits"][:2] == (2600, 2600)
    return fingerprint


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_raw_tables_equal_a_clean_run_under(fault, ingests, clean_fingerprint) -> None:
    warehouse, stats = astuple(ingests[fault].result())

    assert landed_fingerprint(warehouse, SPECS) == clean_fingerprint
    assert orphan_rows(warehouse, SPECS) == 0
    assert stats["retry_after_violations"] == 0
    assert sum(stats["faults"].values()) > 0, "the fault was never injected, so the test proved nothing"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        watermark = con.execute("select watermark from meta.watermarks").fetchone()[0]
        newest = con.execute("select max((record->>'activityDateTime')::timestamptz) from raw.directory_audits")
        assert watermark == newest.fetchone()[0]
