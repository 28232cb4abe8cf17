"""Access reviews of privileged roles (graph-pim.md §6): definitions, their instances over the year, decisions.

Reviewers are the tenant's security admins. Decisions are made on the users eligible for the role when the
instance started. Planted: some principals review themselves, some decide after the instance's due date
(late), definitions without auto-apply leave even their denials unapplied (`applyResult: New`), and only the
roles of PLAN are reviewed, so privileged roles outside it have no review at all. `records` keeps each
decision as the generator made it, for ground_truth.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.clock import DAY, HOUR, MINUTE, Instant, iso
from pipelines.demo_tenant.ids import guid
from pipelines.demo_tenant.model import PrincipalType
from pipelines.demo_tenant.surfaces.context import Context, Json

# (role, months between instances, auto-apply decisions)
PLAN = (
    (catalog.GLOBAL_ADMINISTRATOR, 3, True),
    (catalog.PRIVILEGED_ROLE_ADMINISTRATOR, 3, True),
    (catalog.SECURITY_ADMINISTRATOR, 3, False),
    (catalog.USER_ADMINISTRATOR, 1, False),
    (catalog.EXCHANGE_ADMINISTRATOR, 1, True),
)
DURATION_DAYS = 14
_MONTH = 30 * DAY


def scope_query(role_id: str) -> str:
    return (
        "/roleManagement/directory/roleEligibilityScheduleInstances?$expand=principal"
        f"&$filter=(isof(principal,'microsoft.graph.user') and roleDefinitionId eq '{role_id}')"
    )


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    """One decision as the generator made it, beside its JSON: what ground_truth.py counts."""

    definition_id: str
    instance_id: str
    role_id: str
    principal_id: str
    reviewer_id: str
    decision: str  # Approve | Deny | NotReviewed
    reviewed_at: Instant | None
    due_at: Instant  # the instance's end
    is_instance_completed: bool  # the instance ended by as_of
    applied_at: Instant | None

    @property
    def is_self_review(self) -> bool:
        return self.reviewed_at is not None and self.reviewer_id == self.principal_id

    @property
    def is_late(self) -> bool:
        return self.reviewed_at is not None and self.reviewed_at > self.due_at

    @property
    def is_denial_not_applied(self) -> bool:
        """A denial of a finished review whose removal was never applied (no auto-apply on the definition)."""
        return self.decision == "Deny" and self.is_instance_completed and self.applied_at is None


class AccessReviews:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.rng = ctx.rng("access-reviews")
        self.definitions: list[Json] = []
        self.instances: dict[str, list[Json]] = {}
        self.decisions: dict[tuple[str, str], list[Json]] = {}
        self.records: list[ReviewDecision] = []
        self.reviewed_roles: set[str] = set()  # roles some definition reviews
        self._build()

    def _identity(self, user_id: str) -> Json:
        u = self.ctx.users[user_id]
        return {"id": u.id, "displayName": u.display_name, "userPrincipalName": u.user_principal_name}

    def _build(self) -> None:
        rng, ctx, as_of = self.rng, self.ctx, self.ctx.as_of
        reviewers = ctx.security_admins
        eligible_roles = {e.role_id for e in ctx.model.eligibilities if e.principal_type is PrincipalType.USER}
        for role_id, months, auto_apply in PLAN:
            if role_id not in eligible_roles or role_id not in ctx.roles:
                continue
            role = ctx.roles[role_id]
            self.reviewed_roles.add(role_id)
            definition_id = guid(rng)
            # The reviewer of the first definitions is, where possible, eligible for the role: a self-review.
            holders = {e.principal_id for e in ctx.model.current_eligibilities() if e.role_id == role_id}
            reviewer = rng.choice([r for r in reviewers if r in holders] or reviewers)
            first = ctx.model.tenant.window_start + rng.randint(1, 20) * DAY
            created = first - rng.randint(2, 30) * DAY
            cadence = "Quarterly" if months == 3 else "Monthly"
            scope = {
                "@odata.type": "#microsoft.graph.accessReviewQueryScope",
                "query": scope_query(role_id),
                "queryType": "MicrosoftGraph",
                "queryRoot": None,
            }
            reviewer_query = [{"query": f"/users/{reviewer}", "queryType": "MicrosoftGraph", "queryRoot": None}]
            starts = []
            start = first
            while start <= as_of - HOUR:
                starts.append(start)
                start += months * _MONTH
            self.definitions.append(
                {
                    "id": definition_id,
                    "displayName": f"{cadence} review of {role.display_name}",
                    "descriptionForAdmins": f"Re-certify who may activate {role.display_name}",
                    "status": "InProgress",
                    "createdDateTime": iso(created),
                    "lastModifiedDateTime": iso(created + HOUR),
                    "createdBy": self._identity(reviewer),
                    "scope": scope,
                    "instanceEnumerationScope": None,
                    "reviewers": reviewer_query,
                    "fallbackReviewers": [],
                    "settings": {
                        "mailNotificationsEnabled": True,
                        "reminderNotificationsEnabled": True,
                        "justificationRequiredOnApproval": True,
                        "defaultDecisionEnabled": False,
                        "defaultDecision": "None",
                        "instanceDurationInDays": DURATION_DAYS,
                        "autoApplyDecisionsEnabled": auto_apply,
                        "recommendationsEnabled": True,
                        "recurrence": {
                            "pattern": {"type": "absoluteMonthly", "interval": months},
                            "range": {"type": "noEnd", "startDate": iso(first)[:10], "endDate": None},
                        },
                        "applyActions": [{"@odata.type": "#microsoft.graph.removeAccessApplyAction"}]
                        if auto_apply
                        else [],
                    },
                }
            )
            instances = []
            for start in starts:
                instance_id = guid(rng)
                end = start + DURATION_DAYS * DAY
                completed = end <= as_of
                instances.append(
                    {
                        "id": instance_id,
                        "startDateTime": iso(start),
                        "endDateTime": iso(end),
                        "status": "Completed" if completed else "InProgress",
                        "scope": scope,
                        "reviewers": reviewer_query,
                        "fallbackReviewers": [],
                    }
                )
                self.decisions[(definition_id, instance_id)] = self._decisions(
                    definition_id, role_id, instance_id, start, end, reviewer, auto_apply
                )
            self.instances[definition_id] = instances

    def _decisions(
        self,
        definition_id: str,
        role_id: str,
        instance_id: str,
        start: Instant,
        end: Instant,
        reviewer: str,
        auto_apply: bool,
    ) -> list[Json]:
        rng, ctx, as_of = self.rng, self.ctx, self.ctx.as_of
        principals = dict.fromkeys(
            e.principal_id
            for e in ctx.model.eligibilities
            if e.role_id == role_id and e.principal_type is PrincipalType.USER and e.is_current(start)
        )
        role = ctx.roles[role_id]
        completed = end <= as_of
        # Planted: a finished review without auto-apply denies someone, until its definition has such a denial,
        # so every tenant shows a denial nobody applied.
        plant_denial = (
            completed
            and not auto_apply
            and not any(r.definition_id == definition_id and r.is_denial_not_applied for r in self.records)
        )
        decisions = []
        for index, principal in enumerate(principals):
            roll = rng.random()
            late = completed and roll < 0.08
            if plant_denial and index == 0:
                decision = "Deny"
            elif roll < 0.75:
                decision = "Approve"
            elif roll < 0.87:
                decision = "Deny"
            else:
                decision = "NotReviewed"
            reviewed_at: Instant | None = None
            if decision != "NotReviewed":
                span = max(MINUTE, min(end, as_of) - start - MINUTE)
                reviewed_at = start + rng.randint(MINUTE, span)
                if late:  # decided after the due date, when the reviewer finally got round to it
                    reviewed_at = min(end + rng.randint(HOUR, 5 * DAY), as_of)
                if reviewed_at > as_of:
                    decision, reviewed_at = "NotReviewed", None
            applied = completed and auto_apply and decision != "NotReviewed"
            applied_at = min(end + HOUR, as_of) if applied else None
            self.records.append(
                ReviewDecision(
                    definition_id,
                    instance_id,
                    role_id,
                    principal,
                    reviewer,
                    decision,
                    reviewed_at,
                    end,
                    completed,
                    applied_at,
                )
            )
            decisions.append(
                {
                    "id": guid(rng),
                    "accessReviewId": instance_id,
                    "decision": decision,
                    "recommendation": rng.choice(("Approve", "Approve", "Deny", "NoInfoAvailable")),
                    "justification": {
                        "Approve": "Still needed for the on-call rota",
                        "Deny": "No longer needed",
                        "NotReviewed": "",
                    }[decision],
                    "reviewedDateTime": iso(reviewed_at) if reviewed_at is not None else None,
                    "reviewedBy": self._identity(reviewer)
                    if reviewed_at is not None
                    else {"id": "00000000-0000-0000-0000-000000000000", "displayName": None, "userPrincipalName": None},
                    "appliedDateTime": iso(applied_at) if applied_at is not None else None,
                    "applyResult": "AppliedSuccessfully" if applied else "New",
                    "appliedBy": {
                        "id": "00000000-0000-0000-0000-000000000000",
                        "displayName": None,
                        "userPrincipalName": None,
                    },
                    "principalLink": f"https://graph.microsoft.com/v1.0/users/{principal}",
                    "resourceLink": None,
                    "principal": {"@odata.type": "#microsoft.graph.userIdentity", **self._identity(principal)},
                    "resource": {"id": role_id, "displayName": role.display_name, "type": "DirectoryRole"},
                }
            )
        return decisions
