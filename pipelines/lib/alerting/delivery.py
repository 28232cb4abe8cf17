"""Delivers each alert that opened or resolved to the channels its tenant routes it to, at least once.

One pass (the ``deliver_alerts`` sensor runs one a minute):

1. **Plan.** Read ``marts.fct_alerts`` from the published analytics database (never the warehouse: a run may hold
   it). Each alert gives at most two transitions, ``opened`` (a new alert, or a state alert that opened again) and
   ``resolved`` (a state alert whose condition cleared), each with an idempotency key made of the alert id, the
   transition and its time. A suppressed alert gives none; an event alert closed by age or acknowledgement before
   it was seen gives none. A channel takes the transitions at or above its ``min_severity``.
2. **Baseline.** A tenant whose alert history the store has not seen (a first install, a new tenant, or an alert
   history built again from raw: its ``history_started_at`` changed) gets one summary message per channel, and
   every transition of its history is recorded as summarised, not sent.
3. **Send.** Each channel's pending messages go out in order. A failure is recorded and retried after a backoff
   that doubles from 30 s to an hour; it stops that channel for this pass only, so a channel that is down holds
   nothing else back. A message the receiver rejects as such (HTTP 400, 413, 415, 422) is set aside as rejected,
   so it holds back no message after it.

A message is recorded as sent only after the receiver accepted it; a pass that dies between the two sends it again
on the next pass, with the same idempotency key, so a receiver that keeps the keys it saw shows it once.
"""

from __future__ import annotations

import json
import smtplib
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.alerting import messages, store
from pipelines.lib.config import AlertChannel, PimlensConfig

BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
SEND_TIMEOUT_SECONDS = 10
# At most this many messages per channel and pass, so one sensor tick stays short; the rest go on the next.
MAX_PER_CHANNEL_PASS = 100


# Answers that say this message will never be taken, however often it is sent: it is set aside (status rejected,
# with the answer) so it holds back no message after it. Any other failure, a wrong address (404) or missing
# rights (401, 403) included, is retried: those are mended in the configuration, and then the messages go out.
REJECTED_STATUSES = frozenset({400, 413, 415, 422})


