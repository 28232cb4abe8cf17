"""Governance controls beyond enforced MFA and break-glass (docs/metrics.md, "Controls coverage"): what the
generator plants for them, and their truth from its own model (never from the files written, never through
warehouse code, like the rest of ground_truth.py).

Planted by `plant_governance`, before the history is drawn and without spending randomness:
- authentication context on activation: at least two tier-0 roles ask for one instead of plain MFA (a role taken
  from MFA keeps `requires_mfa`, so no verdict moves); the last of them by id asks for the context that only a
  report-only Conditional Access policy targets, which protects nothing;
- approvers: Global Administrator's approval rule also lists a disabled account and a plain security group (whose
  members pimlens does not read), Privileged Role Administrator's a deleted account and a role-assignable group.
  The history picks deciders from `approver_ids` only, so none of them decides a request.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.effective_privilege import PrivilegePath
from pipelines.demo_tenant.ids import derived_guid
from pipelines.demo_tenant.model import ActivationRequest, Decision, Group, RolePolicy, TenantModel, User
from pipelines.demo_tenant.surfaces.conditional_access import (
    ACTIVATION_CONTEXT,
    ENABLED,
    UNENFORCED_CONTEXT,
    conditional_access_policies,
)
from pipelines.demo_tenant.surfaces.context import Context
from pipelines.demo_tenant.surfaces.groups import PimGroups

GOVERNANCE_METRICS = (
    "unenforced_authentication_contexts",
    "approver_check_failures",
    "peak_monthly_approver_load",
    "administrative_unit_scoped_share",
)
AU_SCOPE_PREFIX = "/administrativeUnits/"


def plant_governance(
    policies: Sequence[RolePolicy], tiers: dict[str, int], tenant_id: str, users: Sequence[User], groups: list[Group]
) -> list[RolePolicy]:
    """The directory role policies with both authentication-context cases and the unavailable approvers."""
    policies = list(policies)
    index = {policy.role_id: number for number, policy in enumerate(policies)}
    tier0 = sorted((p for p in policies if tiers[p.role_id] == 0), key=lambda p: p.role_id)
    with_context = [p.role_id for p in tier0 if p.authentication_context is not None]
    spare = [p.role_id for p in tier0 if p.authentication_context is None and p.mfa_on_activation]
    while len(with_context) < 2 and spare:
        role_id = spare.pop(0)
        policies[index[role_id]] = replace(
            policies[index[role_id]], mfa_on_activation=False, authentication_context=ACTIVATION_CONTEXT
        )
        with_context.append(role_id)
    if len(with_context) >= 2:
        last = index[max(with_context)]
        policies[last] = replace(policies[last], authentication_context=UNENFORCED_CONTEXT)

    disabled = sorted((u for u in users if not u.account_enabled and not u.is_break_glass), key=lambda u: u.id)
    assignable = [g for g in groups if g.is_assignable_to_role]
    plain = [g for g in groups if not g.is_assignable_to_role]
    planted: dict[str, list[tuple[str, str, str]]] = {
        catalog.GLOBAL_ADMINISTRATOR: [
            *(("user", u.id, u.display_name) for u in disabled[:1]),
            *(("group", g.id, g.display_name) for g in plain[:1]),
        ],
        catalog.PRIVILEGED_ROLE_ADMINISTRATOR: [
            ("user", derived_guid(tenant_id, "deleted-approver"), "Former privileged role approver"),
            *(("group", g.id, g.display_name) for g in assignable[-1:]),
        ],
    }
    for role_id, approvers in planted.items():
        if role_id in index and approvers:
            policies[index[role_id]] = replace(policies[index[role_id]], listed_only_approvers=tuple(approvers))
    return policies


def governance_findings(
    model: TenantModel, history: Sequence[ActivationRequest], privileged_paths: Iterable[PrivilegePath]
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(the metrics of GOVERNANCE_METRICS, the rows the end-to-end tests compare): controls-coverage rows of the
    authentication contexts and approvers, the approver load per month, the administrative-unit scoping per role."""
    controls = _authentication_contexts(model) + _approvers(model, history)
    load = _approver_load(history)
    scoping = _administrative_unit_scoping(model, privileged_paths)
    pairs = sum(row["holder_role_pairs"] for row in scoping)
    metrics = {
        "unenforced_authentication_contexts": sum(
            1 for row in controls if row["control"] == "activation_authentication_context" and not row["is_met"]
        ),
        "approver_check_failures": sum(
            1 for row in controls if row["control"].startswith("approver_") and row["is_met"] is False
        ),
        "peak_monthly_approver_load": max((row["decided"] for row in load), default=0),
        "administrative_unit_scoped_share": (
            sum(row["administrative_unit_pairs"] for row in scoping) / pairs if pairs else None
        ),
    }
    return metrics, {"controls": controls, "approver_load": load, "administrative_unit_scoping": scoping}


