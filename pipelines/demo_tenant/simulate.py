"""Builds the demo tenant's model from a seed: directory, roles, PIM policies and who holds what at as_of.

The year of activation history is not built here but streamed by history.py from each eligibility's seed.
What this module fixes up front are the few things the state and the history must agree on: activations
running at as_of (`PlannedActivation`) and the first requests of a few eligibilities (`opening_outcomes`), so
every tenant, whatever its seed, shows each access state and each request outcome at least once.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pipelines.demo_tenant import catalog, programme
from pipelines.demo_tenant.catalog import APPLICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR
from pipelines.demo_tenant.clock import DAY, HOUR, MINUTE, SECOND, Instant
from pipelines.demo_tenant.directory import DirectoryBuilder, make_tenant, weighted_choice, weighted_sample
from pipelines.demo_tenant.governance import plant_governance
from pipelines.demo_tenant.history import pick_duration
from pipelines.demo_tenant.ids import assignment_id, derived_guid, guid
from pipelines.demo_tenant.model import (
    ROOT_SCOPE,
    ActiveAssignment,
    AdministrativeUnit,
    AssignmentKind,
    Eligibility,
    Group,
    Outcome,
    OutsidePimEvent,
    PlannedActivation,
    PrincipalType,
    RoleDefinition,
    RolePolicy,
    ServicePrincipal,
    TenantModel,
    User,
)
from pipelines.demo_tenant.sizes import SizeProfile, profile
from pipelines.demo_tenant.surfaces.conditional_access import ACTIVATION_CONTEXT

_ELIGIBLE = "eligible"
_PAST = "past"  # an eligibility that ended during the year
_PERMANENT = "permanent"
_TIME_BOUND = "time_bound"
_OUTSIDE_PIM = "outside_pim"
# Of 256: the tenants (about two in three) that hold an eligibility on a deleted custom role.
UNLISTED_ROLE_TENANT_SHARE = 170
SHORT_ACTIVATION_HABIT = 2 * HOUR  # the longest activation the holders of one planted tier-1 role ask for


@dataclass
class _Holding:
    """A role someone will hold, before its dates are drawn (they depend on the role's policy)."""

    principal_id: str
    principal_type: PrincipalType
    role_id: str
    unit: AdministrativeUnit | None
    state: str
    created_by: str | None = None
    in_window: bool = False  # outside-PIM only: made during the year, so it is in the audit log

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.principal_id, self.role_id, self.unit.scope if self.unit else ROOT_SCOPE)


def build_model(size: str, seed: int, as_of: Instant) -> TenantModel:
    size_profile = profile(size)
    return _Simulation(size_profile, seed, as_of).build()


