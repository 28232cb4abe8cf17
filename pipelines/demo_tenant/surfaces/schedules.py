"""The rest of `roleManagement/directory`: schedules, schedule requests, and the legacy directoryRoles.

Schedules are one per current instance. Requests are the year's history (history.py) as Graph returns it:
every self-activation with the request id its audit events carry, every self-deactivation, and the admin
requests (`adminAssign`) that created each eligibility and each PIM-managed active assignment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pipelines.demo_tenant.clock import MINUTE, SECOND, Instant, iso, iso_duration, iso_or_none
from pipelines.demo_tenant.history import HistoryContext, eligibility_history
from pipelines.demo_tenant.ids import derived_guid
from pipelines.demo_tenant.model import (
    ROOT_SCOPE,
    ActivationRequest,
    ActiveAssignment,
    AssignmentKind,
    Eligibility,
    Outcome,
)
from pipelines.demo_tenant.surfaces.context import Context, Json

# Graph's request status per outcome. Graph has no "timed out" status: an approval nobody answered in time
# ends Canceled (our reading; graph-pim.md lists the value set but not this pairing).
STATUS = {
    Outcome.ACTIVATED: "Provisioned",
    Outcome.DENIED: "Denied",
    Outcome.EXPIRED: "Canceled",
    Outcome.CANCELED: "Canceled",
    Outcome.FAILED: "Failed",
}
ADMIN_LEAD = 2 * MINUTE  # an admin's request is made this long before the schedule it creates starts


def _schedule_info(start: Instant, end: Instant | None, duration: Instant | None = None) -> Json:
    if duration is not None:
        expiration = {"type": "afterDuration", "endDateTime": None, "duration": iso_duration(duration)}
    elif end is None:
        expiration = {"type": "noExpiration", "endDateTime": None, "duration": None}
    else:
        expiration = {"type": "afterDateTime", "endDateTime": iso(end), "duration": None}
    return {"startDateTime": iso(start), "recurrence": None, "expiration": expiration}


def admin_request_id(schedule_id: str) -> str:
    return derived_guid(schedule_id, "adminAssign")


@dataclass
class HistoryDigest:
    """What alerts need from the request history, gathered while the requests file streams by."""

    last_activation: dict[tuple[str, str], Instant] = field(default_factory=dict)  # (principal, role) -> at
    # (eligibility id, activation count, first requested, last requested) of runs of quick re-activations
    sequences: list[tuple[str, str, str, int, Instant, Instant]] = field(default_factory=list)
    live_request: dict[str, str] = field(default_factory=dict)  # eligibility id -> request id of the live one


class Schedules:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.activated = {
            a.eligibility_id: a
            for a in ctx.model.assignments
            if a.kind is AssignmentKind.ACTIVATED and a.eligibility_id
        }
        self.digest = HistoryDigest()
        self._creators = ctx.security_admins

    def _creator(self, key: str) -> str:
        # The admin who made a request, picked by hashing so that it does not depend on write order.
        return self._creators[int(derived_guid(key, "creator")[:8], 16) % len(self._creators)]

    def _created_by(self, user_id: str) -> Json:
        return {"application": None, "device": None, "user": {"displayName": None, "id": user_id}}

    # -- schedules -----------------------------------------------------------------------------------------

    def eligibility_schedules(self) -> Iterator[Json]:
        for e in self.ctx.model.written_eligibilities():
            yield {
                "id": e.schedule_id,
                "principalId": e.principal_id,
                "roleDefinitionId": e.role_id,
                "directoryScopeId": e.directory_scope_id,
                "appScopeId": None,
                "createdUsing": admin_request_id(e.schedule_id),
                "createdDateTime": iso(min(e.start, self.ctx.as_of)),
                "modifiedDateTime": None,
                "status": "Provisioned",
                "scheduleInfo": _schedule_info(e.start, e.end),
                "memberType": "Direct",
            }

    def assignment_schedules(self, live_requests: dict[str, str]) -> Iterator[Json]:
        for a in self.ctx.model.assignments:
            if a.kind is AssignmentKind.OUTSIDE_PIM or a.schedule_id is None:
                continue
            if a.kind is AssignmentKind.ACTIVATED:
                created_using = live_requests.get(a.eligibility_id or "", admin_request_id(a.schedule_id))
                info = _schedule_info(a.start, None, (a.end or a.start) - a.start)
            else:
                created_using = admin_request_id(a.schedule_id)
                info = _schedule_info(a.start, a.end)
            yield {
                "id": a.schedule_id,
                "principalId": a.principal_id,
                "roleDefinitionId": a.role_id,
                "directoryScopeId": a.directory_scope_id,
                "appScopeId": None,
                "createdUsing": created_using,
                "createdDateTime": iso(min(a.start, self.ctx.as_of)),
                "modifiedDateTime": None,
                "status": "Provisioned",
                "scheduleInfo": info,
                "assignmentType": a.kind.value,
                "memberType": "Direct",
            }

    # -- requests ------------------------------------------------------------------------------------------

    def _admin_request(
        self,
        schedule_id: str,
        principal_id: str,
        role_id: str,
        scope: str,
        start: Instant,
        end: Instant | None,
        what: str,
    ) -> Json:
        # A role since deleted from the catalogue (TenantModel.unlisted_role_eligibilities) has no name left.
        role = self.ctx.roles[role_id].display_name if role_id in self.ctx.roles else "a custom role"
        created = min(start, self.ctx.as_of) - ADMIN_LEAD
        return {
            "id": admin_request_id(schedule_id),
            "status": "Provisioned",
            "createdDateTime": iso(created),
            "completedDateTime": iso(created + 3 * SECOND),
            "approvalId": None,
            "customData": None,
            "action": "adminAssign",
            "principalId": principal_id,
            "roleDefinitionId": role_id,
            "directoryScopeId": scope,
            "appScopeId": None,
            "isValidationOnly": False,
            "targetScheduleId": schedule_id,
            "justification": f"{what} {role}",
            "createdBy": self._created_by(self._creator(schedule_id)),
            "scheduleInfo": _schedule_info(start, end),
            "ticketInfo": {"ticketNumber": None, "ticketSystem": None},
        }

    def eligibility_requests(self) -> Iterator[Json]:
        """adminAssign for every eligibility the year saw, current or ended (renewals are new schedules), and for
        those on roles the catalogue no longer lists."""
        for e in self.ctx.model.eligibilities + self.ctx.model.unlisted_role_eligibilities:
            yield self._admin_request(
                e.schedule_id, e.principal_id, e.role_id, e.directory_scope_id, e.start, e.end, "Eligible for"
            )

    def assignment_requests(self) -> Iterator[Json]:
        """adminAssign for standing PIM assignments, then each eligibility's activations and deactivations.

        Fills `self.digest` as it goes, so read it only after this generator is exhausted.
        """
        for a in self.ctx.model.assignments:
            if a.kind is AssignmentKind.ASSIGNED and a.schedule_id is not None:
                yield self._admin_request(
                    a.schedule_id, a.principal_id, a.role_id, a.directory_scope_id, a.start, a.end, "Active in"
                )
        context = HistoryContext.of(self.ctx.model)
        for e in self.ctx.model.eligibilities:
            previous: ActivationRequest | None = None
            run: list[ActivationRequest] = []
            for r in eligibility_history(context, e):
                yield from self._activation(e, r)
                if r.outcome is Outcome.ACTIVATED:
                    self._note(e, r, previous, run)
                    previous = r
            self._close_run(e, run)

    def _note(
        self, e: Eligibility, r: ActivationRequest, previous: ActivationRequest | None, run: list[ActivationRequest]
    ) -> None:
        key = (r.principal_id, r.role_id)
        self.digest.last_activation[key] = max(self.digest.last_activation.get(key, 0), r.completed_at or 0)
        ended = None if previous is None else _ended(previous)
        if ended is not None and r.requested_at - ended <= 60 * MINUTE:
            run.append(r)
        else:
            self._close_run(e, run)
            run[:] = [r]

    def _close_run(self, e: Eligibility, run: list[ActivationRequest]) -> None:
        if len(run) >= 3:
            self.digest.sequences.append(
                (e.id, e.principal_id, e.role_id, len(run), run[0].requested_at, run[-1].requested_at)
            )
        run.clear()

    def _activation(self, e: Eligibility, r: ActivationRequest) -> Iterator[Json]:
        live = self.activated.get(e.id)
        is_live = live is not None and r.completed_at == live.start and r.outcome is Outcome.ACTIVATED
        if is_live:
            self.digest.live_request[e.id] = r.request_id
        target = live.schedule_id if is_live and live is not None else derived_guid(r.request_id, "schedule")
        outcome = r.outcome
        if outcome is Outcome.PENDING:
            status = "PendingApproval" if r.approval_requested_at is not None else "PendingProvisioning"
        else:
            status = STATUS[outcome]
        completed = r.completed_at or r.decided_at or r.approval_expired_at or r.canceled_at
        yield {
            "id": r.request_id,
            "status": status,
            "createdDateTime": iso(r.requested_at),
            "completedDateTime": iso_or_none(completed),
            "approvalId": derived_guid(r.request_id, "approval") if r.approval_requested_at is not None else None,
            "customData": None,
            "action": "selfActivate",
            "principalId": r.principal_id,
            "roleDefinitionId": r.role_id,
            "directoryScopeId": r.directory_scope_id,
            "appScopeId": None,
            "isValidationOnly": False,
            "targetScheduleId": target,
            "justification": r.justification,
            "createdBy": self._created_by(r.principal_id),
            "scheduleInfo": _schedule_info(r.requested_at, None, r.requested_duration),
            "ticketInfo": {
                "ticketNumber": r.ticket.number if r.ticket else None,
                "ticketSystem": r.ticket.system if r.ticket else None,
            },
        }
        d = r.deactivation
        if d is not None:
            yield {
                "id": d.request_id,
                "status": "Revoked",
                "createdDateTime": iso(d.requested_at),
                "completedDateTime": iso(d.completed_at),
                "approvalId": None,
                "customData": None,
                "action": "selfDeactivate",
                "principalId": r.principal_id,
                "roleDefinitionId": r.role_id,
                "directoryScopeId": r.directory_scope_id,
                "appScopeId": None,
                "isValidationOnly": False,
                "targetScheduleId": target,
                "justification": "",
                "createdBy": self._created_by(r.principal_id),
                "scheduleInfo": None,
                "ticketInfo": {"ticketNumber": None, "ticketSystem": None},
            }

    # -- legacy directoryRoles -----------------------------------------------------------------------------

    def directory_roles(self) -> tuple[list[Json], dict[str, list[Json]]]:
        """Activated directory roles (any role held now) and, per role object, its tenant-wide active members.

        Like Graph's legacy API, members are the principals active at `/` now, however they got there
        (permanent, time-bound, activated or outside PIM); AU-scoped holders are not members.
        """
        held: dict[str, list[ActiveAssignment]] = {}
        for e in self.ctx.model.current_eligibilities():
            held.setdefault(e.role_id, [])
        for a in self.ctx.model.assignments:
            held.setdefault(a.role_id, []).append(a)
        roles, members = [], {}
        for role in self.ctx.model.roles:
            if role.id not in held:
                continue
            object_id = derived_guid(self.ctx.model.tenant.id, "directoryRole", role.id)
            roles.append(
                {
                    "id": object_id,
                    "displayName": role.display_name,
                    "description": role.description,
                    "roleTemplateId": role.id,
                }
            )
            principals = dict.fromkeys(a.principal_id for a in held[role.id] if a.directory_scope_id == ROOT_SCOPE)
            if principals:
                members[object_id] = [self.ctx.directory_object(p) for p in principals]
        return roles, members


def _ended(r: ActivationRequest) -> Instant | None:
    if r.deactivation is not None:
        return r.deactivation.completed_at
    return r.ran_out_at or r.granted_end
