"""Pseudonymisation: one keyed mechanism for every place data leaves the raw layer.

With ``pseudonymise`` set in the configuration, personal values (UPNs, names, mail addresses, IP addresses and
free text such as justifications) are replaced by stable keyed pseudonyms, HMAC-SHA-256 of the value under a key
held in an environment variable (ENISA's keyed hashing, reference K3). The same value gives the same pseudonym
under the same key, so joins, counts and "reused across users" still work; without the key nobody can tell
which value a pseudonym stands for, nor test a guess. Ids (GUIDs), times and structure are kept.

It applies to the analytics database and the Parquet export (whose columns are chosen by ``is_personal_column``)
and to the tenant recordings of ``pimlens tenant record`` (whose JSON properties are chosen by
``is_personal_property``). The raw layer and the warehouse keep the values as read: they are the pipeline's
working state, readable by its owner and group only.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
from typing import Any

import duckdb

PSEUDONYM_FUNCTION = "pimlens_pseudonym"
PSEUDONYM_DOMAIN = "pseudonymised.invalid"
_DIGEST_CHARS = 20

# Mart columns that hold personal values. Any column named so, in any mart, is pseudonymised.
PERSONAL_COLUMN_SUFFIXES = ("principal_name", "display_name", "_upn", "mail", "ip_address", "ip_range")
FREE_TEXT_COLUMNS = frozenset({"justification", "normalized_text", "justification_text", "reason_text"})

# Graph and Log Analytics properties that hold personal values wherever they are (names compared lower-cased).
PERSONAL_PROPERTIES = frozenset(
    name.lower()
    for name in (
        "userPrincipalName",
        "givenName",
        "surname",
        "mail",
        "email",  # ARM's expandedProperties.principal.email (Azure PIM schedule instances)
        "mailNickname",
        "otherMails",
        "proxyAddresses",
        "imAddresses",
        "onPremisesSamAccountName",
        "onPremisesUserPrincipalName",
        "onPremisesDistinguishedName",
        "jobTitle",
        "mobilePhone",
        "businessPhones",
        "streetAddress",
        "ipAddress",
        "ipaddr",  # the requester's address among a PIM audit event's additionalDetails
        "justification",
        "resultReason",  # where PIM's audit events carry the requester's justification
        "internalReplyMessage",  # a mailbox's automatic replies (mailboxSettings.automaticRepliesSetting)
        "externalReplyMessage",
        "userDisplayName",
        "principalDisplayName",
        "principalName",
        "assigneeDisplayName",  # PIM alert incidents (roleManagementAlerts/alerts/{id}/alertIncidents)
        "assigneeUserPrincipalName",
        "Identity",
    )
)
# A display name is personal on a principal only: not on a role, an activity, an app role or a policy.
PRINCIPAL_NAME_PROPERTIES = frozenset({"displayname"})
PRINCIPAL_TYPES = frozenset({"user", "group", "serviceprincipal", "application", "device"})
# Objects under these keys are principals (initiatedBy.user, a decision's principal or reviewedBy, ...).
PRINCIPAL_PARENTS = frozenset({"user", "app", "principal", "reviewedby", "appliedby", "createdby", "owner"})
_MAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+$")


class Pseudonymiser:
    """Keyed pseudonyms of text values: ``pn_`` and 20 hex digits, or that ``@pseudonymised.invalid`` for an
    address, so a column of UPNs still looks like UPNs."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a pseudonymisation key needs at least 16 bytes")
        self._key = key

    def __repr__(self) -> str:
        return "Pseudonymiser(<key withheld>)"

    def __call__(self, value: str) -> str:
        # Addresses are compared without case (Entra's UPNs are), so their pseudonyms are too.
        mail_like = bool(_MAIL_LIKE.match(value))
        text = value.lower() if mail_like else value
        digest = hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:_DIGEST_CHARS]
        return f"pn_{digest}@{PSEUDONYM_DOMAIN}" if mail_like else f"pn_{digest}"

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Makes ``pimlens_pseudonym(varchar)`` callable in `con`'s SQL (NULL stays NULL)."""
        with contextlib.suppress(duckdb.InvalidInputException):
            con.remove_function(PSEUDONYM_FUNCTION)
        con.create_function(PSEUDONYM_FUNCTION, self, ["VARCHAR"], "VARCHAR", side_effects=False)

    def value(self, value: Any) -> Any:
        """A JSON value with every string in it pseudonymised (lists and objects too)."""
        if isinstance(value, str):
            return self(value) if value else value
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value

    def record(self, record: Any, *, principal: bool = False, parent: str = "") -> Any:
        """A Graph or Log Analytics object with every personal property pseudonymised, at any depth; `principal`
        says the object is a user, group or service principal (its display name is then personal too)."""
        if isinstance(record, list):
            return [self.record(item, principal=principal, parent=parent) for item in record]
        if isinstance(record, str):
            return self._embedded_json(record, parent)
        if not isinstance(record, dict):
            return record
        principal = principal or is_principal(record, parent)
        masked = {
            key: self.value(value) if is_personal_property(key, principal) else self.record(value, parent=key)
            for key, value in record.items()
        }
        # Audit events list details as {"key": "Justification", "value": "..."} pairs.
        if isinstance(record.get("key"), str) and "value" in record and is_personal_property(record["key"]):
            masked["value"] = self.value(record["value"])
        return masked

    def _embedded_json(self, text: str, parent: str) -> str:
        """Log Analytics' dynamic columns (InitiatedBy, TargetResources, ...) are JSON inside a string."""
        if not text.startswith(("{", "[")):
            return text
        try:
            document = json.loads(text)
        except ValueError:
            return text
        return json.dumps(self.record(document, parent=parent), separators=(",", ":"), ensure_ascii=False)


def is_personal_column(column: str) -> bool:
    name = column.lower()
    return name in FREE_TEXT_COLUMNS or name.endswith(PERSONAL_COLUMN_SUFFIXES)


def is_principal(record: dict[str, Any], parent: str = "") -> bool:
    odata_type = str(record.get("@odata.type", "")).lower().removeprefix("#microsoft.graph.")
    return (
        parent.lower() in PRINCIPAL_PARENTS
        or odata_type in PRINCIPAL_TYPES
        or str(record.get("type", "")).lower() in PRINCIPAL_TYPES
        or "userPrincipalName" in record
    )


def is_personal_property(name: str, principal: bool = False) -> bool:
    return name.lower() in PERSONAL_PROPERTIES or (principal and name.lower() in PRINCIPAL_NAME_PROPERTIES)


def select_expression(column: str, expression: str, data_type: str, pseudonymiser: Pseudonymiser | None) -> str:
    """`expression` for `column`, wrapped in the pseudonym function when the column is personal text."""
    if pseudonymiser is None or data_type != "VARCHAR" or not is_personal_column(column):
        return expression
    return f"{PSEUDONYM_FUNCTION}({expression})"
