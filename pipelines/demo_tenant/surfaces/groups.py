"""PIM for Groups: a few role-assignable groups are onboarded, with eligible and active members and owners.

Everything here is a pure function of the model and this surface's seed. Group policies reuse the directory
policy shape (`wire.policy_rules`) with `member`/`owner` as the role definition, as Graph does for groups.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.clock import DAY, HOUR, MINUTE, Instant, iso, iso_or_none
from pipelines.demo_tenant.ids import guid
from pipelines.demo_tenant.model import Group, RolePolicy
from pipelines.demo_tenant.surfaces.context import Context, Json, past_activation_days

ACCESS_IDS = ("member", "owner")


@dataclass(frozen=True)
class GroupGrant:
    """One PIM-for-Groups instance: an eligibility or an active assignment of a member or an owner."""

    id: str  # instance id; the schedule id is this without its -e / -1 suffix
    group_id: str
    access_id: str
    principal_id: str
    start: Instant
    end: Instant | None
    assignment_type: str | None  # None: eligible; "assigned" or "activated": active

    @property
    def schedule_id(self) -> str:
        return self.id.rsplit("-", 1)[0]


class PimGroups:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.rng = ctx.rng("pim-groups")
        assignable = [g for g in ctx.model.groups if g.is_assignable_to_role]
        self.role_assignable: list[Group] = assignable
        self.onboarded: list[Group] = assignable[: max(1, min(len(assignable), 2 + len(assignable) // 5))]

    @cached_property
    def grants(self) -> list[GroupGrant]:
        rng, as_of = self.rng, self.ctx.as_of
        people = self.ctx.role_holders or [u.id for u in self.ctx.model.users]
        grants: list[GroupGrant] = []
        for group in self.onboarded:
            chosen = rng.sample(people, min(len(people), rng.randint(4, 9)))
            owners, members = chosen[:2], chosen[2:]

            def grant(
                access: str, principal: str, kind: str | None, start: Instant, end: Instant | None, group: Group = group
            ) -> None:
                schedule = f"{group.id}_{access}_{guid(rng)}"
                grants.append(
                    GroupGrant(
                        schedule + ("-e" if kind is None else "-1"), group.id, access, principal, start, end, kind
                    )
                )

            grant("owner", owners[0], "assigned", max(group.created_at, as_of - rng.randint(60, 700) * DAY), None)
            if len(owners) > 1:
                grant("owner", owners[1], None, as_of - rng.randint(10, 300) * DAY, None)
            for index, principal in enumerate(members):
                start = as_of - rng.randint(5, 330) * DAY
                end = start + 365 * DAY if rng.random() < 0.6 else None
                if end is not None and end <= as_of:
                    end = as_of + rng.randint(5, 200) * DAY
                if index % 3 == 2:
                    grant("member", principal, "assigned", start, end)
                    continue
                grant("member", principal, None, start, end)
                if index == 0:  # one eligible member of each group is active right now
                    began = as_of - rng.randint(10 * MINUTE, 3 * HOUR)
                    grant("member", principal, "activated", began, began + 4 * HOUR)
        # One eligible membership that runs out within the design's expiring-access horizon, whatever the seed
        # (docs/metrics.md, "Expiring access"); drawn from a generator of its own, so nothing above moves.
        expiring = self.ctx.rng("pim-groups-expiring")
        if self.onboarded and people:
            group, principal = self.onboarded[0], expiring.choice(people)
            schedule = f"{group.id}_member_{guid(expiring)}"
            start = as_of - expiring.randint(30, 300) * DAY
            end = as_of + expiring.randint(2, 25) * DAY
            grants.append(GroupGrant(schedule + "-e", group.id, "member", principal, start, end, None))
        return grants

    @cached_property
    def past_activations(self) -> list[GroupGrant]:
        """Activations of eligible memberships that ended before as_of: none to three per eligible person, on
        days of their own within the year the audit log keeps, each up to its policy's four hours. Only PIM's audit
        rows keep them (Graph lists the instances running now); drawn from a generator of their own, so nothing
        above moves."""
        rng, as_of = self.ctx.rng("pim-groups-activation-history"), self.ctx.as_of
        past = []
        for g in self.grants:
            if g.assignment_type is not None or g.access_id != "member" or g.principal_id not in self.ctx.users:
                continue
            for n, day in enumerate(past_activation_days(rng, g.start, as_of, most=3)):
                began = day * DAY + rng.randint(7 * HOUR, 18 * HOUR)
                end = began + rng.randint(1, 4) * HOUR
                past.append(replace(g, id=f"{g.schedule_id}-h{n}", start=began, end=end, assignment_type="activated"))
        return past

    def eligibility_instances(self) -> list[Json]:
        return [
            {
                "id": g.id,
                "accessId": g.access_id,
                "groupId": g.group_id,
                "principalId": g.principal_id,
                "startDateTime": iso(g.start),
                "endDateTime": iso_or_none(g.end),
                "memberType": "direct",
                "eligibilityScheduleId": g.schedule_id,
            }
            for g in self.grants
            if g.assignment_type is None
        ]

    def assignment_instances(self) -> list[Json]:
        return [
            {
                "id": g.id,
                "accessId": g.access_id,
                "groupId": g.group_id,
                "principalId": g.principal_id,
                "startDateTime": iso(g.start),
                "endDateTime": iso_or_none(g.end),
                "memberType": "direct",
                "assignmentType": g.assignment_type,
                "assignmentScheduleId": g.schedule_id,
            }
            for g in self.grants
            if g.assignment_type is not None
        ]

    @cached_property
    def members(self) -> dict[str, list[str]]:
        """Member ids of every role-assignable group now: the active PIM members of onboarded groups, a seeded
        handful of admins for the others, and an automation app that holds no role itself, added directly to the
        group holding Global Administrator (else the first group holding a role): a service principal can be a
        member of a role-assignable group, and the anchors disagree on counting it. Never a group: Entra does not
        let a role-assignable group contain groups (graph-pim-real-world.md section 13)."""
        rng = self.ctx.rng("group-members")
        people = self.ctx.role_holders or [u.id for u in self.ctx.model.users]
        onboarded = {g.id for g in self.onboarded}
        result: dict[str, list[str]] = {}
        for group in self.role_assignable:
            if group.id in onboarded:
                ids = dict.fromkeys(
                    g.principal_id
                    for g in self.grants
                    if g.group_id == group.id and g.access_id == "member" and g.assignment_type is not None
                )
            else:
                ids = dict.fromkeys(rng.sample(people, min(len(people), rng.randint(2, 8))))
            if ids:
                result[group.id] = list(ids)
        # Drawn from a generator of its own, so that adding the app moves no other member.
        app_rng = self.ctx.rng("group-service-principal-members")
        model = self.ctx.model
        holdings = [(e.principal_id, e.role_id) for e in model.current_eligibilities()]
        holdings += [(a.principal_id, a.role_id) for a in model.assignments]
        holding = [g.id for g in self.role_assignable if any(p == g.id for p, _ in holdings)]
        holding.sort(key=lambda g: (g, catalog.GLOBAL_ADMINISTRATOR) not in holdings)
        held = {principal for principal, _ in holdings}
        apps = [
            sp.id
            for sp in model.service_principals
            if sp.app_owner_organization_id == model.tenant.id and sp.id not in held
        ]
        if apps and holding:
            result.setdefault(holding[0], []).append(app_rng.choice(apps))
        nested = [m for ids in result.values() for m in ids if m in self.ctx.groups]
        if nested:
            raise ValueError(f"role-assignable groups cannot contain groups, yet these were generated: {nested}")
        return result

    def transitive_members(self) -> dict[str, list[Json]]:
        """`/groups/{id}/transitiveMembers` of every role-assignable group with members."""
        return {group_id: [self.ctx.directory_object(p) for p in ids] for group_id, ids in self.members.items()}

    # -- policies (hooked into the directory policy files) -------------------------------------------------

    @cached_property
    def policies(self) -> list[tuple[Group, str, RolePolicy]]:
        """(group, accessId, policy) for each onboarded group's member and owner settings."""
        rng = self.ctx.rng("pim-group-policies")
        base = self.ctx.model.policies[0]
        approvers = tuple(self.ctx.security_admins[:2])
        found = []
        for group in self.onboarded:
            for access in ACCESS_IDS:
                strict = access == "owner" or rng.random() < 0.5
                found.append(
                    (
                        group,
                        access,
                        replace(
                            base,
                            id=f"Group_{group.id}_{guid(rng)}",
                            role_id=access,
                            approval_required=strict and bool(approvers),
                            approver_ids=approvers if strict else (),
                            listed_only_approvers=(),
                            mfa_on_activation=strict or rng.random() < 0.5,
                            authentication_context=None,
                            justification_on_activation=True,
                            ticketing_on_activation=False,
                            max_activation=(4 if strict else 8) * HOUR,
                            last_modified_at=self.ctx.as_of - rng.randint(3, 200) * DAY,
                            last_modified_by=self.ctx.security_admins[0],
                        ),
                    )
                )
        return found

    def policy_assignments(self) -> list[Json]:
        return [
            {
                "id": f"{p.id}_{access}",
                "policyId": p.id,
                "scopeId": group.id,
                "scopeType": "Group",
                "roleDefinitionId": access,
            }
            for group, access, p in self.policies
        ]

    def policy_objects(self) -> list[Json]:
        return [
            {
                "id": p.id,
                "displayName": "Group",
                "description": f"PIM settings for the {access}s of {group.display_name}",
                "isOrganizationDefault": False,
                "scopeId": group.id,
                "scopeType": "Group",
                "lastModifiedDateTime": iso(p.last_modified_at),
                "lastModifiedBy": {
                    "displayName": self.ctx.users[p.last_modified_by].display_name,
                    "id": p.last_modified_by,
                },
            }
            for group, access, p in self.policies
        ]
