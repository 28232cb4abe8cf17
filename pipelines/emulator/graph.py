"""Microsoft Graph collections: a URL path and its query options in, one response page out."""

from __future__ import annotations

import dataclasses
import re
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pipelines.emulator.odata import Expand, ODataError, QueryOptions, parse_filter_fully, resolve, sort_key
from pipelines.emulator.paging import PageToken, page_rule, page_size
from pipelines.emulator.paths import is_safe_segment, matches
from pipelines.emulator.store import Collection, TenantStore

# Collections Graph refuses to list without these `eq` filters (graph-pim.md §3, §4, §10). Each entry lists
# alternatives; every property of one alternative must be filtered with `eq`.
REQUIRED_FILTERS: tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...] = (
    (("policies", "roleManagementPolicyAssignments"), (("scopeId", "scopeType"),)),
    (("policies", "roleManagementPolicies"), (("scopeId", "scopeType"),)),
    (("identityGovernance", "privilegedAccess", "group", "*"), (("groupId",), ("principalId",))),
    (("identityGovernance", "roleManagementAlerts", "*"), (("scopeId", "scopeType"),)),
)

# The `$expand`s answered by joining files (docs/tenant-format.md): navigation property -> nested ones allowed.
EXPANDS: dict[tuple[str, ...], dict[str, frozenset[str]]] = {
    ("policies", "roleManagementPolicyAssignments"): {"policy": frozenset({"rules"})},
    ("policies", "roleManagementPolicies"): {"rules": frozenset()},
}

# Role policies of directory roles answer a filter on either scopeType, Directory or DirectoryRole, and echo the one
# sent in scopeType and in the ids (`Directory_{tenant}_{policy}` / `DirectoryRole_{tenant}_{policy}`), whichever
# the tenant's files hold (graph-pim-real-world.md section 11).
POLICY_COLLECTIONS = (("policies", "roleManagementPolicyAssignments"), ("policies", "roleManagementPolicies"))
DIRECTORY_SCOPE_TYPES = ("Directory", "DirectoryRole")
_SCOPE_TYPE_TERM = re.compile(r"(scopeType\s+eq\s+')(Directory|DirectoryRole)(')")
_SCOPED_ID = re.compile(r"^(Directory|DirectoryRole)_")

# Characters left as they are in nextLinks, as Graph writes them (`$filter=scopeId eq '/'` keeps its quotes).
_PATH_SAFE = "'()=,:@"
_VALUE_SAFE = "'(),/:$=@*"

# What Graph answers (404) for the mailbox settings of a user without an Exchange Online mailbox.
MAILBOX_NOT_ENABLED = "MailboxNotEnabledForRESTAPI"
MAILBOX_NOT_ENABLED_MESSAGE = "The mailbox is either inactive, soft-deleted, or is hosted on-premise."

# Distinct filtered/sorted results kept for paging through them, as record positions (8 bytes each).
RESULT_CACHE_SIZE = 32


@dataclass(frozen=True)
class GraphPage:
    collection: str  # "v1.0/users": the key stats count pages and rows under
    body: dict[str, Any]
    rows: int


