"""Writes a model as a tenant directory (docs/tenant-format.md).

Collections are streamed one object at a time: the audit log of an L tenant is a couple of gigabytes and is
never held in memory as JSON. One object per line keeps the files greppable and the emulator's "line N"
error messages useful.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from typing import Any

import orjson
import yaml

from pipelines.demo_tenant import programme, wire
from pipelines.demo_tenant.clock import DAY
from pipelines.demo_tenant.ground_truth import GroundTruth
from pipelines.demo_tenant.model import AssignmentKind, TenantModel
from pipelines.demo_tenant.surfaces import Surfaces, with_app_roles

DIRECTORY = "v1.0/roleManagement/directory"

# Graph serves a P1/P2 tenant's directory audits for 30 days (perf-reliability.md section 1.4); the Log Analytics
# copy (surfaces/loganalytics.py) keeps the whole year, so only a workspace gives history older than that.
GRAPH_AUDIT_RETENTION = 30 * DAY


def write_array(path: Path, items: Iterable[dict[str, Any]]) -> int:
    """Streams `items` into `path` as a JSON array; returns how many were written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("wb", buffering=1 << 20) as out:
        out.write(b"[")
        for item in items:
            out.write(b"\n" if count == 0 else b",\n")
            out.write(orjson.dumps(item))
            count += 1
        out.write(b"\n]\n" if count else b"]\n")
    return count


def write_object(path: Path, item: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(item, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


def write_tenant(root: Path, model: TenantModel, truth: GroundTruth) -> dict[str, int]:
    """Every file of the tenant under `root`; returns the number of objects per collection file."""
    users = {u.id: u for u in model.users}
    roles = {r.id: r for r in model.roles}
    counts: dict[str, int] = {}
    surfaces = Surfaces(model)  # the other PIM surfaces; group policies join the policy files below

    def collection(relative: str, items: Iterable[dict[str, Any]]) -> None:
        counts[relative] = write_array(root / relative, items)

    write_object(root / "tenant.json", wire.tenant_info(model))
    collection("v1.0/organization.json", [wire.organization(model)])
    collection("v1.0/users.json", map(wire.user, model.users))
    collection("v1.0/mailboxSettings.json", filter(None, map(wire.mailbox_settings, model.users)))
    collection("v1.0/groups.json", map(wire.group, model.groups))
    collection(
        "v1.0/servicePrincipals.json",
        (with_app_roles(wire.service_principal(sp), sp) for sp in model.service_principals),
    )
    collection("v1.0/directory/administrativeUnits.json", map(wire.administrative_unit, model.administrative_units))
    collection(
        "beta/roleManagement/directory/roleDefinitions.json", (wire.role_definition(r, beta=True) for r in model.roles)
    )
    collection(f"{DIRECTORY}/roleDefinitions.json", (wire.role_definition(r, beta=False) for r in model.roles))

    collection(
        "v1.0/policies/roleManagementPolicyAssignments.json",
        chain(map(wire.policy_assignment, model.policies), surfaces.group_policy_assignments()),
    )
    collection(
        "v1.0/policies/roleManagementPolicies.json",
        chain(
            (wire.policy(p, roles[p.role_id], users[p.last_modified_by]) for p in model.policies),
            surfaces.group_policies(),
        ),
    )
    for p in model.policies:
        collection(f"v1.0/policies/roleManagementPolicies/{p.id}/rules.json", wire.policy_rules(p, users))

    collection(
        f"{DIRECTORY}/roleEligibilityScheduleInstances.json",
        map(wire.eligibility_instance, model.written_eligibilities()),
    )
    collection(
        f"{DIRECTORY}/roleAssignmentScheduleInstances.json",
        (wire.assignment_instance(a) for a in model.assignments if a.kind is not AssignmentKind.OUTSIDE_PIM),
    )
    collection(f"{DIRECTORY}/roleAssignments.json", map(wire.role_assignment, model.assignments))
    collection(
        "v1.0/auditLogs/directoryAudits.json",
        wire.AuditLog(model).events(since=model.tenant.as_of - GRAPH_AUDIT_RETENTION),
    )
    surfaces.write(collection)
    write_object(root / "ground_truth.json", truth.to_json())
    (root / "design.yaml").write_text(
        yaml.safe_dump(programme.design_document(model), sort_keys=False), encoding="utf-8"
    )
    return counts
