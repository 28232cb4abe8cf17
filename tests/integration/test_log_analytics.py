"""Log Analytics through azure-monitor-query: windows split below the row cap, partial answers never landed."""

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.emulator import EmulatorOptions
from pipelines.lib.config import TenantSettings
from pipelines.lib.graph.collections import COLLECTIONS_BY_TABLE
from pipelines.lib.ingest import ingest_collection

from .many_pages_tenant import write_many_pages_tenant

SIGNINS = COLLECTIONS_BY_TABLE["la_signin_logs"]


def settings(emulator, options: EmulatorOptions, **extra) -> TenantSettings:
    return TenantSettings(
        name="la",
        tenant_id=emulator.tenant_id,
        client_id=options.client_id,
        client_secret=options.client_secret,
        graph_url=emulator.url,
        authority_url=emulator.url,
        log_analytics_url=emulator.url,
        ca_bundle=emulator.ca_file,
        **extra,
    )


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_many_pages_tenant(tmp_path_factory.mktemp("la"), users=50, eligible=5, audits=10, signins=900)


def test_every_sign_in_lands_once_even_when_windows_must_be_split(tenant, serve_tenant, tmp_path) -> None:
    # A row cap of 40 forces the weekly windows (about 775 sign-ins each) to be halved until they fit.
    options = EmulatorOptions(loganalytics_row_limit=40)
    emulator = serve_tenant(tenant, options)
    reader = settings(emulator, options, log_analytics_workspace_id="ws", history_days=3650)
    warehouse = tmp_path / "w.duckdb"
    report = ingest_collection(reader, SIGNINS, warehouse)
    assert report.status == "ok"
    assert report.extracted.rows == 900
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*), count(distinct id) from raw.la_signin_logs").fetchone() == (900, 900)
        first = con.execute("select record ->> 'TimeGenerated' from raw.la_signin_logs order by id limit 1").fetchone()
        assert first == ("2026-09-01T00:00:00.000Z",)  # the service's own text, untouched
        watermark = con.execute("select watermark from meta.watermarks where collection = 'la_signin_logs'")
        assert watermark.fetchone()[0] == datetime(2026, 9, 9, 2, 47, tzinfo=UTC)

    again = ingest_collection(reader, SIGNINS, warehouse)
    assert again.loaded.rows_inserted == 0


def test_without_a_workspace_the_tables_are_not_configured_not_empty(tenant, serve_tenant, tmp_path) -> None:
    options = EmulatorOptions()
    report = ingest_collection(settings(serve_tenant(tenant, options), options), SIGNINS, tmp_path / "w.duckdb")
    assert report.status == "not_configured"
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("select status from meta.coverage").fetchall() == [("not_configured",)]


def test_answers_too_large_to_hold_are_split_unread_and_windows_shrink_to_fit(
    tenant, serve_tenant, tmp_path, monkeypatch
) -> None:
    # 900 sign-ins in 9 days with a 64 kB ceiling: the two busy weeks must be split, then sized down. Without the
    # ceiling, 3,650 days take 522 weekly windows.
    monkeypatch.setattr("pipelines.lib.loganalytics.MAX_ANSWER_BYTES", 64_000)
    monkeypatch.setattr("pipelines.lib.loganalytics.TARGET_ANSWER_BYTES", 32_000)
    options = EmulatorOptions()
    emulator = serve_tenant(tenant, options)
    reader = settings(emulator, options, log_analytics_workspace_id="ws", history_days=3650)
    report = ingest_collection(reader, SIGNINS, tmp_path / "w.duckdb")
    assert report.status == "ok"
    assert report.extracted.rows == 900
    assert report.extracted.pages > 522
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("select count(*), count(distinct id) from raw.la_signin_logs").fetchone() == (900, 900)