class GraphService:
    def __init__(self, store: TenantStore):
        self.store = store
        self._results: OrderedDict[tuple[Any, ...], Sequence[int]] = OrderedDict()
        self._lock = threading.Lock()

    def page(
        self,
        version: str,
        path: list[str],
        options: QueryOptions,
        base_url: str,
        *,
        inject_empty: Callable[[], bool],
    ) -> GraphPage:
        """One page of a collection; `inject_empty` is asked whether to insert an extra empty page here."""
        key = f"{version}/{'/'.join(path)}"
        _check_required_filter(path, options)
        _check_expand(path, options.expand)
        rule = page_rule(path)
        size = page_size(rule, options.top)
        if options.skip is not None and not rule.allows_skip:
            raise ODataError("'$skip' is not supported by the service.", "Request_UnsupportedQuery")
        fingerprint = options.fingerprint(key)
        if options.skiptoken is not None:
            token = PageToken.decode(options.skiptoken, fingerprint)
            offset, after_empty = token.offset, token.after_empty
        else:
            offset, after_empty = max(options.skip or 0, 0), False

        context = f"{base_url}/{version}/$metadata#{'/'.join(path)}"
        if options.select:
            context += f"({','.join(options.select)})"
        body: dict[str, Any] = {"@odata.context": context}
        next_link = _next_link_base(base_url, version, path, options)

        if not after_empty and inject_empty():
            body["value"] = []
            body["@odata.nextLink"] = next_link + PageToken(offset, fingerprint, after_empty=True).encode()
            return GraphPage(key, body, 0)

        collection = self.store.collection(key)
        scope_type = _directory_scope_type(path, options)
        selected = self._result(key, collection, options)
        if scope_type is not None:
            other = dataclasses.replace(options, **_with_scope_type(options, _other_scope_type(scope_type)))
            selected = sorted({*selected, *self._result(key, collection, other)})
        end = len(selected) if size is None else offset + size
        chunk = selected[offset:end]
        if options.select is None and not options.expand and tuple(path) not in POLICY_COLLECTIONS:
            body["value"] = [collection.item(i) for i in chunk]
        else:
            body["value"] = [
                _echo_scope_type(self._shape(version, collection.record(i), options.select, options.expand), scope_type)
                for i in chunk
            ]
        if end < len(selected):
            body["@odata.nextLink"] = next_link + PageToken(end, fingerprint).encode()
        return GraphPage(key, body, len(chunk))

    def mailbox_settings(self, version: str, user_id: str, base_url: str) -> dict[str, Any] | ODataError:
        """A user's mailbox settings (`<version>/mailboxSettings.json`, keyed by the user's id), or the error Graph
        gives: 404 MailboxNotEnabledForRESTAPI for a user without a mailbox, Request_ResourceNotFound for no user.
        """
        if user_id not in self.store.index_by_id(f"{version}/users"):
            return ODataError(
                f"Resource '{user_id}' does not exist or one of its queried reference-property objects are not "
                "present.",
                "Request_ResourceNotFound",
            )
        settings = self.store.index_by_id(f"{version}/mailboxSettings").get(user_id)
        if settings is None:
            return ODataError(MAILBOX_NOT_ENABLED_MESSAGE, MAILBOX_NOT_ENABLED)
        context = f"{base_url}/{version}/$metadata#users('{quote(user_id, safe='')}')/mailboxSettings"
        return {"@odata.context": context, **{k: v for k, v in settings.items() if k != "id"}}

    def _result(self, key: str, collection: Collection, options: QueryOptions) -> Sequence[int]:
        """Positions of the records a query selects, in order; cached so each page is a slice, not a re-scan."""
        if options.predicate is None and not options.orderby:
            return range(len(collection))
        cache_key = (key, *options.result_key)
        with self._lock:
            cached = self._results.get(cache_key)
            if cached is not None:
                self._results.move_to_end(cache_key)
                return cached
        predicate = options.predicate
        paths = [prop.split("/") for prop, _ in options.orderby]
        # A record without the texts some branch of the filter requires cannot match: not parsed at all.
        rows = [
            (i, [sort_key(resolve(record, steps)) for steps in paths])
            for i, record in collection.records_holding_any(options.needles)
            if predicate is None or predicate(record)
        ]
        # Stable sorts from the last key to the first give a multi-key order with mixed directions.
        for n in reversed(range(len(paths))):
            rows.sort(key=lambda row, n=n: row[1][n], reverse=options.orderby[n][1])
        result = array("q", (i for i, _ in rows))
        with self._lock:
            self._results[cache_key] = result
            while len(self._results) > RESULT_CACHE_SIZE:
                self._results.popitem(last=False)
        return result

    def _shape(
        self,
        version: str,
        record: dict[str, Any],
        select: tuple[str, ...] | None,
        expands: tuple[Expand, ...],
    ) -> dict[str, Any]:
        """Apply $select and $expand to one record, always on a new dict: the shared record stays as it is."""
        if select is None:
            shaped = dict(record)
        else:
            # Graph returns only the selected properties, plus the @odata.type of a derived type.
            shaped = {k: v for k, v in record.items() if k in select or k.startswith("@odata.")}
        # A policy file may hold each policy's rules inline; Graph returns them only when asked with $expand.
        shaped.pop("rules", None)
        for item in expands:
            if item.name == "policy":
                stored = self.store.index_by_id(f"{version}/policies/roleManagementPolicies").get(
                    record.get("policyId", "")
                )
                policy = None
                if stored is not None:
                    policy = {k: v for k, v in stored.items() if k != "rules"}
                    if item.nested:
                        policy["rules"] = self._rules(version, stored)
                shaped["policy"] = policy
            elif item.name == "rules":
                shaped["rules"] = self._rules(version, record)
        return shaped

    def _rules(self, version: str, policy: dict[str, Any] | None) -> list[Any]:
        """A policy's rules: inline in the policy file when it holds them, else from the policy's rules file."""
        if policy is None:
            return []
        inline = policy.get("rules")
        if isinstance(inline, list):
            return inline
        policy_id = policy.get("id")
        if not isinstance(policy_id, str) or not is_safe_segment(policy_id):
            return []
        rules = self.store.collection(f"{version}/policies/roleManagementPolicies/{policy_id}/rules")
        return [rules.item(i) for i in range(len(rules))]


