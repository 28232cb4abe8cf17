"""The directory half of the simulation: the tenant, its people, admin accounts, guests, groups and apps.

Who holds which role is decided in simulate.py; this module only makes the objects, with the hygiene
problems a real tenant has (synced admins, guests, disabled accounts, long-lived app secrets).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.clock import DAY, Instant
from pipelines.demo_tenant.ids import guid, immutable_id
from pipelines.demo_tenant.model import (
    AdministrativeUnit,
    Credential,
    Group,
    JustificationHabit,
    ServicePrincipal,
    Tenant,
    User,
)
from pipelines.demo_tenant.sizes import SizeProfile

T = TypeVar("T")

_HABITS = (
    (JustificationHabit.TICKETED, 35),
    (JustificationHabit.TERSE, 45),
    (JustificationHabit.BLANK, 20),
)


def weighted_choice(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    values = [value for value, _ in options]
    return rng.choices(values, weights=[weight for _, weight in options])[0]


def weighted_sample(rng: random.Random, items: Sequence[T], weights: Sequence[float], k: int) -> list[T]:
    """k distinct items, likelier the heavier they are (Efraimidis-Spirakis keys), in a stable order."""
    keyed = [(rng.random() ** (1.0 / w), i) for i, w in enumerate(weights) if w > 0]
    keyed.sort(reverse=True)
    return [items[i] for _, i in sorted(keyed[:k], key=lambda pair: pair[1])]


def make_tenant(seed: int, size: str, as_of: Instant) -> Tenant:
    # Seeded by the seed alone, so the S and M tenants of one seed are the same company.
    rng = random.Random(f"pimlens-demo-tenant/{seed}")
    tenant_id = guid(rng)
    name = rng.choice(catalog.TENANT_NAMES)
    slug = re.sub(r"[^a-z0-9]", "", name.lower())
    created = as_of - rng.randint(6 * 365, 10 * 365) * DAY - rng.randrange(DAY)
    return Tenant(
        id=tenant_id,
        display_name=name,
        initial_domain=f"{slug}demo.onmicrosoft.com",
        default_domain=f"{slug}.example",
        created_at=created,
        seed=seed,
        size=size,
        as_of=as_of,
    )


def _ascii_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass
class People:
    """Everyone in the directory, with the bookkeeping simulate.py needs to hand out roles."""

    users: list[User] = field(default_factory=list)
    # Member people eligible to become admins, in creation order.
    staff: list[User] = field(default_factory=list)
    # The account each admin person uses for PIM: their admin account if they have one.
    admin_accounts: dict[str, User] = field(default_factory=dict)
    guests: list[User] = field(default_factory=list)
    break_glass: list[User] = field(default_factory=list)


class DirectoryBuilder:
    def __init__(self, rng: random.Random, tenant: Tenant, size: SizeProfile):
        self.rng = rng
        self.tenant = tenant
        self.size = size
        self._upn_counts: dict[str, int] = {}

    # -- small helpers -----------------------------------------------------------------------------------

    def _days_ago(self, low: int, high: int) -> Instant:
        return self.tenant.as_of - self.rng.randint(low, high) * DAY - self.rng.randrange(DAY)

    def _unique_local(self, local: str) -> str:
        # Two Jan de Vries get jan.devries and jan.devries2, as directories do.
        count = self._upn_counts.get(local, 0) + 1
        self._upn_counts[local] = count
        return local if count == 1 else f"{local}{count}"

    def _office(self) -> catalog.Office:
        return weighted_choice(self.rng, [(office, office.weight) for office in catalog.OFFICES])

    def _ip(self, office: catalog.Office) -> str:
        return f"{office.network}.{office.first_host + self.rng.randrange(90)}"

    def _activity(self) -> float:
        # About one admin in ten never activates anything: the stale eligibilities PIM alerts on.
        return 0.0 if self.rng.random() < 0.1 else self.rng.lognormvariate(0.0, 0.5)

    # -- people --------------------------------------------------------------------------------------------

    def person(self) -> User:
        rng = self.rng
        department = weighted_choice(rng, [(d, d.weight) for d in catalog.DEPARTMENTS])
        office = self._office()
        first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
        local = self._unique_local(f"{_ascii_slug(first)}.{_ascii_slug(last)}")
        upn = f"{local}@{self.tenant.default_domain}"
        synced = rng.random() < 0.8  # a hybrid tenant: most people come from on-premises AD
        user_id = guid(rng)
        return User(
            id=user_id,
            display_name=f"{first} {last}",
            given_name=first,
            surname=last,
            user_principal_name=upn,
            mail=upn,
            user_type="Member",
            account_enabled=rng.random() >= 0.03,
            department=department.name,
            job_title=rng.choice(department.job_titles),
            office_location=office.city,
            usage_location=office.country,
            created_at=max(self.tenant.created_at + DAY, self._days_ago(20, 3000)),
            on_premises_immutable_id=immutable_id(rng) if synced else None,
            time_zone=office.time_zone,
            ip_address=self._ip(office),
            justification_habit=weighted_choice(rng, _HABITS),
            activity=self._activity(),
            mailbox_time_zone=_mailbox_time_zone(user_id, office.time_zone),
        )

    def admin_account(self, person: User) -> User:
        """A separate, usually cloud-only account for admin work, as Microsoft recommends."""
        rng = self.rng
        local = self._unique_local("adm-" + person.user_principal_name.split("@")[0])
        domain = self.tenant.initial_domain if rng.random() < 0.5 else self.tenant.default_domain
        synced = rng.random() < 0.1  # the few that are synced break the "cloud-only admins" rule
        created = min(self.tenant.as_of - 10 * DAY, person.created_at + rng.randint(1, 60) * DAY)
        admin_id = guid(rng)
        # One in four is licensed with a mailbox (say, for PIM's notification mails); the rest get Graph's 404.
        has_mailbox = int(admin_id[-2], 16) % 4 == 0
        upn = f"{local}@{domain}"
        return User(
            id=admin_id,
            display_name=f"{person.display_name} (Admin)",
            given_name=person.given_name,
            surname=person.surname,
            user_principal_name=upn,
            mail=upn if has_mailbox else None,
            user_type="Member",
            account_enabled=True,
            department=person.department,
            job_title=person.job_title,
            office_location=person.office_location,
            usage_location=person.usage_location,
            created_at=created,
            on_premises_immutable_id=immutable_id(rng) if synced else None,
            time_zone=person.time_zone,
            ip_address=person.ip_address,
            justification_habit=person.justification_habit,
            activity=person.activity,
            mailbox_time_zone=_mailbox_time_zone(admin_id, person.time_zone) if has_mailbox else None,
        )

    def guest(self) -> User:
        rng = self.rng
        first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
        home = rng.choice(catalog.GUEST_DOMAINS)
        local = f"{_ascii_slug(first)}.{_ascii_slug(last)}"
        external = self._unique_local(f"{local}_{home}")
        office = self._office()  # the guest works with this office; guests carry no office in the directory
        return User(
            id=guid(rng),
            display_name=f"{first} {last}",
            given_name=first,
            surname=last,
            user_principal_name=f"{external}#EXT#@{self.tenant.initial_domain}",
            mail=f"{local}@{home}",
            user_type="Guest",
            account_enabled=True,
            department=None,
            job_title=None,
            office_location=None,
            usage_location=office.country,
            created_at=self._days_ago(30, 900),
            on_premises_immutable_id=None,
            time_zone=office.time_zone,
            ip_address=self._ip(office),
            justification_habit=weighted_choice(rng, _HABITS),
            activity=self._activity(),
        )

    def break_glass(self, number: int) -> User:
        """Emergency access: cloud-only, on the onmicrosoft.com domain, never used day to day."""
        office = catalog.HEADQUARTERS
        upn = f"breakglass{number}@{self.tenant.initial_domain}"
        return User(
            id=guid(self.rng),
            display_name=f"Break Glass {number}",
            given_name=None,
            surname=None,
            user_principal_name=upn,
            mail=None,
            user_type="Member",
            account_enabled=True,
            department=None,
            job_title="Emergency access account",
            office_location=office.city,
            usage_location=office.country,
            created_at=self.tenant.created_at + self.rng.randint(1, 20) * DAY,
            on_premises_immutable_id=None,
            time_zone=office.time_zone,
            ip_address=self._ip(office),
            justification_habit=JustificationHabit.BLANK,
            activity=0.0,
            is_break_glass=True,
        )

    def people(self) -> tuple[People, list[User], list[User]]:
        """All users, plus the admin people (members, then guests) and the tier-0 admin people among them."""
        size, rng = self.size, self.rng
        member_admins = size.admins - size.guest_admins
        dedicated = round(member_admins * size.dedicated_admin_share)
        people = People()
        people.staff = [self.person() for _ in range(size.users - 2 - size.guests - dedicated)]
        people.guests = [self.guest() for _ in range(size.guests)]
        people.break_glass = [self.break_glass(1), self.break_glass(2)]

        affinity = {d.name: d.admin_affinity for d in catalog.DEPARTMENTS}
        enabled = [p for p in people.staff if p.account_enabled]
        # Tier 0 first: enabled people from security and IT, who also approve tier-0 requests.
        tier0_weight = {"Security": 10.0, "IT Operations": 6.0, "Engineering": 1.0}
        tier0 = weighted_sample(
            rng, enabled, [tier0_weight.get(p.department or "", 0.1) for p in enabled], size.tier0_admins
        )
        tier0 = [p if p.activity > 0 else replace(p, activity=1.0) for p in tier0]
        tier0_ids = {p.id for p in tier0}
        rest = [p for p in people.staff if p.id not in tier0_ids]
        others = weighted_sample(rng, rest, [affinity[p.department or ""] for p in rest], member_admins - len(tier0))
        admins = tier0 + others
        # Tier-0 people get dedicated accounts first; the rest in the order they were picked.
        for person in admins[:dedicated]:
            people.admin_accounts[person.id] = self.admin_account(person)
        for person in admins[dedicated:]:
            people.admin_accounts[person.id] = person
        for guest in people.guests[: size.guest_admins]:
            people.admin_accounts[guest.id] = guest
        # tier0 objects may have been re-made with an activity; keep the staff list in step.
        remade = {p.id: p for p in tier0}
        people.staff = [remade.get(p.id, p) for p in people.staff]
        people.users = [
            *people.staff,
            *(people.admin_accounts[p.id] for p in admins[:dedicated]),
            *people.guests,
            *people.break_glass,
        ]
        return people, [*admins, *people.guests[: size.guest_admins]], tier0

    # -- groups, apps, administrative units ----------------------------------------------------------------

    def groups(self, role_group_names: Sequence[str]) -> list[Group]:
        rng = self.rng
        groups = [
            self._group(name, f"Role-assignable group for {name.removeprefix('RAG-').replace('-', ' ')}", True)
            for name in role_group_names
        ]
        for department in catalog.DEPARTMENTS:
            groups.append(self._group(f"SG-Dept-{department.name.replace(' ', '')}", f"All of {department.name}"))
        for office in catalog.OFFICES:
            groups.append(self._group(f"SG-Office-{office.city.replace(' ', '')}", f"Everyone in {office.city}"))
        number = 0
        while len(groups) < self.size.groups:
            number += 1
            department = rng.choice(catalog.DEPARTMENTS)
            name = f"Team {department.name} {number}"
            groups.append(
                Group(
                    id=guid(rng),
                    display_name=name,
                    description=f"Microsoft 365 group of a {department.name} team",
                    mail_nickname=f"team-{_ascii_slug(department.name)}-{number}",
                    mail_enabled=True,
                    security_enabled=False,
                    is_assignable_to_role=False,
                    group_types=("Unified",),
                    created_at=self._days_ago(10, 2000),
                )
            )
        return groups[: max(self.size.groups, len(role_group_names))]

    def _group(self, name: str, description: str, role_assignable: bool = False) -> Group:
        return Group(
            id=guid(self.rng),
            display_name=name,
            description=description,
            mail_nickname=_ascii_slug(name.replace("-", "")),
            mail_enabled=False,
            security_enabled=True,
            is_assignable_to_role=role_assignable,
            group_types=(),
            created_at=self._days_ago(30, 2500),
        )

    def service_principals(self) -> list[ServicePrincipal]:
        rng = self.rng
        graph = ServicePrincipal(
            id=guid(rng),
            app_id=catalog.MICROSOFT_GRAPH_APP_ID,
            display_name="Microsoft Graph",
            service_principal_type="Application",
            app_owner_organization_id=catalog.MICROSOFT_TENANT_ID,
            created_at=self.tenant.created_at,
        )
        names = list(catalog.SERVICE_PRINCIPALS)
        environments = ("prod", "test", "dev", "acc")
        number = 0
        while len(names) < self.size.service_principals:
            base, kind = catalog.SERVICE_PRINCIPALS[number % len(catalog.SERVICE_PRINCIPALS)]
            environment = environments[(number // len(catalog.SERVICE_PRINCIPALS)) % len(environments)]
            names.append((f"{base} {environment}-{number // 4 + 1}", kind))
            number += 1
        return [graph, *(self._app(name, kind) for name, kind in names[: self.size.service_principals])]

    def _app(self, name: str, kind: str) -> ServicePrincipal:
        rng = self.rng
        created = self._days_ago(20, 2200)
        if kind == "ManagedIdentity":
            # Azure rotates a managed identity's credentials itself; Graph shows none.
            return ServicePrincipal(guid(rng), guid(rng), name, kind, None, created)
        passwords = tuple(self._credential(created, "secret") for _ in range(rng.choice((0, 1, 1, 2))))
        certificates = tuple(self._credential(created, f"CN={_ascii_slug(name)}") for _ in range(rng.choice((0, 0, 1))))
        return ServicePrincipal(guid(rng), guid(rng), name, kind, self.tenant.id, created, passwords, certificates)

    def _credential(self, created: Instant, label: str) -> Credential:
        rng = self.rng
        # Lifetimes from the compliant 180 days to the two years the portal still offers.
        lifetime = rng.choice((180, 365, 365, 730)) * DAY
        start = rng.randint(created, max(created, self.tenant.as_of - 30 * DAY))
        display = f"{label} {rng.randint(1, 9)}" if label == "secret" else label
        return Credential(key_id=guid(rng), display_name=display, start=start, end=start + lifetime)

    def administrative_units(self) -> list[AdministrativeUnit]:
        names = [office.city for office in catalog.OFFICES]
        names += [f"{o.city} {d.name}" for o in catalog.OFFICES for d in catalog.DEPARTMENTS]
        return [
            AdministrativeUnit(id=guid(self.rng), display_name=f"AU {name}", description=f"Users of {name}")
            for name in names[: self.size.administrative_units]
        ]


def _mailbox_time_zone(user_id: str, time_zone: str) -> str:
    """What a mailbox says its user's zone (IANA ``time_zone``) is, spread by the last digit of their id (no random
    draw, so the rest of the tenant does not move): most keep Exchange's default Windows name, some were set to IANA
    names, one in sixteen set a custom zone. Guests, break-glass and most admin accounts have no mailbox.
    """
    office = next(office for office in catalog.OFFICES if office.time_zone == time_zone)
    digit = int(user_id[-1], 16)
    if digit == 0:
        return catalog.CUSTOM_TIME_ZONE
    return office.time_zone if digit <= 4 else office.windows_time_zone
