"""Page sizes per collection and the opaque `$skiptoken` carried in `@odata.nextLink`.

Page sizes follow shared/reference/graph-pim.md §1 and §11.1 and perf-reliability.md §1.2:
- directory objects (users, groups, servicePrincipals, applications, ...): default 100, `$top` 1..999, a larger
  `$top` is a 400 ("Invalid page size specified ... between 1 and 999") [documented];
- auditLogs (directoryAudits, signIns): `$top` is documented but its bounds are not; we use default 100 and
  maximum 999 like directory objects (UNDOCUMENTED, our assumption);
- PIM (roleManagement/*, policies/*, identityGovernance/privilegedAccess/* and roleManagementAlerts): the docs
  list only `$select/$filter/$expand`, so `$top` is ignored and pages are server-driven, 100 records each
  (the size is our assumption; clients must only follow nextLink);
- accessReviews: default 100, paged with `$top`/`$skip` as the docs tell clients to do;
- directoryRoles: not paged at all.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import orjson

from pipelines.emulator.odata import ODataError
from pipelines.emulator.paths import matches


@dataclass(frozen=True)
class PageRule:
    default: int | None  # None: everything in one page
    maximum: int | None  # None: `$top` is ignored (server-driven pages)
    allows_skip: bool = False


DIRECTORY = PageRule(default=100, maximum=999)
SERVER_DRIVEN = PageRule(default=100, maximum=None)

# First match wins; patterns are matched segment by segment (fnmatch), a shorter pattern matches a prefix.
PAGE_RULES: tuple[tuple[tuple[str, ...], PageRule], ...] = (
    (("directoryRoles",), PageRule(default=None, maximum=None)),
    (("auditLogs",), DIRECTORY),
    (("roleManagement",), SERVER_DRIVEN),
    (("policies", "roleManagement*"), SERVER_DRIVEN),
    (("identityGovernance", "privilegedAccess"), SERVER_DRIVEN),
    (("identityGovernance", "roleManagementAlerts"), SERVER_DRIVEN),
    (("identityGovernance", "accessReviews"), PageRule(default=100, maximum=999, allows_skip=True)),
)


def page_rule(path: list[str]) -> PageRule:
    """The rule for a collection path without its API version, e.g. `["users"]`."""
    for pattern, rule in PAGE_RULES:
        if matches(path, pattern):
            return rule
    return DIRECTORY


def page_size(rule: PageRule, top: int | None) -> int | None:
    if rule.maximum is None or top is None:
        return rule.default
    if not 1 <= top <= rule.maximum:
        raise ODataError(
            f"Invalid page size specified: '{top}'. Must be between 1 and {rule.maximum} inclusive.",
            "Request_BadRequest",
        )
    return top


@dataclass(frozen=True)
class PageToken:
    """What a `$skiptoken` encodes. `after_empty` marks a token handed out on an injected empty page, so the
    page it leads to is never empty again: the client always makes progress."""

    offset: int
    fingerprint: str
    after_empty: bool = False

    def encode(self) -> str:
        raw = orjson.dumps([self.offset, self.fingerprint, int(self.after_empty)])
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, token: str, fingerprint: str) -> PageToken:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            offset, token_fingerprint, after_empty = orjson.loads(raw)
        except (binascii.Error, ValueError, TypeError):
            raise ODataError("The page token is not valid.", "Directory_InvalidPageToken") from None
        if token_fingerprint != fingerprint or not isinstance(offset, int) or offset < 0:
            raise ODataError("The page token does not belong to this request.", "Directory_InvalidPageToken")
        return cls(offset, token_fingerprint, bool(after_empty))
