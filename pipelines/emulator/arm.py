"""Azure Resource Manager's `Microsoft.Authorization` reads (graph-pim.md §5) over the tenant's `arm/` files.

    GET /subscriptions/{id}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01
    GET /providers/Microsoft.Management/managementGroups/{id}/providers/Microsoft.Authorization/roleAssignments?...

A URL maps to `arm/<its path>.json` (docs/tenant-format.md); ARM's case-insensitive segments are matched to the
spelling the files use. Pages carry `value` and `nextLink` (not `@odata.nextLink`). `api-version` is required
(any `YYYY-MM-DD[-preview]` is accepted: the emulator serves one shape per collection). `$filter` understands
`atScope()`, `principalId eq '{id}'`, `assignedTo('{id}')` (direct assignments only), `roleName eq '...'` and
`type eq '...'`, joined with `and`. Documented ARM read limits are not enforced.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pipelines.emulator.odata import ODataError
from pipelines.emulator.paging import PageToken
from pipelines.emulator.store import TenantStore

# The pseudo-permission standing for "an Azure RBAC role at the scope that grants Microsoft.Authorization/*/read"
# (Reader, or anything above it). Put it in EmulatorOptions.granted_permissions to let the app read ARM.
ARM_READ_PERMISSION = "Microsoft.Authorization/*/read"
COLLECTIONS = {
    name.lower(): name
    for name in (
        "roleAssignments",
        "roleDefinitions",
        "roleEligibilityScheduleInstances",
        "roleAssignmentScheduleInstances",
        "roleEligibilitySchedules",
        "roleAssignmentSchedules",
        "roleEligibilityScheduleRequests",
        "roleAssignmentScheduleRequests",
        "roleManagementPolicies",
        "roleManagementPolicyAssignments",
    )
}
DEFAULT_PAGE = 100
MAX_PAGE = 1000
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
_CLAUSE = re.compile(
    r"^(?:(?P<at>atScope\(\))|(?P<prop>principalId|roleName|type)\s+eq\s+'(?P<value>[^']*)'"
    r"|assignedTo\('(?P<assigned>[^']*)'\))$",
    re.IGNORECASE,
)
_PROPERTY = {"principalid": "principalId", "rolename": "roleName", "type": "type"}


class ArmError(Exception):
    """An ARM error response: `{"error": {"code": ..., "message": ...}}` with `status`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class ArmTarget:
    key: str  # collection key: "arm/subscriptions/{id}/providers/Microsoft.Authorization/roleAssignments"
    scope: str  # "/subscriptions/{id}"
    collection: str  # "roleAssignments"


def resolve_target(segments: list[str]) -> ArmTarget | None:
    """The collection a path names, or None when it is not an ARM Microsoft.Authorization collection."""
    if len(segments) < 5 or [s.lower() for s in segments[-3:-1]] != ["providers", "microsoft.authorization"]:
        return None
    collection = COLLECTIONS.get(segments[-1].lower())
    scope = segments[:-3]
    lowered = [s.lower() for s in scope]
    if len(scope) == 2 and lowered[0] == "subscriptions":
        canonical = ["subscriptions", scope[1]]
    elif len(scope) == 4 and lowered[0] == "subscriptions" and lowered[2] == "resourcegroups":
        canonical = ["subscriptions", scope[1], "resourceGroups", scope[3]]
    elif len(scope) == 4 and lowered[:3] == ["providers", "microsoft.management", "managementgroups"]:
        canonical = ["providers", "Microsoft.Management", "managementGroups", scope[3]]
    else:
        return None
    if collection is None:
        return None
    key = "/".join(["arm", *canonical, "providers", "Microsoft.Authorization", collection])
    return ArmTarget(key, "/" + "/".join(canonical), collection)


def _predicate(filter_text: str | None, scope: str) -> Callable[[dict[str, Any]], bool] | None:
    if not filter_text:
        return None
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for clause in re.split(r"\s+and\s+", filter_text.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.match(clause.strip())
        if match is None:
            raise ArmError(400, "InvalidFilter", f"The filter '{filter_text}' is not supported by this collection.")
        if match["at"]:
            tests.append(lambda r: _props(r).get("scope", scope).lower() == scope.lower())
        elif match["assigned"] is not None:
            wanted = match["assigned"].lower()
            tests.append(lambda r, w=wanted: str(_props(r).get("principalId", "")).lower() == w)
        else:
            name, value = _PROPERTY[match["prop"].lower()], match["value"].lower()
            tests.append(lambda r, n=name, v=value: str(_props(r).get(n, "")).lower() == v)
    return lambda record: all(test(record) for test in tests)


def _props(record: dict[str, Any]) -> dict[str, Any]:
    props = record.get("properties")
    return props if isinstance(props, dict) else {}


class ArmService:
    def __init__(self, store: TenantStore):
        self.store = store

    def page(
        self,
        target: ArmTarget,
        query: list[tuple[str, str]],
        base_url: str,
        *,
        inject_empty: Callable[[], bool],
    ) -> tuple[dict[str, Any], int]:
        """One page of a collection: the body and the number of records in it."""
        params = dict(query)
        version = params.get("api-version")
        if not version:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if not _API_VERSION.match(version):
            raise ArmError(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{version}' is invalid. The supported versions are of the form YYYY-MM-DD.",
            )
        filter_text = params.get("$filter")
        predicate = _predicate(filter_text, target.scope)
        size = DEFAULT_PAGE
        if "$top" in params:
            if not params["$top"].isdigit() or not 1 <= int(params["$top"]) <= MAX_PAGE:
                raise ArmError(400, "InvalidTopParameter", f"$top must be between 1 and {MAX_PAGE}.")
            size = int(params["$top"])
        fingerprint = f"{target.key}|{version}|{filter_text or ''}|{size}"
        offset, after_empty = 0, False
        if "$skiptoken" in params:
            try:
                token = PageToken.decode(params["$skiptoken"], fingerprint)
            except ODataError as exc:
                raise ArmError(400, "InvalidSkipToken", exc.message) from None
            offset, after_empty = token.offset, token.after_empty
        carried = [(n, v) for n, v in query if n != "$skiptoken"]
        link = f"{base_url}/{target.key.removeprefix('arm/')}?" + "".join(
            f"{quote(n, safe='$-')}={quote(v, safe=chr(39) + '()/:')}&" for n, v in carried
        )
        if not after_empty and inject_empty():
            return {"value": [], "nextLink": link + "$skiptoken=" + PageToken(offset, fingerprint, True).encode()}, 0
        collection = self.store.collection(target.key)
        if predicate is None:
            positions: range | list[int] = range(len(collection))
        else:
            positions = [i for i in range(len(collection)) if predicate(collection.record(i))]
        chunk = positions[offset : offset + size]
        body: dict[str, Any] = {"value": [collection.item(i) for i in chunk]}
        if offset + size < len(positions):
            body["nextLink"] = link + "$skiptoken=" + PageToken(offset + size, fingerprint).encode()
        return body, len(chunk)
