"""The year of PIM self-activations, generated eligibility by eligibility.

Each eligibility walks forward through the year with its own `random.Random(history_seed)`, so its history is
the same however often and in whatever order it is generated: ground_truth.py reads it once, the audit-log
writer reads it again in time order, and neither needs the other's copy in memory.

A walk ends where the frozen state says it must: requests never outlive their eligibility, never overlap the
activation planted to be running at as_of, and any request that would leave an activation running at as_of
unplanned is dropped, so the state files and the history always agree.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.clock import DAY, HOUR, MINUTE, SECOND, YEAR, Instant, from_datetime
from pipelines.demo_tenant.ids import guid
from pipelines.demo_tenant.model import (
    ActivationRequest,
    Deactivation,
    Decision,
    Eligibility,
    JustificationHabit,
    Outcome,
    PlannedActivation,
    PrincipalType,
    RolePolicy,
    TenantModel,
    Ticket,
    User,
)

STANDARD_DURATIONS = (HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR)
APPROVAL_WINDOW = DAY  # approvalStageTimeOutInDays = 1 in every generated policy
_DENIAL_CHANCE = {"good": 0.03, "weak": 0.1, "empty": 0.25}
_RENEWAL_CHANCE = 0.02  # an activation runs out before the work is done, and the person activates again
_RENEWAL_SALT = 0x5EED_4E4E


def pick_duration(rng: random.Random, longest: Instant) -> Instant:
    """Most people ask for the maximum the policy allows; the rest pick a round shorter duration."""
    shorter = [d for d in STANDARD_DURATIONS if d < longest]
    if not shorter or rng.random() < 0.55:
        return longest
    return rng.choice(shorter)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _working_hours(moment: datetime) -> bool:
    return moment.weekday() < 5 and 8 <= moment.hour < 19


@dataclass(frozen=True)
class HistoryContext:
    as_of: Instant
    window_start: Instant
    users: dict[str, User]
    policies: dict[str, RolePolicy]
    # When each (principal, role, scope) had an eligibility start: one that starts as another ends renews it.
    starts: dict[tuple[str, str, str], tuple[Instant, ...]]

    @classmethod
    def of(cls, model: TenantModel) -> HistoryContext:
        starts: dict[tuple[str, str, str], list[Instant]] = {}
        for e in model.eligibilities:
            starts.setdefault((e.principal_id, e.role_id, e.directory_scope_id), []).append(e.start)
        return cls(
            as_of=model.tenant.as_of,
            window_start=model.tenant.window_start,
            users={user.id: user for user in model.users},
            policies={policy.role_id: policy for policy in model.policies},
            starts={key: tuple(values) for key, values in starts.items()},
        )

    def lapses(self, e: Eligibility) -> bool:
        """Whether the eligibility ended by as_of without a renewal starting right then: access really stopped."""
        if e.end is None or e.end > self.as_of:
            return False
        key = (e.principal_id, e.role_id, e.directory_scope_id)
        return not any(e.start < start <= e.end for start in self.starts[key])


def has_history(e: Eligibility) -> bool:
    return e.principal_type is PrincipalType.USER and (
        e.activations_per_year > 0 or e.live_activation is not None or bool(e.opening_outcomes)
    )


def eligibility_history(context: HistoryContext, e: Eligibility) -> Iterator[ActivationRequest]:
    """The activation requests of one eligibility, oldest first; the lifecycles never overlap."""
    if has_history(e):
        yield from _Walk(context, e).requests()


def iter_activation_requests(model: TenantModel) -> Iterator[ActivationRequest]:
    context = HistoryContext.of(model)
    for e in model.eligibilities:
        yield from eligibility_history(context, e)


@dataclass(slots=True)
class _Draft:
    """A request's natural lifecycle, before it is cut at as_of."""

    request_id: str
    correlation_id: str
    requested_at: Instant
    duration: Instant
    justification: str
    ticket: Ticket | None
    ip_address: str
    approval_requested_at: Instant | None = None
    approver_id: str | None = None
    decision: Decision | None = None
    decided_at: Instant | None = None
    decision_reason: str = ""
    approval_expired_at: Instant | None = None
    canceled_at: Instant | None = None
    completed_at: Instant | None = None
    failure_reason: str | None = None
    mfa: bool = False
    ran_out_at: Instant | None = None
    deactivation: Deactivation | None = None
    follow_up_at: Instant | None = None  # the same person asks again soon after
    eligibility_end: Instant | None = None  # set when PIM cut the grant at the eligibility's end

    @property
    def end(self) -> Instant:
        """When the last thing in this lifecycle happens (or would happen, past as_of)."""
        if self.deactivation is not None:
            return self.deactivation.completed_at
        steps = (
            self.ran_out_at,
            self.completed_at,
            self.decided_at,
            self.approval_expired_at,
            self.canceled_at,
            self.approval_requested_at,
        )
        return max((s for s in steps if s is not None), default=self.requested_at)

    @property
    def horizon(self) -> Instant:
        """The latest moment this request claims: PIM keeps requested and granted ends inside the eligibility."""
        granted = (self.completed_at or self.requested_at) + self.duration
        if self.eligibility_end is not None:
            granted = min(granted, self.eligibility_end)
            return max(self.end, granted)  # the request asked past the eligibility; PIM granted only up to it
        return max(self.end, self.requested_at + self.duration, granted)

    def running_at(self, at: Instant) -> bool:
        """Whether this activation is live at `at` (it started and had not ended)."""
        if self.completed_at is None or self.failure_reason is not None or self.completed_at > at:
            return False
        return self.end > at


