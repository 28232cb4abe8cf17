"""What an alert delivery says, and how each channel carries it.

A message is planned once, as a plain dict (stored with the delivery, so a retry sends exactly what the first try
sent), and rendered per channel: a Microsoft Teams Workflows webhook gets an Adaptive Card, a generic webhook the
JSON signed with HMAC-SHA256, a mailbox a plain-text mail. Each carries the message's idempotency key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from email.message import EmailMessage
from typing import Any

SIGNATURE_HEADER = "X-Pimlens-Signature"
TIMESTAMP_HEADER = "X-Pimlens-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_CARD_COLOURS = {"high": "Attention", "medium": "Warning", "low": "Default"}


def idempotency_key(*parts: object) -> str:
    """A stable key for one message: the same transition of the same alert always gets the same key."""
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]


def alert_message(key: str, tenant_name: str, alert: dict[str, Any], transition: str) -> dict[str, Any]:
    """The message for one alert that opened or resolved. `alert` is a row of marts.fct_alerts (with the
    principal's UPN and the role's name where the star dimensions give them)."""
    rule = alert["alert_rule"]
    if transition == "opened":
        title = f"{alert['severity'].capitalize()} alert in {tenant_name}: {rule}"
    else:
        title = f"Resolved in {tenant_name}: {rule}"
    facts = [
        ("Tenant", f"{tenant_name} ({alert['tenant_id']})"),
        ("Rule", rule),
        ("Severity", alert["severity"]),
        ("Principal", alert.get("principal_upn") or alert.get("principal_id") or "-"),
        ("Role", alert.get("role_name") or alert.get("role_definition_id") or "-"),
        ("Event at", _time(alert.get("event_at"))),
        ("Opened at", _time(alert.get("opened_at"))),
    ]
    if transition == "resolved":
        facts.append(("Resolved at", _time(alert.get("resolved_at"))))
    facts += [("Alert id", alert["alert_id"]), ("Idempotency key", key)]
    return {
        "idempotency_key": key,
        "tenant_id": alert["tenant_id"],
        "tenant_name": tenant_name,
        "transition": transition,
        "alert_id": alert["alert_id"],
        "alert_rule": rule,
        "severity": alert["severity"],
        "title": title,
        "text": alert.get("evidence") or "",
        "facts": [[name, value] for name, value in facts],
    }


def summary_message(key: str, tenant_id: str, tenant_name: str, open_alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """The one message a new alert history starts with (a first install, or a history built again): what is open
    now, instead of one message per alert raised over the history read."""
    by_severity = {level: sum(1 for a in open_alerts if a["severity"] == level) for level in ("high", "medium", "low")}
    by_rule: dict[str, int] = {}
    for alert in open_alerts:
        by_rule[alert["alert_rule"]] = by_rule.get(alert["alert_rule"], 0) + 1
    counts = ", ".join(f"{count} {level}" for level, count in by_severity.items())
    return {
        "idempotency_key": key,
        "tenant_id": tenant_id,
        "tenant_name": tenant_name,
        "transition": "summary",
        "alert_id": None,
        "alert_rule": None,
        "severity": "high" if by_severity["high"] else "medium" if by_severity["medium"] else "low",
        "title": f"pimlens now watches {tenant_name}: {len(open_alerts)} open alerts ({counts})",
        "text": "From now on each new or resolved alert is sent on its own. Open alerts by rule: "
        + (", ".join(f"{rule} {count}" for rule, count in sorted(by_rule.items())) or "none"),
        "facts": [[rule, str(count)] for rule, count in sorted(by_rule.items())] + [["Idempotency key", key]],
    }


def teams_payload(message: dict[str, Any]) -> dict[str, Any]:
    """A Teams Workflows webhook's body ("When a Teams webhook request is received"): a message with one Adaptive
    Card attachment."""
    card = {
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": message["title"],
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                "color": "Good" if message["transition"] == "resolved" else _CARD_COLOURS[message["severity"]],
            },
            {"type": "TextBlock", "text": message["text"], "wrap": True},
            {"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in message["facts"]]},
        ],
        "msteams": {"width": "Full"},
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def webhook_body(message: dict[str, Any]) -> bytes:
    return json.dumps(message, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``<timestamp>.<body>``, hex, as ``sha256=<hex>``: a receiver recomputes it with the shared
    secret and rejects a timestamp too old, so a captured request cannot be replayed later."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def mail(message: dict[str, Any], sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    mail_message = EmailMessage()
    mail_message["Subject"] = f"[pimlens] {message['title']}"
    mail_message["From"] = sender
    mail_message["To"] = ", ".join(recipients)
    mail_message["Message-ID"] = f"<{message['idempotency_key']}@pimlens.invalid>"
    mail_message["X-Pimlens-Idempotency-Key"] = message["idempotency_key"]
    lines = [message["title"], "", message["text"], ""]
    lines += [f"{name}: {value}" for name, value in message["facts"]]
    mail_message.set_content("\n".join(lines) + "\n")
    return mail_message


def _time(value: Any) -> str:
    if value is None:
        return "-"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
