"""Alert delivery against receivers these tests start: a local HTTP server standing in for a Teams Workflows webhook
and a generic webhook, and a local SMTP server (stdlib sockets). The alerts come from a small analytics database
written here with the columns of marts.fct_alerts."""

from __future__ import annotations

import hashlib
import hmac
import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.lib.alerting import delivery, messages
from pipelines.lib.alerting.store import open_store
from pipelines.lib.config import load_config

TENANT = "10000000-0000-0000-0000-000000000001"
T0 = datetime(2026, 11, 30, 12, tzinfo=UTC)
COLUMNS = """alert_id varchar, tenant_id varchar, alert_rule varchar, severity varchar, principal_id varchar,
    role_definition_id varchar, subject_id varchar, evidence varchar, event_at timestamptz, first_seen_at timestamptz,
    alert_kind varchar, status varchar, opened_at timestamptz, resolved_at timestamptz, resolution varchar,
    acknowledged_by_display_name varchar, is_suppressed boolean, suppression_reason varchar,
    history_started_at timestamptz"""
TEAMS_SECRET_URL_PART = "sig=teams-url-signature-secret"
WEBHOOK_SECRET = "hmac-signing-secret-value"


def alert(alert_id: str, rule: str, severity: str, **changes: Any) -> dict[str, Any]:
    row = {
        "alert_id": alert_id,
        "tenant_id": TENANT,
        "alert_rule": rule,
        "severity": severity,
        "principal_id": f"user-{alert_id}",
        "role_definition_id": "role-1",
        "subject_id": alert_id,
        "evidence": f"evidence of {alert_id}",
        "event_at": None,
        "first_seen_at": T0,
        "alert_kind": "state",
        "status": "open",
        "opened_at": T0,
        "resolved_at": None,
        "resolution": None,
        "acknowledged_by_display_name": None,
        "is_suppressed": False,
        "suppression_reason": None,
        "history_started_at": T0,
    }
    row.update(changes)
    return row


def publish(path: Path, rows: list[dict[str, Any]]) -> None:
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.fct_alerts ({COLUMNS})")
        for row in rows:
            con.execute(f"insert into marts.fct_alerts values ({', '.join('?' for _ in row)})", list(row.values()))


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.failing: dict[str, int] = {}  # path -> the HTTP status it answers

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(body) for request_path, _, body in self.requests if request_path.startswith(path)]


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        path = self.path.split("?")[0]
        if path in self.server.failing:
            self.send_response(self.server.failing[path])
        else:
            self.server.requests.append((path, dict(self.headers), body))
            self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


class SmtpServer(socketserver.ThreadingTCPServer):
    """Enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT; each accepted mail kept as bytes."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.mails: list[bytes] = []


class SmtpHandler(socketserver.StreamRequestHandler):
    server: SmtpServer

    def handle(self) -> None:
        self.wfile.write(b"220 localhost ready\r\n")
        while line := self.rfile.readline():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-localhost\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.server.mails.append(b"".join(data))
                self.wfile.write(b"250 kept\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, SmtpServer]]:
    http, smtp = Receiver(), SmtpServer()
    # serve_forever looks for shutdown() every poll_interval: at its default (0.5 s) each test waited a second.
    threads = [
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        for server in (http, smtp)
    ]
    for thread in threads:
        thread.start()
    yield http, smtp
    for server in (http, smtp):
        server.shutdown()
        server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = T0.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(tmp_path: Path, receivers: tuple[Receiver, SmtpServer]):
    http, smtp = receivers
    config_file = tmp_path / "pimlens.yaml"
    config_file.write_text(
        f"""
alert_channels:
  oncall: {{type: teams, url_env: TEAMS_URL, min_severity: medium}}
  siem: {{type: webhook, url: "{http.url("/siem")}", secret_env: SIEM_SECRET}}
  mail: {{type: smtp, host: 127.0.0.1, port: {smtp.server_address[1]}, from: pimlens@contoso.test,
          to: [soc@contoso.test], min_severity: high}}
