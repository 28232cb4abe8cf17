"""One S tenant (seed 7) generated once per session, and its model; every seed's model and truth, built once."""

from __future__ import annotations

import functools

import pytest

from pipelines.demo_tenant import build_model, generate_tenant
from pipelines.demo_tenant.clock import from_datetime
from pipelines.demo_tenant.ground_truth import GroundTruth, compute_ground_truth
from pipelines.demo_tenant.model import TenantModel

from .reading import AS_OF, SEED, Seeded, Tenant, audit_log, parse_event


@pytest.fixture(scope="session")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    root = tmp_path_factory.mktemp("tenant") / "seed7"
    truth = generate_tenant(root, size="S", seed=SEED, as_of=AS_OF)
    audits = audit_log(root)  # the year: Graph serves its last 30 days
    pim = [raw for raw in audits if raw["loggedByService"] == "PIM"]
    events = [parse_event(raw) for raw in pim if raw["category"] == "RoleManagement"]
    group_events = [raw for raw in pim if raw["category"] == "GroupManagement"]
    azure_events = [raw for raw in pim if raw["category"] == "ResourceManagement"]
    by_ms_pim = [raw for raw in audits if (raw["initiatedBy"]["app"] or {}).get("displayName") == "MS-PIM"]
    admin_task_events = [
        raw for raw in audits if raw["loggedByService"] == "Core Directory" and raw["initiatedBy"]["app"] is None
    ]
    mirror_events = by_ms_pim + [raw for raw in audits if raw["loggedByService"] == "Access Reviews"]
    assert len(pim) == len(events) + len(group_events) + len(azure_events), "a PIM event of an unexpected category"
    assert len(pim) + len(admin_task_events) + len(mirror_events) == len(audits), "an unexpected audit event"
    return Tenant(root, truth, events, admin_task_events, mirror_events, group_events, azure_events)


@pytest.fixture(scope="session")
def model() -> TenantModel:
    return build_model("S", SEED, from_datetime(AS_OF))


@pytest.fixture(scope="session")
def seeded() -> Seeded:
    """(model, truth) of a size and seed at AS_OF, each built once per worker and read only: the M tenant's alone
    is seconds, and three modules check every seed."""

    @functools.cache
    def model_and_truth(size: str, seed: int) -> tuple[TenantModel, GroundTruth]:
        model = build_model(size, seed, from_datetime(AS_OF))
        return model, compute_ground_truth(model)

    return model_and_truth
