"""Secrets stay out of logs and out of the warehouse, even with every logger at DEBUG."""

import logging
from pathlib import Path

from pipelines.emulator import EmulatorOptions, auth
from pipelines.lib.config import TenantSettings
from pipelines.lib.graph.collections import CORE_COLLECTIONS
from pipelines.lib.ingest import ingest_all

TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"
SECRET = "s3cret-that-must-never-leak-0123456789"


def test_client_secret_and_bearer_tokens_never_reach_logs_or_the_warehouse(
    serve_tenant, tmp_path, caplog, monkeypatch
) -> None:
    issued: list[str] = []
    original = auth.secrets.token_urlsafe

    def recording_token_urlsafe(nbytes: int) -> str:
        token = original(nbytes)
        issued.append(token)
        return token

    # Remember every token the emulator hands out, to look for them afterwards.
    monkeypatch.setattr(auth.secrets, "token_urlsafe", recording_token_urlsafe)
    options = EmulatorOptions(client_secret=SECRET)
    emulator = serve_tenant(TENANT, options)
    settings = TenantSettings(
        name="t",
        tenant_id=emulator.tenant_id,
        client_id=options.client_id,
        client_secret=SECRET,
        graph_url=emulator.url,
        authority_url=emulator.url,
        ca_bundle=emulator.ca_file,
    )
    warehouse = tmp_path / "w.duckdb"
    with caplog.at_level(logging.DEBUG):
        reports = ingest_all([settings], warehouse, CORE_COLLECTIONS)
    assert all(report.status == "ok" for report in reports)
    assert issued

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert len(caplog.records) > 10, "DEBUG logging was not captured, so this test would prove nothing"
    assert SECRET not in logged
    assert not [token for token in issued if token in logged]
    stored = warehouse.read_bytes()
    assert SECRET.encode() not in stored
    assert not [token for token in issued if token.encode() in stored]
    assert SECRET not in repr(settings)