def _directory_scope_type(path: list[str], options: QueryOptions) -> str | None:
    """The directory scopeType a role-policy query filtered on (Directory or DirectoryRole), else None."""
    if tuple(path) not in POLICY_COLLECTIONS:
        return None
    asked = dict(options.equalities).get("scopeType")
    return asked if asked in DIRECTORY_SCOPE_TYPES else None


def _other_scope_type(scope_type: str) -> str:
    return DIRECTORY_SCOPE_TYPES[1 - DIRECTORY_SCOPE_TYPES.index(scope_type)]


def _with_scope_type(options: QueryOptions, scope_type: str) -> dict[str, Any]:
    """The filter fields of `options` asking for `scope_type` instead."""
    text = _SCOPE_TYPE_TERM.sub(lambda m: m.group(1) + scope_type + m.group(3), options.filter_text or "")
    parsed = parse_filter_fully(text)
    return {
        "filter_text": text,
        "predicate": parsed.predicate,
        "equalities": parsed.equalities,
        "needles": parsed.needles,
    }


def _echo_scope_type(record: dict[str, Any], scope_type: str | None) -> dict[str, Any]:
    """A directory-role policy record as Graph answers a filter on `scope_type`: echoed in scopeType and ids."""
    if scope_type is None:
        return record
    for name in ("id", "policyId"):
        if isinstance(record.get(name), str):
            record[name] = _SCOPED_ID.sub(scope_type + "_", record[name])
    if isinstance(record.get("policy"), dict):
        record["policy"] = _echo_scope_type(dict(record["policy"]), scope_type)
    if record.get("scopeType") in DIRECTORY_SCOPE_TYPES:
        record["scopeType"] = scope_type
    return record


def _check_required_filter(path: list[str], options: QueryOptions) -> None:
    filtered = {name for name, _ in options.equalities}
    for pattern, alternatives in REQUIRED_FILTERS:
        if matches(path, pattern, exact=True):
            if not any(set(names) <= filtered for names in alternatives):
                wanted = " or ".join(" and ".join(f"{n} eq '...'" for n in names) for names in alternatives)
                raise ODataError(f"This collection requires a filter: $filter={wanted}.", "BadRequest")
            return


def _check_expand(path: list[str], expand: tuple[Expand, ...]) -> None:
    allowed = next((a for pattern, a in EXPANDS.items() if matches(path, pattern, exact=True)), {})
    for item in expand:
        nested_allowed = allowed.get(item.name)
        if nested_allowed is None or any(n.name not in nested_allowed or n.nested for n in item.nested):
            raise ODataError(
                f"Parsing OData Select and Expand failed: could not expand '{item.name}' here "
                f"(supported: {', '.join(sorted(allowed)) or 'none'}).",
                "BadRequest",
            )


def _next_link_base(base_url: str, version: str, path: list[str], options: QueryOptions) -> str:
    """The nextLink up to the token value: the original query options, then `$skiptoken=`."""
    segments = "/".join(quote(s, safe=_PATH_SAFE) for s in path)
    query = "".join(f"{quote(n, safe='$')}={quote(v, safe=_VALUE_SAFE)}&" for n, v in options.carried)
    return f"{base_url}/{version}/{segments}?{query}$skiptoken="