class _Walk:
    def __init__(self, context: HistoryContext, e: Eligibility):
        self.context = context
        self.e = e
        self.rng = random.Random(e.history_seed)
        # Its own generator, so planting re-activations after expiry moves no other draw of the walk.
        self.renewal_rng = random.Random(e.history_seed ^ _RENEWAL_SALT)
        self.user = context.users[e.principal_id]
        self.policy = context.policies[e.role_id]
        self.zone = _zone(self.user.time_zone)
        self.approvers = [a for a in self.policy.approver_ids if a != self.user.id]

    def requests(self) -> Iterator[ActivationRequest]:
        rng, e, as_of = self.rng, self.e, self.context.as_of
        plan = e.live_activation
        stop = plan.requested_at if plan is not None else as_of
        hard_end = e.end if e.end is not None else as_of + YEAR
        cursor = max(e.start, self.context.window_start)
        follow_up: Instant | None = None
        openings = list(e.opening_outcomes)
        while True:
            if follow_up is not None:
                at = follow_up
            elif openings:
                at = self._place(cursor + rng.randint(DAY, 10 * DAY))
            elif e.activations_per_year > 0:
                at = self._place(cursor + int(rng.expovariate(e.activations_per_year) * YEAR))
            else:
                break
            if at >= stop or at >= hard_end:
                break
            draft = self._draft(at, openings.pop(0) if openings else None)
            if draft.horizon > hard_end and self.context.lapses(e):
                self._cut_at_eligibility_end(draft, hard_end)
            if draft.horizon > hard_end or (plan is not None and draft.end >= plan.requested_at):
                break
            if draft.running_at(as_of):
                break  # only planned activations may be running at as_of
            yield self._freeze(draft)
            cursor, follow_up = draft.end, draft.follow_up_at
        if plan is not None:
            yield self._planned(plan)
        elif self.context.lapses(e) and e.activations_per_year > 0:
            yield from self._last_minute(cursor, hard_end)

    def _last_minute(self, cursor: Instant, eligibility_end: Instant) -> Iterator[ActivationRequest]:
        """Some people activate once more in the last hours of an eligibility that is about to lapse; PIM grants
        that activation only up to the eligibility's end. Drawn after the walk, so it moves no other request."""
        rng = self.rng
        if rng.random() >= 0.25:
            return
        at = eligibility_end - rng.randint(20 * MINUTE, 4 * HOUR)
        if at <= max(cursor, self.e.start, self.context.window_start):
            return
        draft = self._draft(at, None)
        if draft.horizon > eligibility_end:
            self._cut_at_eligibility_end(draft, eligibility_end)
        if draft.horizon <= eligibility_end:
            yield self._freeze(draft)

    # -- when ----------------------------------------------------------------------------------------------

    def _place(self, after: Instant) -> Instant:
        """A moment after `after`: mostly a weekday in office hours where the person works."""
        rng = self.rng
        day = datetime.fromtimestamp(after / 1000, self.zone).date()
        office_hours = rng.random() < 0.86
        for _ in range(7):
            if office_hours:
                while day.weekday() >= 5:
                    day += timedelta(days=1)
                hour = rng.triangular(8.0, 18.0, 10.5)
            elif day.weekday() >= 5:
                hour = rng.uniform(7.0, 23.0)
            else:
                hour = rng.uniform(19.0, 24.0) if rng.random() < 0.7 else rng.uniform(0.0, 8.0)
            at = self._local(day, hour) + rng.randrange(SECOND)
            if at > after:
                return at
            day += timedelta(days=1)
        return after + rng.randint(MINUTE, HOUR)

    def _local(self, day: date, hour: float) -> Instant:
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return from_datetime(midnight) + int(hour * HOUR)

    def _ip_at(self, at: Instant) -> str:
        """The office address in office hours, a home address (IPv6 documentation range) otherwise."""
        if _working_hours(datetime.fromtimestamp(at / 1000, self.zone)):
            return self.user.ip_address
        return f"2001:db8:{int(self.user.id[:4], 16):x}::{int(self.user.id[4:8], 16):x}"

    def _approval_latency(self, approver_id: str, asked: Instant) -> Instant:
        """Minutes when the approver is at work; often the next working morning when not."""
        rng = self.rng
        latency = int(rng.lognormvariate(math.log(12 * 60), 1.2) * SECOND)
        zone = _zone(self.context.users[approver_id].time_zone)
        local = datetime.fromtimestamp(asked / 1000, zone)
        if not _working_hours(local) and rng.random() < 0.7:
            day = local.date() if local.hour < 8 and local.weekday() < 5 else local.date() + timedelta(days=1)
            while day.weekday() >= 5:
                day += timedelta(days=1)
            morning = datetime(day.year, day.month, day.day, 8, tzinfo=zone)
            latency += from_datetime(morning) - asked + rng.randint(0, 90 * MINUTE)
        return max(latency, 20 * SECOND)

    # -- what ----------------------------------------------------------------------------------------------

    def _ticket(self) -> Ticket:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return Ticket(f"CHG{rng.randint(1, 9999):04d}", "ServiceNow")
        if roll < 0.85:
            return Ticket(f"INC{rng.randint(1, 9_999_999):07d}", "ServiceNow")
        return Ticket(f"OPS-{rng.randint(100, 9999)}", "Jira")

    def _justification(self) -> tuple[str, Ticket | None, str]:
        """The text, the ticket if any, and its quality (good, weak, empty) as an approver would judge it."""
        rng, policy = self.rng, self.policy
        habit = self.user.justification_habit
        if rng.random() < 0.15:  # people are not perfectly consistent
            habit = rng.choice(list(JustificationHabit))
        ticket = self._ticket() if habit is JustificationHabit.TICKETED or policy.ticketing_on_activation else None
        if habit is JustificationHabit.TICKETED and ticket is not None:
            task = rng.choice(catalog.TICKET_TASKS)
            number = ticket.number
            text = rng.choice((f"{number} - {task}", f"{task} ({number})", f"Per {number}: {task}"))
            return text, ticket, "good"
        if habit is JustificationHabit.TERSE:
            return rng.choice(catalog.WEAK_JUSTIFICATIONS), ticket, "weak"
        if policy.justification_on_activation:
            return rng.choice(catalog.PLACEHOLDER_JUSTIFICATIONS), ticket, "empty"
        return "", ticket, "empty"

    def _draft(self, at: Instant, forced: Outcome | None) -> _Draft:
        rng, policy = self.rng, self.policy
        justification, ticket, quality = self._justification()
        draft = _Draft(
            request_id=guid(rng),
            correlation_id=guid(rng),
            requested_at=at,
            duration=min(
                pick_duration(rng, policy.max_activation), policy.habitual_activation or policy.max_activation
            ),
            justification=justification,
            ticket=ticket,
            ip_address=self._ip_at(at),
        )
        if policy.approval_required:
            self._approval(draft, forced, quality)
        else:
            draft.completed_at = at + rng.randint(1_500, 15 * SECOND)
        if draft.completed_at is not None:
            self._activation(draft, forced)
        elif draft.decision is Decision.DENIED and rng.random() < 0.35:
            draft.follow_up_at = draft.end + rng.randint(2 * MINUTE, 30 * MINUTE)
        elif draft.canceled_at is not None and rng.random() < 0.25:
            draft.follow_up_at = draft.end + rng.randint(MINUTE, 20 * MINUTE)
        return draft

    def _approval(self, draft: _Draft, forced: Outcome | None, quality: str) -> None:
        rng = self.rng
        asked = draft.requested_at + rng.randint(300, 2_500)
        draft.approval_requested_at = asked
        roll = rng.random()
        if forced is Outcome.CANCELED or (forced is None and roll < 0.05):
            draft.canceled_at = asked + min(int(rng.lognormvariate(math.log(20 * MINUTE), 1.0)), 20 * HOUR)
            return
        if forced is Outcome.EXPIRED or (forced is None and roll < 0.08) or not self.approvers:
            draft.approval_expired_at = asked + APPROVAL_WINDOW  # nobody (else) could or did decide
            return
        approver = rng.choice(self.approvers)
        latency = self._approval_latency(approver, asked)
        if forced is not None:
            latency = min(latency, rng.randint(10 * MINUTE, 4 * HOUR))
        if latency >= APPROVAL_WINDOW:
            draft.approval_expired_at = asked + APPROVAL_WINDOW
            return
        denied = forced is Outcome.DENIED or (
            forced is None and rng.random() < _DENIAL_CHANCE[quality] and not self.policy.approves_every_request
        )
        draft.approver_id = approver
        draft.decided_at = asked + latency
        if denied:
            draft.decision = Decision.DENIED
            draft.decision_reason = rng.choice(catalog.DENIAL_REASONS)
        else:
            draft.decision = Decision.APPROVED
            draft.decision_reason = rng.choice(catalog.APPROVAL_REASONS)
            draft.completed_at = draft.decided_at + rng.randint(SECOND, 8 * SECOND)

    def _activation(self, draft: _Draft, forced: Outcome | None) -> None:
        rng = self.rng
        assert draft.completed_at is not None
        if forced is Outcome.FAILED or (forced is None and rng.random() < 0.012):
            draft.failure_reason = rng.choice(catalog.FAILURE_REASONS)
            draft.mfa = "MFA" not in draft.failure_reason and self.policy.requires_mfa
            if rng.random() < 0.6:
                draft.follow_up_at = draft.end + rng.randint(2 * MINUTE, 30 * MINUTE)
            return
        draft.mfa = self.policy.requires_mfa or rng.random() < 0.7
        started = draft.completed_at
        roll = rng.random()
        if roll < 0.06:
            # A burst: done in minutes, deactivates, and activates the same role again within the hour.
            stop = started + rng.randint(4 * MINUTE, 25 * MINUTE)
            draft.follow_up_at = stop + rng.randint(2 * MINUTE, 20 * MINUTE)
        elif roll < 0.18:
            stop = started + rng.randint(5 * MINUTE, max(5 * MINUTE, draft.duration * 8 // 10))
        else:
            draft.ran_out_at = started + draft.duration
            if self.renewal_rng.random() < _RENEWAL_CHANCE:
                draft.follow_up_at = draft.ran_out_at + self.renewal_rng.randint(MINUTE, 30 * MINUTE)
            return
        draft.deactivation = Deactivation(guid(rng), guid(rng), stop, stop + rng.randint(800, 4_000))

    def _cut_at_eligibility_end(self, draft: _Draft, eligibility_end: Instant) -> None:
        """PIM ends an activation when its eligibility ends: an activation that started in time but would run
        past the eligibility is granted only up to its end (shorter than requested). Any other request that
        reaches past the eligibility is left as it is, and the walk drops it."""
        started = draft.completed_at
        if started is None or draft.failure_reason is not None or started >= eligibility_end:
            return
        if draft.deactivation is not None and draft.deactivation.completed_at <= eligibility_end:
            return  # deactivated in time: the request only claimed past the end, and the walk drops it
        draft.eligibility_end = eligibility_end
        draft.deactivation = None
        draft.ran_out_at = eligibility_end
        draft.follow_up_at = None  # the eligibility is over: nothing more to ask for

    def _freeze(self, d: _Draft) -> ActivationRequest:
        """The request as seen at as_of: steps after it have not happened."""
        as_of = self.context.as_of

        def upto(at: Instant | None) -> Instant | None:
            return at if at is not None and at <= as_of else None

        decided = upto(d.decided_at)
        completed = upto(d.completed_at)
        deactivation = d.deactivation if d.deactivation and d.deactivation.completed_at <= as_of else None
        return ActivationRequest(
            request_id=d.request_id,
            correlation_id=d.correlation_id,
            eligibility_id=self.e.id,
            principal_id=self.e.principal_id,
            role_id=self.e.role_id,
            directory_scope_id=self.e.directory_scope_id,
            requested_at=d.requested_at,
            requested_duration=d.duration,
            justification=d.justification,
            ticket=d.ticket,
            ip_address=d.ip_address,
            approval_requested_at=upto(d.approval_requested_at),
            approver_id=d.approver_id if decided is not None else None,
            decision=d.decision if decided is not None else None,
            decided_at=decided,
            decision_reason=d.decision_reason if decided is not None else "",
            approval_expired_at=upto(d.approval_expired_at),
            canceled_at=upto(d.canceled_at),
            completed_at=completed,
            failure_reason=d.failure_reason if completed is not None else None,
            authenticated_with_mfa=d.mfa if completed is not None else False,
            ran_out_at=upto(d.ran_out_at),
            deactivation=deactivation,
            eligibility_end=d.eligibility_end if completed is not None else None,
        )

    def _planned(self, plan: PlannedActivation) -> ActivationRequest:
        rng = self.rng
        justification, ticket, _ = self._justification()
        approver = rng.choice(self.approvers) if plan.decided_at is not None else None
        return ActivationRequest(
            request_id=guid(rng),
            correlation_id=guid(rng),
            eligibility_id=self.e.id,
            principal_id=self.e.principal_id,
            role_id=self.e.role_id,
            directory_scope_id=self.e.directory_scope_id,
            requested_at=plan.requested_at,
            requested_duration=plan.granted_end - plan.completed_at,
            justification=justification,
            ticket=ticket,
            ip_address=self._ip_at(plan.requested_at),
            approval_requested_at=plan.approval_requested_at,
            approver_id=approver,
            decision=Decision.APPROVED if approver is not None else None,
            decided_at=plan.decided_at,
            decision_reason=rng.choice(catalog.APPROVAL_REASONS) if approver is not None else "",
            completed_at=plan.completed_at,
            authenticated_with_mfa=True,
        )
