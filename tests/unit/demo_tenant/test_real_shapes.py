"""Every row the generator writes for PIM's work has a shape of the real-shapes fixture set
(tests/fixtures/real_shapes/audits, each written from public facts about real tenants): the same service,
category, activity, kind of initiator and target types in the same order, and additionalDetails keys that the
fixture of that shape also carries. The generator is checked against the fixtures, never against itself."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from .reading import load

SHAPES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "real_shapes" / "audits"
PRINCIPAL_TYPES = {"User", "Group", "ServicePrincipal"}
SYSTEM_NAMES = {"Azure AD PIM", "MS-PIM"}


def initiator(row: dict[str, Any]) -> str:
    user, app = row["initiatedBy"]["user"], row["initiatedBy"]["app"]
    if user is not None and app is None:
        return "system user" if user["displayName"] in SYSTEM_NAMES else "user"
    if user is None and app is not None:
        return "system app" if app["displayName"] in SYSTEM_NAMES else "app"
    raise AssertionError(f"initiatedBy with both or neither slot: {row['id']}")


def signature(row: dict[str, Any]) -> tuple:
    targets = tuple("principal" if t["type"] in PRINCIPAL_TYPES else t["type"] for t in row["targetResources"])
    return row["loggedByService"], row["category"], row["activityDisplayName"], initiator(row), targets


def detail_keys(row: dict[str, Any]) -> set[str]:
    return {d["key"].lower() for d in row["additionalDetails"]}


def is_pim_work(row: dict[str, Any]) -> bool:
    """PIM's rows and the rows other services write for PIM's work (not people's everyday admin tasks)."""
    return row["loggedByService"] in ("PIM", "Access Reviews") or initiator(row) == "system app"


def test_every_generated_pim_row_has_a_real_shape(tenant) -> None:
    shapes: dict[tuple, list[set[str]]] = {}
    for path in SHAPES_DIR.glob("*.json"):
        fixture = json.loads(path.read_text())["row"]
        shapes.setdefault(signature(fixture), []).append(detail_keys(fixture))
    audits = load(tenant.root, "v1.0/auditLogs/directoryAudits.json")
    matched: Counter[tuple] = Counter()
    for row in filter(is_pim_work, audits):
        key = signature(row)
        assert key in shapes, f"no real shape for {key} (row {row['id']})"
        keys = detail_keys(row)
        assert any(keys <= fixture_keys for fixture_keys in shapes[key]), (key, sorted(keys))
        matched[key[:3]] += 1
    # The trail of one activation across services is there: PIM, Core Directory's mirror, Access Reviews' record.
    assert {service for service, *_ in matched} == {"PIM", "Core Directory", "Access Reviews"}
    assert {category for _, category, _ in matched} == {"RoleManagement", "GroupManagement", "UserManagement"}
    assert len(matched) >= 14