def _control(control: str, role_id: str | None, user_id: str | None, group_id: str | None, met: bool | None) -> dict:
    return {
        "control": control,
        "role_definition_id": role_id,
        "user_id": user_id,
        "approver_group_id": group_id,
        "is_met": met,
    }


def _authentication_contexts(model: TenantModel) -> list[dict[str, Any]]:
    """Each privileged role whose activation asks for an authentication context: met when an enabled Conditional
    Access policy targets that context."""
    enforced = {
        context
        for policy in conditional_access_policies(model)
        if policy.state == ENABLED
        for context in policy.authentication_contexts
    }
    privileged = {role.id for role in model.roles if role.counts_as_privileged}
    return [
        _control("activation_authentication_context", p.role_id, None, None, p.authentication_context in enforced)
        for p in model.policies
        if p.role_id in privileged and p.authentication_context is not None
    ]


def _approvers(model: TenantModel, history: Sequence[ActivationRequest]) -> list[dict[str, Any]]:
    """Each approver of each role whose activation needs approval: a user exists, and if so is enabled; a group
    approver is each user member the warehouse reads (it reads the members of role-assignable groups), one missing
    approver when it has none or is gone, and unknown for a plain group. Each user who decided a
    request: never approved their own."""
    users = {u.id: u for u in model.users}
    groups = {g.id: g for g in model.groups}
    members = PimGroups(Context(model)).members
    rows = []
    for p in model.policies:
        if not p.approval_required:
            continue
        listed = [(a, None) for a in p.approver_ids]
        for kind, approver_id, _ in p.listed_only_approvers:
            if kind == "user":
                listed.append((approver_id, None))
                continue
            group = groups.get(approver_id)
            if group is not None and not group.is_assignable_to_role:
                # Its members are not read: unknown, never a pass.
                rows.append(_control("approver_exists", p.role_id, None, approver_id, None))
                continue
            found = [m for m in members.get(approver_id, []) if m in users] if group is not None else []
            listed += [(m, approver_id) for m in found]
            if not found:
                rows.append(_control("approver_exists", p.role_id, None, approver_id, False))
        for user_id, group_id in dict.fromkeys(listed):
            user = users.get(user_id)
            rows.append(_control("approver_exists", p.role_id, user_id, group_id, user is not None))
            if user is not None:
                rows.append(_control("approver_enabled", p.role_id, user_id, group_id, user.account_enabled))
    deciders: dict[str, bool] = {}
    for r in history:
        if r.approver_id is not None and r.decided_at is not None:
            self_approved = r.approver_id == r.principal_id and r.decision is Decision.APPROVED
            deciders[r.approver_id] = deciders.get(r.approver_id, False) or self_approved
    rows += [_control("approver_not_requester", None, user_id, None, not found) for user_id, found in deciders.items()]
    return rows


def _month(at: int) -> str:
    return datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-01")


def _approver_load(history: Sequence[ActivationRequest]) -> list[dict[str, Any]]:
    """Requests each approver decided per calendar month of the decision (UTC)."""
    decided: Counter[tuple[str, str]] = Counter()
    approved: Counter[tuple[str, str]] = Counter()
    for r in history:
        if r.approver_id is None or r.decided_at is None:
            continue
        key = (r.approver_id, _month(r.decided_at))
        decided[key] += 1
        approved[key] += r.decision is Decision.APPROVED
    return [
        {
            "approver_id": approver,
            "decision_month": month,
            "decided": count,
            "approved": approved[(approver, month)],
            "denied": count - approved[(approver, month)],
        }
        for (approver, month), count in sorted(decided.items())
    ]


def _administrative_unit_scoping(model: TenantModel, privileged_paths: Iterable[PrivilegePath]) -> list[dict]:
    """Per privileged role held: its holder-role pairs, those held at administrative units only, and the units it
    is held at."""
    names = {unit.scope: unit.display_name for unit in model.administrative_units}
    scopes: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in privileged_paths:
        if path.is_holder:
            scopes[path.role_id][path.principal_id].add(path.directory_scope_id)
    rows = []
    for role_id, holders in sorted(scopes.items()):
        held_at = {scope for found in holders.values() for scope in found if scope.startswith(AU_SCOPE_PREFIX)}
        rows.append(
            {
                "role_definition_id": role_id,
                "holder_role_pairs": len(holders),
                "administrative_unit_pairs": sum(
                    1 for found in holders.values() if all(s.startswith(AU_SCOPE_PREFIX) for s in found)
                ),
                "administrative_unit_names": ", ".join(
                    sorted({names.get(s, s.removeprefix(AU_SCOPE_PREFIX)) for s in held_at})
                )
                or None,
            }
        )
    return rows