class DeliveryError(RuntimeError):
    """A channel did not accept a message; the message says why, without the channel's secrets. `permanent`: the
    receiver rejected this very message, and sending it again would not change that."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Planned:
    channel: str
    tenant_name: str
    transition: str
    title: str
    status: str  # pending, or summarised (covered by a summary)


@dataclass
class PassReport:
    planned: list[Planned] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # channel -> the error of its first failure
    rejected: dict[str, int] = field(default_factory=dict)  # channel -> messages it will never take

    @property
    def queued(self) -> int:
        return sum(1 for item in self.planned if item.status == "pending")


def backoff_seconds(attempts: int) -> float:
    """The wait before try number attempts + 1: 30 s, 60 s, 120 s, ... at most an hour."""
    return float(min(BACKOFF_FIRST_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def read_alerts(analytics: Path) -> list[dict[str, Any]]:
    """Every alert of the analytics database, with the principal's UPN and the role's name from the star schema
    where it is published; none before the first publication."""
    if not analytics.is_file():
        return []
    with duckdb.connect(str(analytics), read_only=True) as con:
        tables = {
            row[0]
            for row in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        }
        if "fct_alerts" not in tables:
            return []
        principal, role = "cast(null as varchar)", "cast(null as varchar)"
        joins = ""
        if "dim_principal_v1" in tables:
            principal = "principals.principal_upn"
            joins += (
                " left join marts.dim_principal_v1 as principals on alerts.tenant_id = principals.tenant_id"
                " and alerts.principal_id = principals.principal_id"
            )
        if "dim_role_v1" in tables:
            role = "roles.role_name"
            joins += (
                " left join marts.dim_role_v1 as roles on alerts.tenant_id = roles.tenant_id"
                " and alerts.role_definition_id = roles.role_definition_id and roles.role_system = 'entra'"
            )
        cursor = con.execute(
            f"select alerts.*, {principal} as principal_upn, {role} as role_name from marts.fct_alerts as alerts"
            f"{joins} order by alerts.tenant_id, coalesce(alerts.resolved_at, alerts.opened_at), alerts.alert_id"
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def transitions(alert: dict[str, Any]) -> list[tuple[str, str]]:
    """(idempotency key, transition) of what a reader should hear about this alert."""
    if alert["is_suppressed"]:
        return []
    found = []
    if alert["status"] == "open" or alert["resolution"] == "condition_cleared":
        found.append((messages.idempotency_key(alert["alert_id"], "opened", alert["opened_at"]), "opened"))
    if alert["resolution"] == "condition_cleared":
        found.append((messages.idempotency_key(alert["alert_id"], "resolved", alert["resolved_at"]), "resolved"))
    return found


def plan(
    con: sqlite3.Connection, config: PimlensConfig, alerts: Sequence[dict[str, Any]], now: float, *, write: bool = True
) -> list[Planned]:
    """Records what each tenant's channels must be sent (see the module's docstring); with write=False, only says
    what it would record."""
    planned: list[Planned] = []
    for tenant in config.tenants:
        channels = [config.alert_channels[name] for name in tenant.alert_channels] or (
            [] if write else [AlertChannel("(any channel)", "teams")]
        )
        rows = [alert for alert in alerts if alert["tenant_id"].lower() == tenant.tenant_id.lower()]
        if not rows or not channels:
            continue
        history = min(str(alert["history_started_at"]) for alert in rows)
        baseline = not store.has_baseline(con, tenant.tenant_id, history)
        records = []
        if baseline:
            open_alerts = [a for a in rows if a["status"] == "open" and not a["is_suppressed"]]
            key = messages.idempotency_key(tenant.tenant_id, "summary", history)
            summary = messages.summary_message(key, tenant.tenant_id, tenant.name, open_alerts)
            for channel in channels:
                records.append((key, channel.name, tenant.tenant_id, None, "summary", summary, "pending"))
        for alert in rows:
            for key, transition in transitions(alert):
                message = messages.alert_message(key, tenant.name, alert, transition)
                for channel in channels:
                    if baseline:
                        records.append(
                            (key, channel.name, tenant.tenant_id, alert["alert_id"], transition, message, "summarised")
                        )
                    elif channel.accepts(alert["severity"]):
                        records.append(
                            (key, channel.name, tenant.tenant_id, alert["alert_id"], transition, message, "pending")
                        )
        known = {channel.name: store.known_keys(con, channel.name) for channel in channels}
        fresh = [record for record in records if record[0] not in known[record[1]]]
        planned += [Planned(r[1], tenant.name, r[4], r[5]["title"], r[6]) for r in fresh]
        if write:
            store.enqueue(con, [(*r[:5], json.dumps(r[5], default=str), r[6]) for r in fresh], now)
            if baseline:
                store.record_baseline(con, tenant.tenant_id, history, now)
    return planned


def send(channel: AlertChannel, message: dict[str, Any], *, clock: Callable[[], float] = time.time) -> None:
    """Sends one message on one channel; raises DeliveryError when the channel does not accept it."""
    key = message["idempotency_key"]
    if channel.kind == "smtp":
        try:
            with smtplib.SMTP(channel.host or "", channel.port, timeout=SEND_TIMEOUT_SECONDS) as client:
                if channel.starttls:
                    client.starttls()
                if channel.username:
                    client.login(channel.username, channel.password or "")
                client.send_message(messages.mail(message, channel.sender or "", channel.recipients))
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"{channel.name}: mail to {channel.host}:{channel.port} failed: {error}") from None
        return
    if channel.kind == "teams":
        body = json.dumps(messages.teams_payload(message)).encode()
        headers = {"Content-Type": "application/json", messages.IDEMPOTENCY_HEADER: key}
    else:
        body = messages.webhook_body(message)
        timestamp = str(int(clock()))
        headers = {
            "Content-Type": "application/json",
            messages.IDEMPOTENCY_HEADER: key,
            messages.TIMESTAMP_HEADER: timestamp,
            messages.SIGNATURE_HEADER: messages.sign(channel.signing_secret or "", timestamp, body),
        }
    request = urllib.request.Request(channel.url or "", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_SECONDS) as response:
            response.read()
    except urllib.error.HTTPError as error:
        # The URL is not named: a Teams Workflows URL carries its signature.
        raise DeliveryError(
            f"{channel.name}: the webhook answered HTTP {error.code}", permanent=error.code in REJECTED_STATUSES
        ) from None
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"{channel.name}: the webhook could not be reached: {reason}") from None


def deliver(
    config: PimlensConfig,
    analytics: Path,
    state_file: Path,
    *,
    clock: Callable[[], float] = time.time,
    sender: Callable[[AlertChannel, dict[str, Any]], None] | None = None,
) -> PassReport:
    """One pass: plan, then send what is due on every channel in use."""
    transport = sender or (lambda channel, message: send(channel, message, clock=clock))
    report = PassReport()
    used = sorted({name for tenant in config.tenants for name in tenant.alert_channels})
    if not used:
        return report
    alerts = read_alerts(analytics)
    with store.open_store(state_file) as con:
        report.planned = plan(con, config, alerts, clock())
        for name in used:
            channel = config.alert_channels[name]
            for delivery in store.due(con, name, clock())[:MAX_PER_CHANNEL_PASS]:
                try:
                    transport(channel, json.loads(delivery.message))
                except DeliveryError as error:
                    report.failed.setdefault(name, str(error))
                    if error.permanent:
                        store.mark_rejected(con, delivery, str(error))
                        report.rejected[name] = report.rejected.get(name, 0) + 1
                        continue
                    store.mark_failed(con, delivery, str(error), clock() + backoff_seconds(delivery.attempts + 1))
                    break
                store.mark_sent(con, delivery, clock())
                report.sent[name] = report.sent.get(name, 0) + 1
    return report


def dry_run(config: PimlensConfig, analytics: Path, state_file: Path) -> list[str]:
    """What a delivery pass would send now, one line per tenant and channel, writing nothing. A tenant without
    channels is shown for "(any channel)", what each channel it is given would get."""
    con = sqlite3.connect(":memory:")
    try:
        if state_file.is_file():
            with store.open_store(state_file) as source:
                source.backup(con)
        else:
            con.executescript(store.SCHEMA)
        planned = plan(con, config, read_alerts(analytics), time.time(), write=False)
    finally:
        con.close()
    lines = []
    for tenant, channel in dict.fromkeys((item.tenant_name, item.channel) for item in planned):
        items = [item for item in planned if (item.tenant_name, item.channel) == (tenant, channel)]
        pending = [item for item in items if item.status == "pending"]
        summaries = [item.title for item in pending if item.transition == "summary"]
        counts = {t: sum(1 for item in pending if item.transition == t) for t in ("opened", "resolved")}
        parts = [f'summary "{title}"' for title in summaries]
        parts += [f"{count} {transition}" for transition, count in counts.items() if count]
        covered = sum(1 for item in items if item.status == "summarised")
        if covered:
            parts.append(f"{covered} earlier transitions covered by the summary, not sent")
        lines.append(f"{tenant} -> {channel}: " + ("; ".join(parts) or "nothing new"))
    return lines
