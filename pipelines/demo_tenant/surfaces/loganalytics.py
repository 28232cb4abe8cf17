"""Log Analytics tables: the directory audits (PIM and admin tasks) in `AuditLogs` column shape, and `SigninLogs`.

AuditLogs rows are the very events of `directoryAudits.json` (same ids, times and payloads), renamed to the
table's columns (graph-pim.md §7.2). SigninLogs holds an interactive sign-in shortly before every
activation request, by the requester from the request's address, plus everyday sign-ins of enabled users over
the last 30 days (users who never activate mostly stop signing in: stale accounts). Rows are written in time
order, merged lazily, so an L tenant's sign-ins never sit in memory.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from operator import itemgetter

from pipelines.demo_tenant import wire
from pipelines.demo_tenant.clock import DAY, HOUR, MINUTE, SECOND, Instant, iso
from pipelines.demo_tenant.history import HistoryContext, eligibility_history, has_history
from pipelines.demo_tenant.ids import derived_guid
from pipelines.demo_tenant.model import User
from pipelines.demo_tenant.surfaces.context import Context, Json

RECENT_DAYS = 30
APPS = (
    ("Office 365 Exchange Online", 8),
    ("Microsoft Teams", 6),
    ("Office 365 SharePoint Online", 3),
    ("Azure Portal", 1),
    ("Microsoft Authenticator App", 1),
)
FAILURES = (
    ("50126", "Invalid username or password."),
    ("50074", "Strong Authentication is required."),
    ("53003", "Access has been blocked by Conditional Access policies."),
)


def audit_rows(ctx: Context) -> Iterator[Json]:
    """`AuditLogs` rows, oldest first; TimeGenerated is when the event reached the workspace."""
    tenant = ctx.model.tenant.id
    resource_id = f"/tenants/{tenant}/providers/Microsoft.aadiam"
    for event in wire.AuditLog(ctx.model).events():
        initiated = event["initiatedBy"]
        who = initiated["user"] or initiated["app"] or {}
        yield {
            "TenantId": tenant,
            "SourceSystem": "Azure AD",
            "TimeGenerated": event["activityDateTime"],
            "ResourceId": resource_id,
            "OperationName": event["activityDisplayName"],
            "OperationVersion": "1.0",
            "Category": event["category"],
            "ResultType": "",
            "ResultSignature": "None",
            "ResultDescription": "",
            "DurationMs": 0,
            "CorrelationId": event["correlationId"],
            "Resource": "Microsoft.aadiam",
            "ResourceGroup": "Microsoft.aadiam",
            "Level": "4",
            "AdditionalDetails": event["additionalDetails"],
            "Id": event["id"],
            "InitiatedBy": initiated,
            "LoggedByService": event["loggedByService"],
            "Result": event["result"],
            "ResultReason": event["resultReason"],
            "TargetResources": event["targetResources"],
            "AADTenantId": tenant,
            "ActivityDisplayName": event["activityDisplayName"],
            "ActivityDateTime": event["activityDateTime"],
            "AADOperationType": event["operationType"],
            "Identity": who.get("displayName"),
            "Type": "AuditLogs",
        }


class SignIns:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.last_sign_in: dict[str, Instant] = {}  # filled while rows() is consumed
        self._policies = ctx.policies

    def _row(
        self,
        user: User,
        at: Instant,
        key: str,
        app: str,
        ip: str,
        mfa: bool,
        result: tuple[str, str] | None,
        interactive: bool = True,
    ) -> Json:
        if result is None:
            self.last_sign_in[user.id] = max(self.last_sign_in.get(user.id, 0), at)
        code, description = result or ("0", "")
        return {
            "TimeGenerated": iso(at),
            "CreatedDateTime": iso(at),
            "Id": derived_guid(user.id, key),
            "UserPrincipalName": user.user_principal_name,
            "UserId": user.id,
            "UserDisplayName": user.display_name,
            "UserType": user.user_type,
            "AppDisplayName": app,
            "IPAddress": ip,
            "Location": user.usage_location,
            "ResultType": code,
            "ResultDescription": description,
            "AuthenticationRequirement": "multiFactorAuthentication" if mfa else "singleFactorAuthentication",
            "ConditionalAccessStatus": "failure" if code == "53003" else ("success" if mfa else "notApplied"),
            "IsInteractive": interactive,
            "Type": "SigninLogs",
        }

    def _before_activations(self, context: HistoryContext, eligibility) -> Iterator[tuple[Instant, Json]]:
        user = self.ctx.users[eligibility.principal_id]
        requires_mfa = self._policies[eligibility.role_id].requires_mfa
        for r in eligibility_history(context, eligibility):
            lead = int(derived_guid(r.request_id, "signin")[:6], 16) % (20 * MINUTE) + 30 * SECOND
            at = r.requested_at - lead
            row = self._row(
                user, at, r.request_id, "Azure Portal", r.ip_address, r.authenticated_with_mfa or requires_mfa, None
            )
            yield at, row

    def _everyday(self, user: User) -> Iterator[tuple[Instant, Json]]:
        rng = random.Random(f"{self.ctx.model.tenant.seed}/signins/{user.id}")
        as_of = self.ctx.as_of
        if rng.random() < (0.6 if user.activity == 0 else 0.03):
            # Stale: one sign-in long ago, nothing recent.
            at = as_of - rng.randint(RECENT_DAYS + 5, 200) * DAY - rng.randrange(DAY)
            yield at, self._row(user, at, "stale", "Microsoft Teams", user.ip_address, False, None)
            return
        apps = [a for a, _ in APPS]
        weights = [w for _, w in APPS]
        at = as_of - RECENT_DAYS * DAY + rng.randrange(DAY)
        number = 0
        while True:
            at += rng.randint(6 * HOUR, 40 * HOUR)
            if at >= as_of:
                return
            number += 1
            failed = rng.choice(FAILURES) if rng.random() < 0.04 else None
            app = rng.choices(apps, weights)[0]
            yield (
                at,
                self._row(
                    user,
                    at,
                    f"day-{number}",
                    app,
                    user.ip_address,
                    rng.random() < 0.3,
                    failed,
                    interactive=rng.random() < 0.7,
                ),
            )

    def rows(self) -> Iterator[Json]:
        ctx = self.ctx
        context = HistoryContext.of(ctx.model)
        streams: list[Iterator[tuple[Instant, Json]]] = [
            self._before_activations(context, e) for e in ctx.model.eligibilities if has_history(e)
        ]
        streams += [self._everyday(u) for u in ctx.model.users if u.account_enabled]
        for _, row in heapq.merge(*streams, key=itemgetter(0)):
            yield row
