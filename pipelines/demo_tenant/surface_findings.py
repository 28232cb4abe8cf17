"""The truth of the privileged surfaces beyond role access (docs/metrics.md, "Sign-ins of privileged accounts",
"Applications and service principals" and "Microsoft's PIM alerts beside pimlens'"), from the generator's model:
its sign-in events, its apps' holdings, owners, credentials and grants, and its own PIM alert incidents.

Never from the files written and never through warehouse code, like the rest of ground_truth.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from pipelines.demo_tenant import catalog, programme
from pipelines.demo_tenant.azure_truth import azure_privileged_holder_paths
from pipelines.demo_tenant.clock import DAY, HOUR, Instant
from pipelines.demo_tenant.effective_privilege import ACTIVE, PrivilegePath
from pipelines.demo_tenant.governance import GOVERNANCE_METRICS, governance_findings
from pipelines.demo_tenant.ids import derived_guid
from pipelines.demo_tenant.model import ActivationRequest, AssignmentKind, TenantModel
from pipelines.demo_tenant.surfaces.alerts import Alerts
from pipelines.demo_tenant.surfaces.apps import GRAPH_APP_ROLES, Apps
from pipelines.demo_tenant.surfaces.conditional_access import ENABLED, conditional_access_policies
from pipelines.demo_tenant.surfaces.context import Context
from pipelines.demo_tenant.surfaces.loganalytics import SignInEvent, SignIns
from pipelines.demo_tenant.surfaces.schedules import Schedules

SIGN_IN_METRICS = (
    "stale_privileged_accounts",
    "activations_from_new_country",
    "activations_from_new_ip_range",
    "activations_from_new_device",
    "break_glass_sign_ins",
)
APPLICATION_METRICS = (
    "tier0_applications",
    "tier0_application_owners",
    "expired_application_credentials",
    "long_lived_application_credentials",
    "high_privilege_delegated_grants",
)
ALERT_METRICS = ("pim_alert_disagreements",)
CONTROL_METRICS = ("privileged_users_without_mfa_policy", "break_glass_check_failures")
SURFACE_METRICS = (*SIGN_IN_METRICS, *APPLICATION_METRICS, *ALERT_METRICS, *CONTROL_METRICS, *GOVERNANCE_METRICS)

BREAK_GLASS_WINDOW = 30 * DAY  # break-glass sign-ins counted over the last 30 days
ACTIVATION_SIGN_IN_WINDOW = HOUR  # an activation is made from the requester's last sign-in in the hour before
# The generator's own judgement of what it plants (graph-pim.md §8): the Graph application permissions it hands out
# that reach tier 0, the delegated scopes it grants that are high privilege, CISA's credential lifetimes.
TIER0_APP_PERMISSIONS = frozenset(
    {
        "RoleManagement.ReadWrite.Directory",
        "AppRoleAssignment.ReadWrite.All",
        "Application.ReadWrite.All",
        "Directory.ReadWrite.All",
        "User.ReadWrite.All",
        "Group.ReadWrite.All",
    }
)
HIGH_PRIVILEGE_DELEGATED_SCOPES = frozenset({"Directory.AccessAsUser.All", "Application.ReadWrite.All"})
MAX_LIFETIME = {"password": 180 * DAY, "certificate": 365 * DAY}
# Microsoft's alert kind -> (pimlens detection, what the two are compared on).
ALERT_KINDS: dict[str, tuple[str | None, str]] = {
    "TooManyGlobalAdminsAssignedToTenantAlert": ("too_many_global_admins", "role"),
    "RolesAssignedOutsidePimAlert": ("assignment_outside_pim", "principal_role"),
    "NoMfaOnRoleActivationAlert": ("no_mfa_on_activation", "role"),
    "RedundantAssignmentAlert": ("stale_eligibility", "principal_role"),
    "StaleSignInAlert": ("stale_sign_in", "principal"),
    "SequentialActivationRenewalsAlert": ("repeated_activation", "principal_role"),
    "InvalidLicenseAlert": (None, "none"),
}
_IPV4 = re.compile(r"^(\d+\.\d+\.\d+)\.\d+$")


def ip_range(address: str) -> str | None:
    """An IPv4 address's /24, an IPv6 address's first three groups."""
    match = _IPV4.match(address)
    if match:
        return match.group(1)
    return ":".join(address.split(":")[:3]) if ":" in address else None


def sign_in_id(event: SignInEvent) -> str:
    return derived_guid(event.user_id, event.key)


def surface_findings(
    model: TenantModel,
    history: Sequence[ActivationRequest],
    privileged_paths: Iterable[PrivilegePath],
    alerts: Sequence[programme.Alert],
) -> tuple[dict[str, int], dict[str, Any]]:
    """(the metrics of SURFACE_METRICS, the rows the end-to-end tests compare) of a tenant."""
    ctx = Context(model)
    privileged_paths = list(privileged_paths)
    paths = [path for path in privileged_paths if path.is_holder]
    events = list(SignIns(ctx).events())
    # Holders of privileged Azure roles are privileged accounts too: their sign-ins and Conditional Access are judged
    # beside the directory roles' holders.
    azure_paths = azure_privileged_holder_paths(model)
    metrics, stale, contexts = _sign_ins(model, history, paths + azure_paths, events)
    app_metrics, risk = _applications(model, ctx, paths)
    metrics |= app_metrics
    last_sign_in: dict[str, Instant] = {}
    for event in events:
        if event.is_success:
            last_sign_in[event.user_id] = max(last_sign_in.get(event.user_id, 0), event.at)
    # Microsoft's StaleSignInAlert watches the holders of directory roles only.
    agreement = _alert_agreement(ctx, last_sign_in, alerts, stale & {path.principal_id for path in paths})
    metrics["pim_alert_disagreements"] = sum(
        row["microsoft"] + row["pimlens"] - 2 * row["both"] for row in agreement if row["compared_on"] != "none"
    )
    control_metrics, controls = _controls(model, paths, azure_paths)
    metrics |= control_metrics
    governance_metrics, governance = governance_findings(model, history, privileged_paths)
    metrics |= governance_metrics
    rows = {
        "controls": [{"role_definition_id": None, "approver_group_id": None, **row} for row in controls]
        + governance.pop("controls"),
        **governance,
        "stale_privileged_accounts": sorted(stale),
        "activation_sign_in_contexts": contexts,
        "application_risk": risk,
        "pim_alert_agreement": agreement,
    }
    return metrics, rows


def _sign_ins(
    model: TenantModel, history: Sequence[ActivationRequest], paths: list[PrivilegePath], events: list[SignInEvent]
) -> tuple[dict[str, int], set[str], list[dict[str, Any]]]:
    as_of = model.tenant.as_of
    users = {u.id: u for u in model.users}
    privileged_roles = {role.id for role in model.roles if role.counts_as_privileged}
    holders = {p.principal_id for p in paths if p.principal_id in users}
    requests = [r for r in history if r.role_id in privileged_roles]
    kept = holders | {r.principal_id for r in requests}
    break_glass = {u.id for u in model.users if u.is_break_glass}
    by_user: dict[str, list[SignInEvent]] = defaultdict(list)
    for event in events:
        if event.user_id in kept and event.at <= as_of:
            by_user[event.user_id].append(event)

    # Each successful sign-in after a user's first: is its country, network, device new for them?
    verdicts: dict[str, tuple[bool, bool, bool] | None] = {}
    for user_events in by_user.values():
        seen: tuple[set[str | None], set[str | None], set[str]] = (set(), set(), set())
        for number, event in enumerate(sorted((e for e in user_events if e.is_success), key=_order)):
            keys = (event.country, ip_range(event.ip), event.device)
            verdicts[sign_in_id(event)] = (
                None if number == 0 else tuple(key not in found for key, found in zip(keys, seen, strict=True))
            )
            for key, found in zip(keys, seen, strict=True):
                found.add(key)

    contexts = []
    counts = {"activations_from_new_country": 0, "activations_from_new_ip_range": 0, "activations_from_new_device": 0}
    for r in requests:
        candidates = [
            e
            for e in by_user.get(r.principal_id, [])
            if e.is_success and e.interactive and r.requested_at - ACTIVATION_SIGN_IN_WINDOW <= e.at <= r.requested_at
        ]
        verdict = verdicts[sign_in_id(max(candidates, key=_order))] if candidates else None
        if verdict is None:
            continue
        for name, is_new in zip(counts, verdict, strict=True):
            counts[name] += is_new
        if any(verdict):
            contexts.append(
                {
                    "request_id": r.request_id,
                    "new_country": verdict[0],
                    "new_ip_range": verdict[1],
                    "new_device": verdict[2],
                }
            )

    last = {user: max((e.at for e in found if e.is_success), default=None) for user, found in by_user.items()}
    cutoff = as_of - programme.STALE_SIGN_IN_DAYS * DAY
    stale = {
        user
        for user in holders
        if user not in break_glass and (last.get(user) is None or last[user] < cutoff)  # type: ignore[operator]
    }
    metrics = {
        "stale_privileged_accounts": len(stale),
        **counts,
        "break_glass_sign_ins": sum(
            1 for user in break_glass for e in by_user.get(user, []) if e.at > as_of - BREAK_GLASS_WINDOW
        ),
    }
    return metrics, stale, sorted(contexts, key=lambda row: row["request_id"])


def _order(event: SignInEvent) -> tuple[Instant, str]:
    return event.at, sign_in_id(event)


def _applications(
    model: TenantModel, ctx: Context, paths: list[PrivilegePath]
) -> tuple[dict[str, int], list[dict[str, str]]]:
    as_of = model.tenant.as_of
    apps = Apps(ctx)
    tier0_permission_ids = {GRAPH_APP_ROLES[name] for name in TIER0_APP_PERMISSIONS}
    roles = {role.id: role for role in model.roles}
    held_roles: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        held_roles[path.principal_id].add(path.role_id)

    def is_tier0(sp_id: str) -> bool:
        permissions = {GRAPH_APP_ROLES[name] for name in apps.held.get(sp_id, [])}
        return bool(permissions & tier0_permission_ids) or any(roles[r].tier == 0 for r in held_roles[sp_id])

    high_grants: dict[str, set[str]] = defaultdict(set)
    for grant in apps.grants:
        if set(grant.scope.split()) & HIGH_PRIVILEGE_DELEGATED_SCOPES:
            high_grants[grant.client_id].add(grant.id)

    risk, expired, long_lived = [], 0, 0
    for sp in apps.own_apps:
        credentials = [("password", c) for c in sp.passwords] + [("certificate", c) for c in sp.certificates]
        app_expired = sum(1 for _, c in credentials if c.end < as_of)
        app_long = sum(1 for kind, c in credentials if c.end - c.start > MAX_LIFETIME[kind])
        expired += app_expired
        long_lived += app_long
        tier0 = is_tier0(sp.id)
        privileged = any(roles[r].counts_as_privileged for r in held_roles[sp.id])
        if tier0 and (sp.passwords or apps.owner_ids.get(sp.id)):
            level = "critical"
        elif tier0 or privileged or high_grants[sp.id]:
            level = "high"
        elif app_expired or app_long:
            level = "medium"
        else:
            level = "low"
        risk.append({"application_id": apps.application_id[sp.id], "risk_level": level})
    tier0_sps = [sp for sp in apps.tenant_sps if is_tier0(sp.id)]
    metrics = {
        "tier0_applications": sum(1 for sp in apps.own_apps if is_tier0(sp.id)),
        "tier0_application_owners": len({owner for sp in tier0_sps for owner in apps.owner_ids.get(sp.id, [])}),
        "expired_application_credentials": expired,
        "long_lived_application_credentials": long_lived,
        "high_privilege_delegated_grants": sum(len(ids) for ids in high_grants.values()),
    }
    return metrics, sorted(risk, key=lambda row: row["application_id"])


def _alert_agreement(
    ctx: Context, last_sign_in: dict[str, Instant], alerts: Sequence[programme.Alert], stale: set[str]
) -> list[dict[str, Any]]:
    """Per kind of Microsoft's PIM alert: its incidents and pimlens' detections of the same kind, compared on the
    kind's key."""
    schedules = Schedules(ctx)
    for requests in (schedules.eligibility_requests(), schedules.assignment_requests()):
        for _ in requests:  # the digest of the request history fills as they stream by
            pass
    incidents = Alerts(ctx, schedules.digest, last_sign_in).incidents()
    pimlens: dict[str, set[tuple[str | None, str | None]]] = defaultdict(set)
    for alert in alerts:
        pimlens[alert.rule].add((alert.principal_id, alert.role_definition_id))
    pimlens["stale_sign_in"] = {(user, None) for user in stale}
    rows = []
    for kind, (rule, compared_on) in ALERT_KINDS.items():
        found = {_key(compared_on, i.get("assigneeId"), i.get("roleDefinitionId")) for i in incidents[kind]}
        ours = {_key(compared_on, principal, role) for principal, role in pimlens.get(rule or "", set())}
        if compared_on == "none":
            found, ours = set(), set()
        rows.append(
            {
                "alert_kind": kind,
                "compared_on": compared_on,
                "microsoft": len(found),
                "pimlens": len(ours),
                "both": len(found & ours),
            }
        )
    return rows


