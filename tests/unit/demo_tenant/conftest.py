"""One S tenant (seed 7) generated once per session, and its model."""

from __future__ import annotations

import pytest

from pipelines.demo_tenant import build_model, generate_tenant
from pipelines.demo_tenant.clock import from_datetime
from pipelines.demo_tenant.model import TenantModel

from .reading import AS_OF, SEED, Tenant, load, parse_event


@pytest.fixture(scope="session")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    root = tmp_path_factory.mktemp("tenant") / "seed7"
    truth = generate_tenant(root, size="S", seed=SEED, as_of=AS_OF)
    audits = load(root, "v1.0/auditLogs/directoryAudits.json")
    events = [parse_event(raw) for raw in audits if raw["loggedByService"] == "PIM"]
    admin_task_events = [raw for raw in audits if raw["loggedByService"] == "Core Directory"]
    assert len(events) + len(admin_task_events) == len(audits), "an audit event from an unexpected service"
    return Tenant(root, truth, events, admin_task_events)


@pytest.fixture(scope="session")
def model() -> TenantModel:
    return build_model("S", SEED, from_datetime(AS_OF))