tenants:
  - name: contoso
    tenant_id: {TENANT}
    client_id: c0000000-0000-0000-0000-000000000001
    client_secret_env: READER_SECRET
    alert_channels: [oncall, siem, mail]
""",
        encoding="utf-8",
    )
    env = {
        "READER_SECRET": "x",
        "TEAMS_URL": http.url(f"/teams?api-version=1&{TEAMS_SECRET_URL_PART}"),
        "SIEM_SECRET": WEBHOOK_SECRET,
    }
    config = load_config(config_file, env)
    return config, tmp_path / "analytics.duckdb", tmp_path / "warehouse.duckdb.alerts.sqlite", Clock()


def run(setup, rows: list[dict[str, Any]]) -> delivery.PassReport:
    config, analytics, state, clock = setup
    publish(analytics, rows)
    return delivery.deliver(config, analytics, state, clock=clock)


HISTORY = [
    alert("a1", "assignment_outside_pim", "high"),
    alert("a2", "stale_eligibility", "low"),
    alert("a3", "after_hours_activation", "medium", alert_kind="event", event_at=T0, opened_at=T0),
    alert(
        "a4",
        "after_hours_activation",
        "medium",
        alert_kind="event",
        event_at=T0 - timedelta(days=30),
        status="closed",
        resolution="aged",
        resolved_at=T0 - timedelta(days=23),
    ),
    alert("a5", "stale_eligibility", "low", is_suppressed=True, suppression_reason="service desk rota"),
]


def test_the_first_pass_sends_one_summary_per_channel_and_later_passes_each_transition_once(setup, receivers) -> None:
    http, smtp = receivers
    report = run(setup, HISTORY)
    assert report.sent == {"oncall": 1, "siem": 1, "mail": 1}
    [teams] = http.bodies("/teams")
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    # Open and not suppressed: a1, a2, a3; a4 closed by age, a5 suppressed.
    assert card["content"]["body"][0]["text"] == "pimlens now watches contoso: 3 open alerts (1 high, 1 medium, 1 low)"
    [summary] = http.bodies("/siem")
    assert summary["transition"] == "summary"
    [mail] = smtp.mails
    assert b"Subject: [pimlens] pimlens now watches contoso: 3 open alerts" in mail

    # Nothing changed: nothing is sent again.
    assert run(setup, HISTORY).sent == {}

    # A new high alert opens and a state alert resolves; the suppressed one clears silently.
    resolved = alert(
        "a2",
        "stale_eligibility",
        "low",
        status="resolved",
        resolution="condition_cleared",
        resolved_at=T0 + timedelta(days=1),
    )
    new = alert(
        "a6",
        "break_glass_used",
        "high",
        alert_kind="event",
        event_at=T0 + timedelta(days=1),
        opened_at=T0 + timedelta(days=1),
    )
    rows = [HISTORY[0], resolved, HISTORY[2], HISTORY[3], new]
    report = run(setup, rows)
    # Teams takes medium and up (a6 only: a2 is low); the webhook takes everything; mail high only.
    assert report.sent == {"oncall": 1, "siem": 2, "mail": 1}
    teams_new = http.bodies("/teams")[-1]["attachments"][0]["content"]
    assert teams_new["body"][0]["text"] == "High alert in contoso: break_glass_used"
    siem = http.bodies("/siem")[-2:]
    assert [(m["alert_id"], m["transition"]) for m in siem] == [("a2", "resolved"), ("a6", "opened")]
    assert b"break_glass_used" in smtp.mails[-1]
    assert message_from_bytes(smtp.mails[-1])["Message-ID"] == f"<{siem[1]['idempotency_key']}@pimlens.invalid>"
    assert run(setup, rows).sent == {}


def test_the_webhook_is_signed_with_hmac_over_timestamp_and_body(setup, receivers) -> None:
    http, _ = receivers
    run(setup, HISTORY)
    [(_, headers, body)] = [request for request in http.requests if request[0] == "/siem"]
    timestamp = headers[messages.TIMESTAMP_HEADER]
    expected = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers[messages.SIGNATURE_HEADER] == f"sha256={expected}"
    assert timestamp == str(int(T0.timestamp()))
    assert headers[messages.IDEMPOTENCY_HEADER] == json.loads(body)["idempotency_key"]
    assert WEBHOOK_SECRET not in body.decode()


def test_a_channel_that_is_down_holds_back_only_itself_and_is_retried_with_backoff(setup, receivers) -> None:
    http, smtp = receivers
    run(setup, HISTORY)  # the baseline
    _, _, state, clock = setup
    http.failing["/teams"] = 503
    new = alert("a6", "break_glass_used", "high", alert_kind="event", event_at=T0, opened_at=T0 + timedelta(hours=1))
    later = alert("a7", "membership_burst", "high", alert_kind="event", event_at=T0, opened_at=T0 + timedelta(hours=2))
    report = run(setup, [*HISTORY, new, later])
    assert report.sent == {"siem": 2, "mail": 2}
    assert report.failed["oncall"] == "oncall: the webhook answered HTTP 503"
    assert TEAMS_SECRET_URL_PART not in report.failed["oncall"]  # the URL carries a secret: never in a message

    # Within the backoff nothing is tried; the other channels have nothing left to send.
    clock.now += delivery.backoff_seconds(1) - 1
    assert run(setup, [*HISTORY, new, later]).failed == {}
    # Still down after the backoff: the wait doubles.
    clock.now += 2
    assert "oncall" in run(setup, [*HISTORY, new, later]).failed
    with open_store(state) as con:
        [(attempts, wait)] = con.execute(
            "select attempts, next_attempt_at - ? from deliveries where channel = 'oncall' and alert_id = 'a6'",
            [clock.now],
        ).fetchall()
    assert (attempts, wait) == (2, delivery.backoff_seconds(2))

    http.failing.clear()
    clock.now += delivery.backoff_seconds(2)
    report = run(setup, [*HISTORY, new, later])
    assert report.sent == {"oncall": 2}
    teams = [m["attachments"][0]["content"]["body"][0]["text"] for m in http.bodies("/teams")]
    assert teams[-2:] == ["High alert in contoso: break_glass_used", "High alert in contoso: membership_burst"]
    assert len(smtp.mails) == 3  # the summary and the two alerts, each once
    assert run(setup, [*HISTORY, new, later]).sent == {}


def test_a_history_built_again_starts_with_one_summary_not_every_old_alert(setup, receivers) -> None:
    http, _ = receivers
    run(setup, HISTORY)
    rebuilt_at = T0 + timedelta(days=3)
    rebuilt = [{**row, "history_started_at": rebuilt_at, "opened_at": rebuilt_at} for row in HISTORY]
    report = run(setup, rebuilt)
    assert report.sent == {"oncall": 1, "siem": 1, "mail": 1}
    assert [m["transition"] for m in http.bodies("/siem")] == ["summary", "summary"]


def test_a_dry_run_names_what_a_first_pass_would_send_and_writes_nothing(setup, receivers) -> None:
    config, analytics, state, clock = setup
    publish(analytics, HISTORY)
    with open_store(state) as con:
        planned = delivery.plan(con, config, delivery.read_alerts(analytics), clock(), write=False)
        assert con.execute("select count(*) from deliveries").fetchone() == (0,)
    pending = [(item.channel, item.transition) for item in planned if item.status == "pending"]
    assert pending == [("oncall", "summary"), ("siem", "summary"), ("mail", "summary")]
    assert {item.transition for item in planned if item.status == "summarised"} == {"opened"}


def test_the_sensor_delivers_from_the_analytics_database_beside_the_warehouse(setup, receivers) -> None:
    """The Dagster sensor itself, on the configuration file and warehouse path of its resource (never opening the
    warehouse: only the analytics file and the state store beside it exist here)."""
    import dagster as dg

    from pipelines.defs.alerts.sensors import AlertDelivery, deliver_alerts

    http, _ = receivers
    config, analytics, _, _ = setup
    publish(analytics, HISTORY)
    resource = AlertDelivery(
        config_file=str(config.source), warehouse_path=str(analytics.with_name("warehouse.duckdb"))
    )
    env = {"READER_SECRET": "x", "TEAMS_URL": http.url("/teams"), "SIEM_SECRET": WEBHOOK_SECRET}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        result = deliver_alerts(dg.build_sensor_context(), alert_delivery=resource)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == "planned 3 messages; sent 3 (mail 1, oncall 1, siem 1)"
    assert [m["transition"] for m in http.bodies("/siem")] == ["summary"]
    assert (analytics.parent / "warehouse.duckdb.alerts.sqlite").is_file()
    assert not (analytics.parent / "warehouse.duckdb").exists()


def test_an_acknowledgement_is_kept_for_the_next_transform_and_a_state_alert_cannot_be_acknowledged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.cli import main
    from pipelines.lib import paths
    from pipelines.lib.alerting.store import acknowledgements, state_path
    from pipelines.lib.design import load_design
    from pipelines.lib.warehouse.design_tables import write_design

    warehouse = tmp_path / "warehouse.duckdb"
    publish(tmp_path / "analytics.duckdb", HISTORY)
    assert main(["alerts", "ack", "a3", "--by", "Sam Admin", "--note", "planned", "--warehouse", str(warehouse)]) == 0
    assert "Acknowledged after_hours_activation alert a3 (open)" in capsys.readouterr().out

    assert main(["alerts", "ack", "a1", "--by", "Sam Admin", "--warehouse", str(warehouse)]) == 2
    error = capsys.readouterr().err
    assert (
        error.startswith("pimlens alerts ack: alert a1 (assignment_outside_pim) is a state alert")
        and error.count("\n") == 1
    )
    assert main(["alerts", "ack", "nope", "--by", "x", "--warehouse", str(warehouse)]) == 2
    assert "no alert nope in" in capsys.readouterr().err

    [(alert_id, _, by, note)] = acknowledgements(state_path(warehouse))
    assert (alert_id, by, note) == ("a3", "Sam Admin", "planned")
    # The design asset copies them into the warehouse for fct_alerts.
    with duckdb.connect(str(warehouse)) as con:
        write_design(
            con, load_design(paths.DEFAULT_DESIGN_FILE), acknowledgements=acknowledgements(state_path(warehouse))
        )
        assert con.execute("select alert_id, acknowledged_by from design.alert_acknowledgements").fetchall() == [
            ("a3", "Sam Admin")
        ]


def test_a_message_the_receiver_rejects_as_such_is_set_aside_and_holds_back_nothing(setup, receivers) -> None:
    http, _ = receivers
    run(setup, HISTORY)  # the baseline
    http.failing["/siem"] = 422
    first = alert("a6", "break_glass_used", "high", alert_kind="event", event_at=T0, opened_at=T0 + timedelta(hours=1))
    report = run(setup, [*HISTORY, first])
    assert report.rejected == {"siem": 1}
    assert report.failed["siem"] == "siem: the webhook answered HTTP 422"
    http.failing.clear()
    second = alert("a7", "membership_burst", "high", alert_kind="event", event_at=T0, opened_at=T0 + timedelta(hours=2))
    report = run(setup, [*HISTORY, first, second])
    assert report.sent == {"siem": 1, "oncall": 1, "mail": 1}
    assert [m["alert_id"] for m in http.bodies("/siem")] == [None, "a7"]