class _Simulation:
    def __init__(self, size: SizeProfile, seed: int, as_of: Instant):
        self.size = size
        self.as_of = as_of
        self.tenant = make_tenant(seed, size.name, as_of)
        self.rng = random.Random(f"pimlens-demo-model/{seed}/{size.name}")
        self.directory = DirectoryBuilder(self.rng, self.tenant, size)
        self.holdings: list[_Holding] = []
        self._held: set[tuple[str, str, str]] = set()

    # -- orchestration -------------------------------------------------------------------------------------

    def build(self) -> TenantModel:
        self.roles = self._roles()
        self.role_by_id = {role.id: role for role in self.roles}
        self.units = self.directory.administrative_units()
        people, admin_people, tier0 = self.directory.people()
        self.users = people.users
        self.user_by_id = {user.id: user for user in self.users}
        self.tier0_accounts = [people.admin_accounts[p.id] for p in tier0]
        self.break_glass = people.break_glass
        groups = self.directory.groups(self._role_group_names())
        service_principals = self.directory.service_principals()
        self.created_at = {u.id: u.created_at for u in self.users}
        self.created_at |= {g.id: g.created_at for g in groups}
        self.created_at |= {sp.id: sp.created_at for sp in service_principals}

        self.security_accounts: list[User] = list(self.tier0_accounts)
        self._admin_holdings(admin_people, {p.id for p in tier0}, people.admin_accounts)
        self._standing_for_people()
        for account in self.break_glass:
            self._hold(account.id, PrincipalType.USER, GLOBAL_ADMINISTRATOR, None, _PERMANENT)
        self._group_holdings([g for g in groups if g.is_assignable_to_role])
        self._service_principal_holdings(service_principals[1:])  # not Microsoft Graph's own
        self._outside_pim_for_people(list(people.admin_accounts.values()))
        self._plant_break_glass_use()

        tiers = {role.id: role.tier for role in self.roles}
        planted = plant_governance(self._policies(), tiers, self.tenant.id, self.users, groups)
        self.policies = programme.plant_compliance_failures(planted, tiers)
        self.policy_by_role = {policy.role_id: policy for policy in self.policies}
        eligibilities, assignments, events = self._materialize()
        self._plant_short_activation_habit(eligibilities)
        burst = self._plant_membership_burst()
        assignments += [event.assignment for event in burst]
        events += burst
        eligibilities, activated = self._plan(eligibilities)
        self._plant_approval_nobody_is_denied(eligibilities)
        return TenantModel(
            tenant=self.tenant,
            users=tuple(self.users),
            groups=tuple(groups),
            service_principals=tuple(service_principals),
            administrative_units=tuple(self.units),
            roles=tuple(self.roles),
            policies=tuple(self.policies),
            eligibilities=tuple(eligibilities),
            assignments=tuple(assignments + activated),
            outside_pim_events=tuple(events),
            unlisted_role_eligibilities=self._unlisted_role_eligibilities(),
        )

    def _plant_short_activation_habit(self, eligibilities: Sequence[Eligibility]) -> None:
        """The holders of one busy tier-1 role do work that takes an hour or two, though its policy allows 8 hours
        or more: they ask for at most SHORT_ACTIVATION_HABIT, so the advice to lower the role's maximum activation
        (docs/metrics.md, "Advice from behaviour") has a role to find in every tenant.

        Chosen from the eligibilities already made, with no draw of the simulation's generator, so planting it
        moves nothing else of the tenant; only that role's own activation histories change.
        """
        rates: dict[str, float] = {}
        for e in eligibilities:
            if e.principal_type is PrincipalType.USER and e.is_current(self.as_of):
                rates[e.role_id] = rates.get(e.role_id, 0.0) + e.activations_per_year
        candidates = [
            p
            for p in self.policies
            if self.role_by_id[p.role_id].tier == 1 and p.max_activation >= 4 * SHORT_ACTIVATION_HABIT
        ]
        if not candidates:
            return
        chosen = max(candidates, key=lambda p: (rates.get(p.role_id, 0.0), p.role_id))
        self.policies = [
            replace(p, habitual_activation=SHORT_ACTIVATION_HABIT) if p is chosen else p for p in self.policies
        ]
        self.policy_by_role = {policy.role_id: policy for policy in self.policies}

    def _plant_approval_nobody_is_denied(self, eligibilities: Sequence[Eligibility]) -> None:
        """One busy tier-2 role needs approval, and its approvers approve every request: the advice to drop approval
        (docs/metrics.md, "Advice from behaviour") has a role to find in every tenant.

        Chosen after the live activations and the forced opening outcomes were planted, among the roles that have
        none of either, with no draw of the simulation's generator: nothing else of the tenant moves, only that
        role's own activation histories. The approvers are two holders of Global or Privileged Role Administrator
        who do not hold the role, as an organisation's approvers are.
        """
        rates: dict[str, float] = {}
        planted = set()
        for e in eligibilities:
            if e.live_activation is not None or e.opening_outcomes:
                planted.add(e.role_id)
            if e.principal_type is PrincipalType.USER and e.is_current(self.as_of):
                rates[e.role_id] = rates.get(e.role_id, 0.0) + e.activations_per_year
        candidates = [
            p
            for p in self.policies
            if self.role_by_id[p.role_id].tier == 2 and p.role_id not in planted and rates.get(p.role_id, 0.0) > 0
        ]
        if not candidates:
            return
        chosen = max(candidates, key=lambda p: (rates[p.role_id], p.role_id))
        role_holders = {e.principal_id for e in eligibilities if e.role_id == chosen.role_id}
        admins = {
            e.principal_id
            for e in eligibilities
            if e.role_id in (GLOBAL_ADMINISTRATOR, catalog.PRIVILEGED_ROLE_ADMINISTRATOR)
            and e.principal_type is PrincipalType.USER
            and e.is_current(self.as_of)
        }
        approvers = tuple(sorted(admins - role_holders - {u.id for u in self.break_glass})[:2])
        if not approvers:
            return
        changed = replace(chosen, approval_required=True, approver_ids=approvers, approves_every_request=True)
        self.policies = [changed if p is chosen else p for p in self.policies]
        self.policy_by_role = {policy.role_id: policy for policy in self.policies}

    def _unlisted_role_eligibilities(self) -> tuple[Eligibility, ...]:
        """In about two tenants of three, one eligibility on a custom role since deleted from the catalogue.

        Drawn from the tenant id, not from the simulation's generator, so planting it changes nothing else.
        """
        key = derived_guid(self.tenant.id, "deleted-custom-role")
        if int(key[:2], 16) >= UNLISTED_ROLE_TENANT_SHARE:
            return ()
        holder = self.users[int(key[2:6], 16) % len(self.users)]
        schedule_id = derived_guid(key, "eligibility-schedule")
        return (
            Eligibility(
                id=schedule_id + "-e",
                schedule_id=schedule_id,
                principal_id=holder.id,
                principal_type=PrincipalType.USER,
                role_id=key,
                directory_scope_id=ROOT_SCOPE,
                start=self.as_of - 200 * DAY,
                end=None,
                activations_per_year=0.0,
                history_seed=0,
            ),
        )

    # -- roles ---------------------------------------------------------------------------------------------

    def _roles(self) -> list[RoleDefinition]:
        roles = [
            RoleDefinition(
                id=spec.template_id,
                display_name=spec.name,
                description=spec.description,
                is_built_in=True,
                is_enabled=True,
                is_privileged=spec.is_privileged,
                allowed_actions=spec.actions,
                tier=spec.tier,
                au_scopable=spec.au_scopable,
                activations_per_year=spec.activations_per_year,
            )
            for spec in catalog.BUILT_IN_ROLES
        ]
        self.role_key: dict[str, str] = {role.id: role.id for role in roles}
        for spec in catalog.CUSTOM_ROLES:
            role_id = guid(self.rng)  # custom roles get a random id, which is also their templateId
            self.role_key[spec.key] = role_id
            roles.append(
                RoleDefinition(
                    id=role_id,
                    display_name=spec.name,
                    description=spec.description,
                    is_built_in=False,
                    is_enabled=True,
                    is_privileged=spec.is_privileged,
                    allowed_actions=spec.actions,
                    tier=1 if spec.is_privileged else 2,
                    au_scopable=False,
                    activations_per_year=spec.activations_per_year,
                )
            )
        return roles

    def _role_group_names(self) -> list[str]:
        names = ["RAG-Helpdesk-Tier1", "RAG-Tier0-Operators"]
        areas = ("Service-Desk", "Exchange-Ops", "Security-Analysts", "Identity-Ops", "Endpoint-Ops", "Teams-Ops")
        names += [f"RAG-{area}-{office.city.replace(' ', '')}" for office in catalog.OFFICES for area in areas]
        # One more than hold roles: a role-assignable group nobody has used yet.
        return names[: self.size.role_holding_groups + 1]

    # -- who holds what ------------------------------------------------------------------------------------

    def _hold(
        self,
        principal_id: str,
        principal_type: PrincipalType,
        role_id: str,
        unit: AdministrativeUnit | None,
        state: str,
    ) -> _Holding | None:
        holding = _Holding(principal_id, principal_type, role_id, unit, state)
        if holding.key in self._held:
            return None
        self._held.add(holding.key)
        self.holdings.append(holding)
        return holding

    def _admin_holdings(self, admin_people: list[User], tier0_ids: set[str], accounts: dict[str, User]) -> None:
        rng = self.rng
        for person in admin_people:
            account = accounts[person.id]
            if person.id in tier0_ids:
                persona = "tier0"
            elif person.user_type == "Guest":
                persona = rng.choice(("security", "m365", "apps"))
            else:
                options = catalog.DEPARTMENT_PERSONAS.get(person.department or "", catalog.DEFAULT_PERSONAS)
                persona = weighted_choice(rng, options)
            if persona == "security":
                self.security_accounts.append(account)
            wanted = [key for key, chance in catalog.PERSONAS[persona] if rng.random() < chance]
            role_ids = [self.role_key[key] for key in wanted or [catalog.PERSONAS[persona][0][0]]]
            for role_id in role_ids:
                for unit in self._scopes(self.role_by_id[role_id]):
                    self._hold(account.id, PrincipalType.USER, role_id, unit, _ELIGIBLE)
            if rng.random() < self.size.past_eligibility_share:
                other = rng.choice(list(catalog.PERSONAS))
                former = [self.role_key[k] for k, _ in catalog.PERSONAS[other] if self.role_key[k] not in role_ids]
                if former:
                    self._hold(account.id, PrincipalType.USER, rng.choice(former), None, _PAST)

    def _scopes(self, role: RoleDefinition) -> list[AdministrativeUnit | None]:
        """Root scope, or for roles Entra allows there, one or more administrative units (regional teams)."""
        if not role.au_scopable or not self.units or self.rng.random() >= self.size.unit_scoped_share:
            return [None]
        count = self.rng.randint(1, min(self.size.max_units_per_assignment, len(self.units)))
        return list(self.rng.sample(self.units, count))

    def _standing_for_people(self) -> None:
        """Turn some eligibilities into standing access: the permanent and time-bound actives PIM flags."""
        rng = self.rng
        eligible = [h for h in self.holdings if h.state == _ELIGIBLE]
        # Time-bound first, starting with a privileged role of a guest (a consultant with a 90-day grant).
        guests = {u.id for u in self.users if u.user_type == "Guest"}
        privileged = [h for h in eligible if self.role_by_id[h.role_id].is_privileged]
        first = [h for h in privileged if h.principal_id in guests] or privileged
        chosen: list[_Holding] = [rng.choice(first)] if first else []
        rest = [h for h in eligible if h not in chosen and h.role_id != GLOBAL_ADMINISTRATOR]
        chosen += rng.sample(rest, min(len(rest), self.size.time_bound_active - len(chosen)))
        for holding in chosen:
            holding.state = _TIME_BOUND
        # Permanent: mostly everyday roles, the odd control-plane one.
        candidates = [h for h in eligible if h.state == _ELIGIBLE]
        weights = [{0: 0.3, 1: 1.5, 2: 3.0}[self.role_by_id[h.role_id].tier] for h in candidates]
        for holding in weighted_sample(rng, candidates, weights, self.size.permanent_active_users):
            holding.state = _PERMANENT

    def _group_holdings(self, role_groups: list[Group]) -> None:
        # The second is the PIM for Groups design for tier 0: the group holds Global Administrator for good, and
        # people become members just in time; head-counts expand it to its members (docs/metrics.md).
        planted = [
            (catalog.HELPDESK_ADMINISTRATOR, _PERMANENT),
            (catalog.GLOBAL_ADMINISTRATOR, _PERMANENT),
            (catalog.SECURITY_READER, _ELIGIBLE),
        ]
        group_roles = (
            catalog.HELPDESK_ADMINISTRATOR,
            catalog.USER_ADMINISTRATOR,
            catalog.SECURITY_READER,
            catalog.EXCHANGE_ADMINISTRATOR,
            catalog.INTUNE_ADMINISTRATOR,
            catalog.GLOBAL_READER,
            catalog.PASSWORD_ADMINISTRATOR,
            catalog.TEAMS_ADMINISTRATOR,
        )
        for index, group in enumerate(role_groups[: self.size.role_holding_groups]):
            if index < len(planted):
                role_id, state = planted[index]
            else:
                role_id = self.rng.choice(group_roles)
                state = weighted_choice(self.rng, [(_PERMANENT, 5), (_ELIGIBLE, 4), (_TIME_BOUND, 1)])
            self._hold(group.id, PrincipalType.GROUP, role_id, None, state)

    def _service_principal_holdings(self, service_principals: list[ServicePrincipal]) -> None:
        """Apps hold active roles only (Entra does not let them be eligible), some outside PIM."""
        rng = self.rng
        by_name = {sp.display_name: sp for sp in service_principals}
        planted = [
            ("HR Provisioning Connector", catalog.USER_ADMINISTRATOR, _PERMANENT, False),
            ("Security Posture Scanner", catalog.GLOBAL_READER, _TIME_BOUND, False),
            ("Legacy Provisioner", APPLICATION_ADMINISTRATOR, _OUTSIDE_PIM, False),
            ("mi-automation-prod", catalog.EXCHANGE_ADMINISTRATOR, _OUTSIDE_PIM, True),
            ("Backup Automation", catalog.DIRECTORY_READERS, _OUTSIDE_PIM, False),
        ]
        pim_left = self.size.service_principal_role_holders
        outside_left = self.size.outside_pim_service_principals
        for name, role_id, state, in_window in planted:
            if name in by_name and (pim_left if state != _OUTSIDE_PIM else outside_left) > 0:
                self._hold_active(by_name[name].id, PrincipalType.SERVICE_PRINCIPAL, role_id, state, in_window)
                if state == _OUTSIDE_PIM:
                    outside_left -= 1
                else:
                    pim_left -= 1
        roles = list(catalog.SERVICE_PRINCIPAL_ROLES)
        pool = [sp for sp in service_principals if sp.display_name not in {p[0] for p in planted}]
        for sp in rng.sample(pool, min(len(pool), pim_left + outside_left)):
            if pim_left > 0:
                state = weighted_choice(rng, [(_PERMANENT, 3), (_TIME_BOUND, 1)])
                pim_left -= 1
            else:
                state = _OUTSIDE_PIM
            role_id = weighted_choice(rng, roles)
            self._hold_active(sp.id, PrincipalType.SERVICE_PRINCIPAL, role_id, state, rng.random() < 0.4)

    def _outside_pim_for_people(self, admin_accounts: list[User]) -> None:
        rng = self.rng
        roles = (
            (catalog.EXCHANGE_ADMINISTRATOR, 3.0),
            (catalog.USER_ADMINISTRATOR, 2.0),
            (catalog.SHAREPOINT_ADMINISTRATOR, 2.0),
            (catalog.TEAMS_ADMINISTRATOR, 2.0),
            (catalog.SECURITY_ADMINISTRATOR, 1.0),
            (GLOBAL_ADMINISTRATOR, 0.3),
        )
        members = [u for u in admin_accounts if u.user_type == "Member"]
        for index, account in enumerate(rng.sample(members, min(len(members), self.size.outside_pim_users))):
            # The first is planted: a privileged role granted directly during the year.
            preferred = catalog.SECURITY_ADMINISTRATOR if index == 0 else weighted_choice(rng, roles)
            free = [r for r in (preferred, *(r for r, _ in roles)) if (account.id, r, ROOT_SCOPE) not in self._held]
            in_window = index == 0 or rng.random() < 0.5
            if free:
                self._hold_active(account.id, PrincipalType.USER, free[0], _OUTSIDE_PIM, in_window)

    def _plant_break_glass_use(self) -> None:
        """Someone signed in as break-glass made an outside-PIM assignment during the year, whatever the seed:
        the break-glass alert must have something to find. Spends no randomness."""
        logged = [h for h in self.holdings if h.state == _OUTSIDE_PIM and h.in_window]
        break_glass = {account.id for account in self.break_glass}
        if not logged or any(h.created_by in break_glass for h in logged):
            return
        first = next((h for h in logged if h.principal_id not in break_glass), None)
        if first is not None:
            first.created_by = self.break_glass[0].id

    def _plant_membership_burst(self) -> list[OutsidePimEvent]:
        """One admin grants a team a tier-1 role outside PIM, one account after another in under an hour: the
        membership-burst alert (pim-rules.md rule 13) must have something to find whatever the seed.

        Its own random stream, so every other part of the tenant is what it would be without the burst.
        """
        rng = random.Random(f"pimlens-demo-burst/{self.tenant.seed}/{self.size.name}")
        break_glass = {account.id for account in self.break_glass}
        admins = sorted((u for u in self.tier0_accounts if u.id not in break_glass), key=lambda u: u.id)
        roles = sorted(r.id for r in self.roles if r.is_privileged and r.tier == 1)
        began = self.as_of - rng.randint(3, 25) * DAY - rng.randint(2 * HOUR, 6 * HOUR)
        people = sorted(
            (
                u
                for u in self.users
                if u.user_type == "Member" and u.account_enabled and u.id not in break_glass and u.created_at < began
            ),
            key=lambda u: u.id,
        )
        if not admins or not roles or not people:
            return []
        admin, role_id = rng.choice(admins), rng.choice(roles)
        newcomers = [u for u in people if u.id != admin.id and (u.id, role_id, ROOT_SCOPE) not in self._held]
        events = []
        for index, user in enumerate(rng.sample(newcomers, min(len(newcomers), programme.MEMBERSHIP_BURST_COUNT + 1))):
            at = began + index * rng.randint(4 * MINUTE, 11 * MINUTE)
            assignment = ActiveAssignment(
                id=assignment_id(role_id, user.id, None),
                schedule_id=None,
                principal_id=user.id,
                principal_type=PrincipalType.USER,
                role_id=role_id,
                directory_scope_id=ROOT_SCOPE,
                kind=AssignmentKind.OUTSIDE_PIM,
                start=at,
                end=None,
                created_by=admin.id,
            )
            events.append(OutsidePimEvent(guid(rng), guid(rng), at, assignment))
        return events

    def _hold_active(
        self, principal_id: str, principal_type: PrincipalType, role_id: str, state: str, in_window: bool
    ) -> None:
        holding = self._hold(principal_id, principal_type, role_id, None, state)
        if holding is None:
            return
        holding.in_window = in_window
        if state == _OUTSIDE_PIM:
            # Whoever made it: usually a tier-0 admin, now and then someone signed in as break-glass.
            pool = self.break_glass if self.rng.random() < 0.2 else self.tier0_accounts
            holding.created_by = self.rng.choice([u for u in pool if u.id != principal_id] or self.break_glass).id

    # -- policies ------------------------------------------------------------------------------------------

    def _policies(self) -> list[RolePolicy]:
        permanent_roles = {h.role_id for h in self.holdings if h.state == _PERMANENT}
        return [self._policy(role, role.id in permanent_roles) for role in self.roles]

    def _policy(self, role: RoleDefinition, has_permanent_active: bool) -> RolePolicy:
        rng = self.rng
        tier = role.tier
        # Approval: always on the two roles every baseline names, on some other tier-0 roles, rarely else.
        approval_chance = {
            catalog.PRIVILEGED_AUTHENTICATION_ADMINISTRATOR: 0.6,
            catalog.SECURITY_ADMINISTRATOR: 0.5,
            catalog.CONDITIONAL_ACCESS_ADMINISTRATOR: 0.4,
        }.get(role.id, {0: 0.15, 1: 0.05, 2: 0.04}[tier])
        approval = role.id in (GLOBAL_ADMINISTRATOR, catalog.PRIVILEGED_ROLE_ADMINISTRATOR)
        approval = approval or rng.random() < approval_chance
        auth_context = ACTIVATION_CONTEXT if tier == 0 and rng.random() < 0.25 else None
        mfa = auth_context is None and rng.random() < {0: 0.95, 1: 0.85, 2: 0.7}[tier]
        max_hours = rng.choice({0: (1, 2, 4, 8, 8, 10), 1: (4, 8, 8, 10, 12, 24), 2: (8, 8, 10, 12, 24)}[tier])
        # Permanent active is allowed where someone holds it; the setting was relaxed for them.
        permanent_active_allowed = (
            has_permanent_active or role.id == GLOBAL_ADMINISTRATOR or rng.random() < {0: 0.1, 1: 0.3, 2: 0.5}[tier]
        )
        approvers: tuple[str, ...] = ()
        if approval:
            pool = self.tier0_accounts if tier == 0 else self.security_accounts
            count = min(len(pool), weighted_choice(rng, [(1, 2), (2, 5), (3, 3)]))
            approvers = tuple(user.id for user in rng.sample(pool, count))
        editors = self.tier0_accounts or self.break_glass
        return RolePolicy(
            id=f"DirectoryRole_{self.tenant.id}_{guid(rng)}",
            role_id=role.id,
            approval_required=approval,
            approver_ids=approvers,
            mfa_on_activation=mfa,
            authentication_context=auth_context,
            justification_on_activation=rng.random() < {0: 0.97, 1: 0.9, 2: 0.75}[tier],
            ticketing_on_activation=rng.random() < {0: 0.3, 1: 0.1, 2: 0.05}[tier],
            max_activation=max_hours * HOUR,
            eligibility_expiration_required=rng.random() >= {0: 0.3, 1: 0.5, 2: 0.7}[tier],
            max_eligibility=rng.choice((365, 365, 180, 90)) * DAY,
            active_expiration_required=not permanent_active_allowed,
            max_active=rng.choice((180, 180, 90, 365)) * DAY,
            mfa_on_active_assignment=rng.random() < 0.5,
            activation_alert_recipients=(
                (f"pim-alerts@{self.tenant.default_domain}",) if tier == 0 and rng.random() < 0.6 else ()
            ),
            last_modified_at=max(
                self.tenant.created_at + DAY, self.as_of - rng.randint(3, 700) * DAY - rng.randrange(DAY)
            ),
            last_modified_by=rng.choice(editors).id,
        )

    # -- dates ---------------------------------------------------------------------------------------------

    def _standing_start(self, principal_id: str) -> Instant:
        """When a long-held assignment began: mostly before the year, some during it."""
        rng = self.rng
        days = rng.randint(366, 1500) if rng.random() < 0.7 else rng.randint(2, 360)
        start = self.as_of - days * DAY - rng.randrange(DAY)
        return max(start, self.created_at[principal_id] + DAY + rng.randrange(DAY))

    def _bounded_window(self, principal_id: str, longest: Instant) -> tuple[Instant, Instant]:
        """A time-bound assignment running at as_of, no longer than the policy allows."""
        rng = self.rng
        span = longest if rng.random() < 0.7 else rng.randint(30, longest // DAY) * DAY
        start = self.as_of - rng.randint(DAY, span - DAY)
        start = max(start, self.created_at[principal_id] + DAY)
        return start, start + span

    def _materialize(self) -> tuple[list[Eligibility], list[ActiveAssignment], list[OutsidePimEvent]]:
        rng = self.rng
        eligibilities: list[Eligibility] = []
        assignments: list[ActiveAssignment] = []
        events: list[OutsidePimEvent] = []
        for h in self.holdings:
            policy = self.policy_by_role[h.role_id]
            principal, role_id, scope = h.key
            unit_id = h.unit.id if h.unit else None
            if h.state in (_ELIGIBLE, _PAST):
                window = self._eligibility_window(h, policy)
                if window is None:
                    continue
                current = Eligibility(
                    id=assignment_id(role_id, principal, unit_id) + "-e",
                    schedule_id=guid(rng),
                    principal_id=principal,
                    principal_type=h.principal_type,
                    role_id=role_id,
                    directory_scope_id=scope,
                    start=window[0],
                    end=window[1],
                    activations_per_year=self._activation_rate(h),
                    history_seed=rng.getrandbits(64),
                )
                eligibilities += [*self._renewed_from(current), current]
                continue
            if h.state == _PERMANENT:
                start, end = self._standing_start(principal), None
            elif h.state == _TIME_BOUND:
                start, end = self._bounded_window(principal, policy.max_active)
            else:
                start, end = self._outside_pim_start(h), None
            outside = h.state == _OUTSIDE_PIM
            assignment = ActiveAssignment(
                id=assignment_id(role_id, principal, unit_id),
                schedule_id=None if outside else guid(rng),
                principal_id=principal,
                principal_type=h.principal_type,
                role_id=role_id,
                directory_scope_id=scope,
                kind=AssignmentKind.OUTSIDE_PIM if outside else AssignmentKind.ASSIGNED,
                start=start,
                end=end,
                created_by=h.created_by,
            )
            assignments.append(assignment)
            if outside and start >= self.tenant.window_start:
                events.append(OutsidePimEvent(guid(rng), guid(rng), start, assignment))
        return eligibilities, assignments, events

    def _eligibility_window(self, h: _Holding, policy: RolePolicy) -> tuple[Instant, Instant | None] | None:
        rng = self.rng
        created = self.created_at[h.principal_id]
        if h.state == _PAST:
            end = rng.randint(self.tenant.window_start + 45 * DAY, self.as_of - 3 * DAY)
            span = policy.max_eligibility if policy.eligibility_expiration_required else rng.randint(90, 365) * DAY
            start = max(end - span, created + DAY)
            return (start, end) if start < end - 14 * DAY else None
        if not policy.eligibility_expiration_required and rng.random() < 0.7:
            return self._standing_start(h.principal_id), None
        return self._bounded_window(h.principal_id, policy.max_eligibility)

    def _renewed_from(self, e: Eligibility) -> list[Eligibility]:
        """The expired schedules a time-bound eligibility was renewed from, back to the start of the year.

        Admins renew time-bound eligibilities rather than let people lose them, so the person's activations
        before the current schedule began happened under these. They are not current, so never written;
        their ids (made from their schedule ids) only need to be unique within the model.
        """
        rng = self.rng
        if e.end is None or e.start <= self.tenant.window_start or rng.random() >= 0.8:
            return []
        earliest = self.created_at[e.principal_id] + DAY
        span = e.end - e.start
        chain: list[Eligibility] = []
        end = e.start - rng.choice((0, 0, 0, rng.randint(HOUR, 5 * DAY)))  # some renewals lapse a few days
        while end > self.tenant.window_start and end - span // 2 > earliest and len(chain) < 4:
            start = max(end - span, earliest)
            schedule_id = guid(rng)
            chain.append(
                replace(
                    e,
                    id=f"{schedule_id}-e",
                    schedule_id=schedule_id,
                    start=start,
                    end=end,
                    history_seed=rng.getrandbits(64),
                )
            )
            end = start - rng.choice((0, 0, rng.randint(HOUR, 5 * DAY)))
        return chain[::-1]

    def _outside_pim_start(self, h: _Holding) -> Instant:
        rng = self.rng
        days = rng.randint(5, 355) if h.in_window else rng.randint(400, 1500)
        start = self.as_of - days * DAY - rng.randrange(DAY)
        earliest = max(self.created_at[h.principal_id], self.created_at.get(h.created_by or "", 0)) + DAY
        return min(max(start, earliest), self.as_of - HOUR)

    def _activation_rate(self, h: _Holding) -> float:
        """Activations a year: the role's usual pace times the person's own; groups and the disabled: none."""
        if h.principal_type is not PrincipalType.USER:
            return 0.0
        user = self.user_by_id[h.principal_id]
        if not user.account_enabled:
            return 0.0
        return self.role_by_id[h.role_id].activations_per_year * user.activity * self.size.activity_scale

    # -- plans the history must honour ---------------------------------------------------------------------

    def _has_other_approver(self, e: Eligibility) -> bool:
        policy = self.policy_by_role[e.role_id]
        return any(approver != e.principal_id for approver in policy.approver_ids)

    def _plan(self, eligibilities: list[Eligibility]) -> tuple[list[Eligibility], list[ActiveAssignment]]:
        rng = self.rng
        as_of = self.as_of
        current = [e for e in eligibilities if e.is_current(as_of) and e.activations_per_year > 0]

        def can_run_now(e: Eligibility) -> bool:
            policy = self.policy_by_role[e.role_id]
            fits = e.end is None or e.end > as_of + policy.max_activation + HOUR
            approvable = not policy.approval_required or self._has_other_approver(e)
            return e.start < as_of - 2 * DAY and fits and approvable

        candidates = [e for e in current if can_run_now(e)]
        live: list[Eligibility] = []
        # Planted first: one on a privileged role that needs approval, one on any privileged role.
        for needs_approval in (True, False):
            pool = [
                e
                for e in candidates
                if self.role_by_id[e.role_id].is_privileged
                and (self.policy_by_role[e.role_id].approval_required or not needs_approval)
                and e not in live
            ]
            if pool and len(live) < self.size.live_activations:
                live.append(rng.choice(pool))
        rest = [e for e in candidates if e not in live]
        weights = [e.activations_per_year for e in rest]
        live += weighted_sample(rng, rest, weights, self.size.live_activations - len(live))

        plans = {e.id: self._live_plan(e) for e in live}
        openings = self._openings(current, set(plans))
        planned: list[Eligibility] = []
        activated: list[ActiveAssignment] = []
        for e in eligibilities:
            plan = plans.get(e.id)
            if plan is not None:
                activated.append(
                    ActiveAssignment(
                        id=e.id.removesuffix("-e"),
                        schedule_id=guid(rng),
                        principal_id=e.principal_id,
                        principal_type=e.principal_type,
                        role_id=e.role_id,
                        directory_scope_id=e.directory_scope_id,
                        kind=AssignmentKind.ACTIVATED,
                        start=plan.completed_at,
                        end=plan.granted_end,
                        eligibility_id=e.id,
                    )
                )
            if plan is not None or e.id in openings:
                e = replace(e, live_activation=plan, opening_outcomes=openings.get(e.id, ()))
            planned.append(e)
        return planned, activated

    def _live_plan(self, e: Eligibility) -> PlannedActivation:
        rng = self.rng
        policy = self.policy_by_role[e.role_id]
        duration = pick_duration(rng, policy.max_activation)
        ago = rng.randint(5 * MINUTE, duration - 5 * MINUTE)  # requested this long before as_of
        requested = self.as_of - ago
        if policy.approval_required:
            asked = requested + rng.randint(300, 2_500)
            decided = asked + rng.randint(MINUTE, max(MINUTE + 1, min(ago * 6 // 10, 2 * HOUR)))
            completed = decided + rng.randint(SECOND, 8 * SECOND)
        else:
            asked = decided = None
            completed = requested + rng.randint(1_500, 15 * SECOND)
        return PlannedActivation(requested, asked, decided, completed, completed + duration)

    def _openings(self, current: Sequence[Eligibility], live: set[str]) -> dict[str, tuple[Outcome, ...]]:
        """Pick eligibilities whose first requests of the year end denied, expired, canceled and failed."""
        rng = self.rng
        as_of = self.as_of

        def roomy(e: Eligibility, days: int) -> bool:
            """Held long enough before as_of, and well after it, to fit a few requests at the start."""
            return e.id not in live and e.start <= as_of - days * DAY and (e.end is None or e.end > as_of + DAY)

        approvable: list[Eligibility] = []
        for days in (90, 45, 10):
            approvable = [
                e
                for e in current
                if roomy(e, days) and self.policy_by_role[e.role_id].approval_required and self._has_other_approver(e)
            ]
            if approvable:
                break
        openings: dict[str, list[Outcome]] = {}
        for outcome in (Outcome.DENIED, Outcome.EXPIRED, Outcome.CANCELED):
            if approvable:
                openings.setdefault(rng.choice(approvable).id, []).append(outcome)
        anything = [
            e
            for e in current
            if roomy(e, 45) and (not self.policy_by_role[e.role_id].approval_required or self._has_other_approver(e))
        ]
        if anything:
            openings.setdefault(rng.choice(anything).id, []).append(Outcome.FAILED)
        return {key: tuple(outcomes) for key, outcomes in openings.items()}
