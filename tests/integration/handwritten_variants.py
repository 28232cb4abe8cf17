"""The hand-written tenant (tests/fixtures/handwritten_tenant) and its variants, each under a tenant id of its own.

Five modules read them: test_handwritten_tenant (the tenant itself, against the values worked out by hand),
test_model_upgrades (a copy of the warehouse, refreshed again), test_several_tenants (the tenant itself and
`second`), test_coverage (`no_audit`: no audit log, no Intune or Exchange RBAC) and test_effective_privilege
(`group_roles`). All of them are refreshed together, into one warehouse, by the session fixture
`handwritten_variants_run` (tests/integration/conftest.py): one ingest partition per tenant, then one transform of
them all, as the schedule and the transform sensor run them. The marts are per tenant, so each module reads its own
tenant's rows; the several-tenants checks that nothing leaks between tenants hold with every variant in the
warehouse, all of them sharing the hand-written tenant's object ids."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipelines.emulator import EmulatorOptions
from pipelines.lib.graph.collections import COLLECTIONS
from tests.limits import emulator_options

# Checked in, every expected value worked out by hand.
HANDWRITTEN_TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"
HANDWRITTEN_TENANT_ID = json.loads((HANDWRITTEN_TENANT / "tenant.json").read_text())["tenantId"]
SECOND_TENANT_ID = "99999999-2222-4333-8444-555555555555"
NO_AUDIT_TENANT_ID = "99999999-3333-4333-8444-555555555555"
GROUP_ROLES_TENANT_ID = "99999999-4444-4333-8444-555555555555"

DIRECTORY = "v1.0/roleManagement/directory"
ELIGIBILITY = f"{DIRECTORY}/roleEligibilityScheduleInstances.json"
UNKNOWN_ROLE_ID = "0b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d"  # a deleted custom role: no catalogue knows it
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
SECURITY_ADMINISTRATOR = "194ae4cb-b126-40b2-bd5b-6091b380977d"


def copy_under(root: Path, tenant_id: str) -> Path:
    """A copy of the hand-written tenant at `root`, served under `tenant_id`."""
    copy = shutil.copytree(HANDWRITTEN_TENANT, root)
    info = json.loads((copy / "tenant.json").read_text())
    (copy / "tenant.json").write_text(json.dumps({**info, "tenantId": tenant_id}))
    return copy


def second_tenant(root: Path) -> Path:
    """The hand-written tenant under another tenant id, with u1's Global Administrator eligibility gone and an
    eligibility for a role id no catalogue knows."""
    copy = copy_under(root, SECOND_TENANT_ID)
    remaining = [row for row in json.loads((copy / ELIGIBILITY).read_text()) if row["id"] != "e1-e"]
    unknown = {**remaining[0], "id": "e-unknown", "roleDefinitionId": UNKNOWN_ROLE_ID, "roleEligibilityScheduleId": "x"}
    (copy / ELIGIBILITY).write_text(json.dumps([*remaining, unknown]))
    return copy


def with_group_roles(root: Path) -> Path:
    """The hand-written tenant under another tenant id, plus: g1 eligible for Security Administrator and holding
    Global Administrator outside PIM. g1's transitive members are u3, u5 and the app sp1 (which holds no role
    itself); u3 is also an eligible PIM for Groups member of g1; a new user u7 is only g1's owner."""
    tenant = copy_under(root, GROUP_ROLES_TENANT_ID)
    members = tenant / "v1.0/groups/g1/transitiveMembers.json"
    rows = json.loads(members.read_text())
    rows.append({"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp1", "displayName": "legacy-provisioner"})
    members.write_text(json.dumps(rows))
    users = tenant / "v1.0/users.json"
    rows = json.loads(users.read_text())
    rows.append({"id": "u7", "displayName": "User 7", "userPrincipalName": "user7@handwritten.onmicrosoft.com"})
    users.write_text(json.dumps(rows))
    owner = {
        "id": "g1_owner_u7",
        "groupId": "g1",
        "principalId": "u7",
        "accessId": "owner",
        "memberType": "direct",
        "assignmentType": "assigned",
        "startDateTime": "2026-03-01T00:00:00Z",
        "endDateTime": None,
        "assignmentScheduleId": "g1_owner_s7",
    }
    (tenant / "v1.0/identityGovernance/privilegedAccess/group/assignmentScheduleInstances.json").write_text(
        json.dumps([owner])
    )
    eligibility = tenant / ELIGIBILITY
    rows = json.loads(eligibility.read_text())
    rows.append(
        {
            "id": "eg1-e",
            "principalId": "g1",
            "roleDefinitionId": SECURITY_ADMINISTRATOR,
            "directoryScopeId": "/",
            "appScopeId": None,
            "startDateTime": "2026-02-01T00:00:00Z",
            "endDateTime": "2027-01-01T00:00:00Z",
            "memberType": "Direct",
            "roleEligibilityScheduleId": "eg1",
        }
    )
    eligibility.write_text(json.dumps(rows))
    assignments = tenant / DIRECTORY / "roleAssignments.json"
    rows = json.loads(assignments.read_text())
    rows.append(
        {
            "id": "ra-g1",
            "principalId": "g1",
            "roleDefinitionId": GLOBAL_ADMINISTRATOR,
            "directoryScopeId": "/",
            "appScopeId": None,
        }
    )
    assignments.write_text(json.dumps(rows))
    return tenant


# The optional permissions of Intune's and Exchange's RBAC, which a tenant may well not grant.
M365_ROLE_PERMISSIONS = frozenset({"DeviceManagementRBAC.Read.All", "RoleManagement.Read.Exchange"})
# Every permission the pipeline asks for, granted, but the audit log's and the optional Intune and Exchange ones.
NO_AUDIT_PERMISSIONS = ({spec.permission for spec in COLLECTIONS} | {"Directory.Read.All"}) - {
    "AuditLog.Read.All",
    *M365_ROLE_PERMISSIONS,
}


@dataclass(frozen=True)
class Variant:
    """One tenant of the shared run: its configured name, the tenant directory `build` makes at a given folder, the
    emulator's options, and whether it is configured as `run_refresh` configures a tenant (`write_demo_config`:
    Graph and Log Analytics) or, as test_several_tenants always configured its second tenant, with Graph only."""

    name: str
    tenant_id: str
    build: Callable[[Path], Path]
    options: EmulatorOptions
    log_analytics: bool


VARIANTS = (
    # Ingested first: the check that one partition's run reads its tenant only is made after its ingest. Served and
    # configured as the hand-written tenant's own refresh was (`run_refresh`, Graph's limits at a tenth): its
    # module checks its sign-ins from Log Analytics, which the several-tenants checks do not read.
    Variant("first", HANDWRITTEN_TENANT_ID, lambda root: HANDWRITTEN_TENANT, emulator_options(), log_analytics=True),
    Variant("second", SECOND_TENANT_ID, second_tenant, EmulatorOptions(), log_analytics=False),
    Variant(
        "no_audit",
        NO_AUDIT_TENANT_ID,
        lambda root: copy_under(root, NO_AUDIT_TENANT_ID),
        EmulatorOptions(granted_permissions=NO_AUDIT_PERMISSIONS),
        log_analytics=True,
    ),
    Variant("group_roles", GROUP_ROLES_TENANT_ID, with_group_roles, emulator_options(), log_analytics=True),
)
