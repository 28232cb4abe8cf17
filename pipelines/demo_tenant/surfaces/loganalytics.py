"""Log Analytics tables: the directory audits (PIM and admin tasks) in `AuditLogs` column shape, and `SigninLogs`.

AuditLogs rows are the events of the whole audit log (same ids, times and payloads as Graph's), renamed to the
table's columns (graph-pim.md §7.2); Graph's `directoryAudits.json` holds only their last 30 days (write.py).
SigninLogs holds an interactive sign-in shortly before every activation request, by the requester from the
request's address, plus everyday sign-ins of enabled users over the last 30 days (users who never activate mostly
stop signing in: stale accounts). A few activation sign-ins come
from a trip abroad (another country and address, now and then another device) or from a new, unregistered device;
the break-glass accounts sign in only for their periodic tests. Rows are written in time order, merged lazily, so
an L tenant's sign-ins never sit in memory. Each row is made from a `SignInEvent`, which the ground truth reads.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass
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


# Trips abroad: (country, the documentation-like network their addresses come from). 198.18.0.0/15 is reserved
# for benchmarks (RFC 2544), so no address belongs to anyone.
TRAVEL = (("BR", "198.18.10"), ("JP", "198.18.20"), ("ZA", "198.18.30"), ("CA", "198.18.40"))
# Out of every 100 activation sign-ins (by a hash of the request id): these come from a trip, these from a new
# unregistered device at the usual address.
TRAVEL_SHARE = 4
NEW_DEVICE_SHARE = 3
# Unregistered devices have no deviceId in sign-in logs: only their operating system and browser tell them apart.
UNREGISTERED_DEVICES = (("MacOs", "Safari 17.6"), ("Android", "Chrome Mobile 130.0.0"), ("Linux", "Firefox 132.0"))
BREAK_GLASS_APP = "Azure Portal"


@dataclass(frozen=True, slots=True)
class SignInEvent:
    """One sign-in as the generator models it; `SignIns.row` writes it in `SigninLogs` shape."""

    user_id: str
    at: Instant
    key: str
    app: str
    ip: str
    country: str
    device_id: str  # empty for a device not registered in Entra ID
    operating_system: str
    browser: str
    mfa: bool
    result: tuple[str, str] | None = None  # None: success; else (ResultType, ResultDescription)
    interactive: bool = True

    @property
    def is_success(self) -> bool:
        return self.result is None

    @property
    def device(self) -> str:
        """What tells the device apart: its id when registered, else its operating system and browser."""
        return self.device_id or f"{self.operating_system} / {self.browser}"


def primary_device(user: User) -> str:
    return derived_guid(user.id, "primary-device")


class SignIns:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.last_sign_in: dict[str, Instant] = {}  # filled while rows() is consumed
        self._policies = ctx.policies
        glass = sorted((u for u in ctx.model.users if u.is_break_glass), key=lambda u: u.user_principal_name)
        self._first_break_glass = glass[0].id if glass else None

    def _event(self, user: User, at: Instant, key: str, app: str, ip: str, mfa: bool, **kwargs) -> SignInEvent:
        return SignInEvent(
            user_id=user.id,
            at=at,
            key=key,
            app=app,
            ip=ip,
            country=kwargs.pop("country", user.usage_location),
            device_id=kwargs.pop("device_id", primary_device(user)),
            operating_system=kwargs.pop("operating_system", "Windows10"),
            browser=kwargs.pop("browser", "Edge 131.0.0"),
            mfa=mfa,
            **kwargs,
        )

    def row(self, event: SignInEvent) -> Json:
        user = self.ctx.users[event.user_id]
        if event.result is None:
            self.last_sign_in[user.id] = max(self.last_sign_in.get(user.id, 0), event.at)
        code, description = event.result or ("0", "")
        return {
            "TimeGenerated": iso(event.at),
            "CreatedDateTime": iso(event.at),
            "Id": derived_guid(user.id, event.key),
            "UserPrincipalName": user.user_principal_name,
            "UserId": user.id,
            "UserDisplayName": user.display_name,
            "UserType": user.user_type,
            "AppDisplayName": event.app,
            "IPAddress": event.ip,
            "Location": event.country,
            "LocationDetails": {"city": None, "state": None, "countryOrRegion": event.country},
            "DeviceDetail": {
                "deviceId": event.device_id,
                "displayName": f"PC-{event.device_id[:8].upper()}" if event.device_id else "",
                "operatingSystem": event.operating_system,
                "browser": event.browser,
                "isCompliant": bool(event.device_id),
                "isManaged": bool(event.device_id),
                "trustType": "Azure AD joined" if event.device_id else "",
            },
            "ResultType": code,
            "ResultDescription": description,
            "AuthenticationRequirement": "multiFactorAuthentication" if event.mfa else "singleFactorAuthentication",
            "ConditionalAccessStatus": "failure" if code == "53003" else ("success" if event.mfa else "notApplied"),
            "IsInteractive": event.interactive,
            "Type": "SigninLogs",
        }

    def _before_activations(self, context: HistoryContext, eligibility) -> Iterator[tuple[Instant, SignInEvent]]:
        user = self.ctx.users[eligibility.principal_id]
        requires_mfa = self._policies[eligibility.role_id].requires_mfa
        for r in eligibility_history(context, eligibility):
            lead = int(derived_guid(r.request_id, "signin")[:6], 16) % (20 * MINUTE) + 30 * SECOND
            at = r.requested_at - lead
            where: dict = {}
            draw = int(derived_guid(r.request_id, "travel")[:4], 16) % 100
            if draw < TRAVEL_SHARE:
                country, network = TRAVEL[draw % len(TRAVEL)]
                where = {"ip": f"{network}.{10 + int(user.id[:2], 16) % 200}", "country": country}
                if draw % 2 == 0:  # a borrowed or hotel machine as well
                    where |= self._unregistered(r.request_id)
            elif draw < TRAVEL_SHARE + NEW_DEVICE_SHARE:
                where = self._unregistered(r.request_id)
            mfa = r.authenticated_with_mfa or requires_mfa
            yield at, self._event(user, at, r.request_id, "Azure Portal", where.pop("ip", r.ip_address), mfa, **where)

    @staticmethod
    def _unregistered(request_id: str) -> dict:
        system, browser = UNREGISTERED_DEVICES[int(derived_guid(request_id, "device")[:4], 16) % 3]
        return {"device_id": "", "operating_system": system, "browser": browser}

    def _break_glass(self, user: User, rng: random.Random) -> Iterator[tuple[Instant, SignInEvent]]:
        """Periodic tests of an emergency account: one long ago, one recent for the first account only."""
        as_of = self.ctx.as_of
        days = (
            rng.randint(100, 170),
            rng.randint(3, 25) if user.id == self._first_break_glass else rng.randint(40, 80),
        )
        for number, ago in enumerate(days):
            at = as_of - ago * DAY - rng.randrange(DAY)
            yield at, self._event(user, at, f"break-glass-test-{number}", BREAK_GLASS_APP, user.ip_address, True)

    def _everyday(self, user: User) -> Iterator[tuple[Instant, SignInEvent]]:
        rng = random.Random(f"{self.ctx.model.tenant.seed}/signins/{user.id}")
        as_of = self.ctx.as_of
        if user.is_break_glass:
            yield from self._break_glass(user, rng)
            return
        if rng.random() < (0.6 if user.activity == 0 else 0.03):
            # Stale: one sign-in long ago, nothing recent.
            at = as_of - rng.randint(RECENT_DAYS + 5, 200) * DAY - rng.randrange(DAY)
            yield at, self._event(user, at, "stale", "Microsoft Teams", user.ip_address, False)
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
            mfa = rng.random() < 0.3
            interactive = rng.random() < 0.7
            yield (
                at,
                self._event(
                    user, at, f"day-{number}", app, user.ip_address, mfa, result=failed, interactive=interactive
                ),
            )

    def events(self) -> Iterator[SignInEvent]:
        """Every sign-in of the tenant, oldest first."""
        ctx = self.ctx
        context = HistoryContext.of(ctx.model)
        streams: list[Iterator[tuple[Instant, SignInEvent]]] = [
            self._before_activations(context, e) for e in ctx.model.eligibilities if has_history(e)
        ]
        streams += [self._everyday(u) for u in ctx.model.users if u.account_enabled]
        for _, event in heapq.merge(*streams, key=itemgetter(0)):
            yield event

    def rows(self) -> Iterator[Json]:
        for event in self.events():
            yield self.row(event)