def _key(compared_on: str, principal: str | None, role: str | None) -> str | None:
    if compared_on == "principal_role":
        return f"{principal}|{role}"
    return role if compared_on == "role" else principal


def _controls(
    model: TenantModel, paths: list[PrivilegePath], azure_paths: list[PrivilegePath]
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """fct_controls_coverage: enforced MFA for each user holding a privileged role (directory or Azure) by an active
    path, and the checks of each break-glass account. Conditional Access targets a directory role's holders once
    active, never an Azure role's; the generator's policies name users and roles, never groups."""
    users = {u.id: u for u in model.users}
    glass = [u for u in model.users if u.is_break_glass]
    active_roles: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        if path.state == ACTIVE and path.principal_id in users:
            active_roles[path.principal_id].add(path.role_id)

    def targeting(user_id: str) -> list:
        found = []
        for policy in conditional_access_policies(model):
            included = (
                "All" in policy.include_users
                or user_id in policy.include_users
                or bool(active_roles[user_id] & set(policy.include_roles))
            )
            if policy.state == ENABLED and included and user_id not in policy.exclude_users:
                found.append(policy)
        return found

    rows = []
    glass_ids = {u.id for u in glass}
    privileged_roles = {role.id for role in model.roles if role.counts_as_privileged}
    holders = {
        p.principal_id for p in paths if p.state == ACTIVE and p.principal_id in users and p.role_id in privileged_roles
    } | {p.principal_id for p in azure_paths if p.state == ACTIVE and p.principal_id in users}
    for user_id in sorted(holders - glass_ids):
        covered = any(p.requires_mfa and "All" in p.include_applications for p in targeting(user_id))
        rows.append({"control": "conditional_access_mfa", "user_id": user_id, "is_met": covered})
    permanent_ga = {
        a.principal_id
        for a in model.assignments
        if a.role_id == catalog.GLOBAL_ADMINISTRATOR
        and a.directory_scope_id == "/"
        and (a.kind is AssignmentKind.OUTSIDE_PIM or (a.kind is AssignmentKind.ASSIGNED and a.end is None))
    }
    for user in glass:
        checks = {
            "break_glass_exists": True,
            "break_glass_enabled": user.account_enabled,
            "break_glass_cloud_only": not user.synced and user.user_principal_name.endswith(".onmicrosoft.com"),
            "break_glass_permanent_global_admin": user.id in permanent_ga,
            "break_glass_excluded_from_conditional_access": not targeting(user.id),
        }
        rows += [{"control": control, "user_id": user.id, "is_met": met} for control, met in checks.items()]
    metrics = {
        "privileged_users_without_mfa_policy": sum(
            1 for row in rows if row["control"] == "conditional_access_mfa" and not row["is_met"]
        ),
        "break_glass_check_failures": sum(
            1 for row in rows if row["control"].startswith("break_glass") and not row["is_met"]
        ),
    }
    return metrics, sorted(rows, key=lambda row: (row["control"], row["user_id"]))
