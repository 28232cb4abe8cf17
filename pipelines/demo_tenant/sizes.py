"""The tenant sizes `--size` accepts.

| size | users  | admins (people with PIM roles) | current eligibilities | activation requests / year | audit events |
|------|--------|--------------------------------|-----------------------|----------------------------|--------------|
| S    | 150    | 40                             | ~85                   | ~1.5-2.5k                  | ~6k          |
| M    | 1,500  | 320                            | ~700                  | ~17k                       | ~55k         |
| L    | 10,000 | 5,000                          | ~18,500               | ~570k                      | ~2.1M        |

(Measured for seed 7; docs/tenant-format.md has the time and disk each takes.)

L is a load test: its admins hold several roles each, often once per administrative unit (regional helpdesks),
and its audit log (about 2.5 GB) is streamed to disk, never held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SizeProfile:
    name: str
    users: int  # every user object, including admin accounts, guests and break-glass accounts
    guests: int  # guest users, of whom `guest_admins` hold roles
    admins: int  # people who hold PIM roles (eligible or active), including tier-0 and guest admins
    tier0_admins: int  # people eligible for Global Administrator and friends; they approve tier-0 requests
    guest_admins: int
    dedicated_admin_share: float  # admins who use a separate admin account rather than their daily one
    groups: int
    role_holding_groups: int  # role-assignable groups that hold a role themselves
    service_principals: int  # tenant applications and managed identities (Microsoft Graph's comes on top)
    service_principal_role_holders: int  # service principals with PIM-managed active roles
    outside_pim_users: int  # legacy direct assignments made outside PIM, to users
    outside_pim_service_principals: int  # ... and to service principals
    permanent_active_users: int  # permanent active (Assigned) roles for people, besides the break-glass accounts
    time_bound_active: int  # time-bound active (Assigned) roles for people
    administrative_units: int
    unit_scoped_share: float  # of roles Entra allows at AU scope, the share held per administrative unit
    max_units_per_assignment: int  # ... for 1..this many administrative units
    live_activations: int  # activations planted to be running at as_of
    activity_scale: float  # multiplies every person's activation rate
    past_eligibility_share: float  # admins who also held a role that ended during the year


SIZES: dict[str, SizeProfile] = {
    "S": SizeProfile(
        name="S",
        users=150,
        guests=6,
        admins=40,
        tier0_admins=4,
        guest_admins=2,
        dedicated_admin_share=0.6,
        groups=20,
        role_holding_groups=2,
        service_principals=12,
        service_principal_role_holders=2,
        outside_pim_users=2,
        outside_pim_service_principals=3,
        permanent_active_users=2,
        time_bound_active=3,
        administrative_units=3,
        unit_scoped_share=0.35,
        max_units_per_assignment=1,
        live_activations=4,
        activity_scale=1.5,
        past_eligibility_share=0.15,
    ),
    "M": SizeProfile(
        name="M",
        users=1_500,
        guests=60,
        admins=320,
        tier0_admins=10,
        guest_admins=8,
        dedicated_admin_share=0.55,
        groups=180,
        role_holding_groups=6,
        service_principals=120,
        service_principal_role_holders=10,
        outside_pim_users=8,
        outside_pim_service_principals=10,
        permanent_active_users=10,
        time_bound_active=14,
        administrative_units=12,
        unit_scoped_share=0.35,
        max_units_per_assignment=2,
        live_activations=30,
        activity_scale=1.6,
        past_eligibility_share=0.12,
    ),
    "L": SizeProfile(
        name="L",
        users=10_000,
        guests=400,
        admins=5_000,
        tier0_admins=30,
        guest_admins=40,
        dedicated_admin_share=0.2,
        groups=1_200,
        role_holding_groups=30,
        service_principals=800,
        service_principal_role_holders=60,
        outside_pim_users=40,
        outside_pim_service_principals=60,
        permanent_active_users=60,
        time_bound_active=80,
        administrative_units=48,
        unit_scoped_share=0.7,
        max_units_per_assignment=8,
        live_activations=200,
        activity_scale=2.0,
        past_eligibility_share=0.1,
    ),
}


def profile(size: str) -> SizeProfile:
    try:
        return SIZES[size]
    except KeyError:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}") from None
