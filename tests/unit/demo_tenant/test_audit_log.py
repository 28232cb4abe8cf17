"""The PIM audit log read the way docs/audit-events.md says pimlens reads it."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pipelines.demo_tenant.catalog import OFFICES, WEAK_JUSTIFICATIONS
from pipelines.demo_tenant.clock import DAY, HOUR
from pipelines.demo_tenant.history import iter_activation_requests
from pipelines.demo_tenant.model import TenantModel

from .reading import (
    ACTIVATION_STEPS,
    ADMIN_CHANGES,
    AS_OF,
    DEACTIVATION_STEPS,
    DIRECTORY,
    OUTSIDE_PIM,
    Tenant,
    millis,
    outcome,
)

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TICKET = re.compile(r"\b(CHG\d{4}|INC\d{7}|OPS-\d+)\b")
AZURE_AD_PIM = "Azure AD PIM"
KNOWN = {*ACTIVATION_STEPS, *DEACTIVATION_STEPS, OUTSIDE_PIM, *ADMIN_CHANGES}
# Steps a request may have, in the order they happen, per outcome.
SEQUENCES = {
    "activated": [
        ["requested", "completed"],
        ["requested", "completed", "ran_out"],
        ["requested", "approval_requested", "approved", "completed"],
        ["requested", "approval_requested", "approved", "completed", "ran_out"],
    ],
    "failed": [["requested", "completed"], ["requested", "approval_requested", "approved", "completed"]],
    "denied": [["requested", "approval_requested", "denied"]],
    "expired": [["requested", "approval_requested", "expired"]],
    "canceled": [["requested", "approval_requested", "canceled"]],
    "pending": [["requested"], ["requested", "approval_requested"], ["requested", "approval_requested", "approved"]],
}


def test_every_event_parses_per_the_contract(tenant: Tenant) -> None:
    as_of = millis(AS_OF.isoformat())
    assert len(tenant.events) > 5_000
    organization = tenant.collection("v1.0/organization.json")[0]
    directory = {
        "id": organization["id"],
        "displayName": organization["displayName"],
        "type": "Directory",
        "modifiedProperties": [],
    }
    assert organization["id"] == tenant.truth.tenant_id
    for event in tenant.events:
        raw = event.raw
        assert raw["id"].startswith("PIM_")
        assert (raw["category"], raw["loggedByService"]) == ("RoleManagement", "PIM")
        assert event.activity in KNOWN
        assert TIMESTAMP.match(raw["activityDateTime"])
        assert as_of - 365 * DAY <= event.at <= as_of
        request_targets = [t for t in raw["targetResources"] if t["type"] == "Request"]
        assert [t["id"] for t in request_targets] == [event.request_id]
        assert directory in raw["targetResources"]
        if event.initiator_id is None:
            # PIM itself stands in the user slot, with no UPN or IP, and no app (docs/audit-events.md).
            assert raw["initiatedBy"]["app"] is None
            assert raw["initiatedBy"]["user"]["displayName"] == AZURE_AD_PIM
            assert raw["initiatedBy"]["user"]["userPrincipalName"] is None
            assert event.activity in (
                "PIM activation request expired",
                "Remove member from role (PIM activation expired)",
                "Remove eligible member from role in PIM completed (timebound)",
            )
    times = [event.at for event in tenant.events]
    assert times == sorted(times)  # written oldest first


def test_each_request_follows_the_documented_lifecycle(tenant: Tenant) -> None:
    outcomes: Counter[str] = Counter()
    for request_id, steps in tenant.activation_requests().items():
        kind = outcome(steps)
        outcomes[kind] += 1
        ordered = sorted(steps, key=lambda step: (steps[step].at, list(ACTIVATION_STEPS.values()).index(step)))
        assert ordered in SEQUENCES[kind], (request_id, ordered)
        requested = steps["requested"]
        assert len({(e.role_id, e.principal_id) for e in steps.values()}) == 1
        # Every asynchronous step has a correlationId of its own; the request id is what ties them.
        assert len({e.raw["correlationId"] for e in steps.values()}) == len(steps)
        assert requested.initiator_id == requested.principal_id
        assert {"Justification", "StartTime", "ExpirationTime", "RoleAssignmentRequestId"} <= set(requested.details)
        assert requested.raw["resultReason"] == requested.details["Justification"]
        assert requested.details.get("IsAuthenticatedWithMfa", "True") == "True"  # absent, or True capitalised
        if "expired" in steps:
            assert steps["expired"].at - steps["approval_requested"].at == DAY
        if "ran_out" in steps:
            assert steps["ran_out"].at == millis(steps["completed"].details["ExpirationTime"])
        if kind == "activated":
            completed = steps["completed"].details
            assert "IsAuthenticatedWithMfa" not in completed
            assert millis(completed["StartTime"]) == steps["completed"].at
        if kind == "failed":
            assert steps["completed"].raw["resultReason"] in (
                "RoleAssignmentRequestPolicyValidationFailed",
                "RoleAssignmentExists",
            )
    # At least one request of each outcome, whatever the seed (simulate.py plants them).
    assert {"activated", "denied", "expired", "canceled", "failed"} <= set(outcomes)
    assert outcomes["activated"] > 0.9 * sum(outcomes.values())


def test_deactivations_carry_the_activations_request_id(tenant: Tenant) -> None:
    deactivations: dict[str, list] = defaultdict(list)
    for event in tenant.events:
        if event.activity in DEACTIVATION_STEPS:
            deactivations[event.request_id].append(event)
    assert len(deactivations) > 20
    activations = tenant.activation_requests()
    for request_id, events in deactivations.items():
        assert [DEACTIVATION_STEPS[e.activity] for e in events] == ["requested", "completed"]
        # The RoleAssignmentRequestId of the activation it ends early, with correlationIds of its own.
        steps = activations[request_id]
        completed, requested = steps["completed"], events[0]
        assert (completed.role_id, completed.principal_id) == (requested.role_id, requested.principal_id)
        assert completed.at < requested.at < millis(completed.details["ExpirationTime"])
        assert "ran_out" not in steps
        assert {e.raw["correlationId"] for e in events}.isdisjoint(e.raw["correlationId"] for e in steps.values())


def test_approval_flow_only_on_roles_that_require_it_and_by_their_approvers(tenant: Tenant) -> None:
    approval_roles = tenant.approval_roles()
    decided = 0
    for steps in tenant.activation_requests().values():
        role = steps["requested"].role_id
        assert ("approval_requested" in steps) == (role in approval_roles)
        for step in ("approved", "denied"):
            if step in steps:
                decided += 1
                approver = steps[step].initiator_id
                assert approver in approval_roles[role] and approver != steps["requested"].principal_id
                latency = steps[step].at - steps["approval_requested"].at
                assert 0 < latency < DAY
        if role not in approval_roles:
            assert not {"approved", "denied", "expired", "canceled"} & set(steps)
    assert decided > 30


def test_approval_latency_ranges_from_minutes_to_many_hours(tenant: Tenant) -> None:
    latencies = sorted(
        steps[step].at - steps["approval_requested"].at
        for steps in tenant.activation_requests().values()
        for step in ("approved", "denied")
        if step in steps
    )
    assert latencies[0] < 10 * 60_000
    assert latencies[-1] > 8 * HOUR


def test_activations_only_while_eligible(tenant: Tenant, model: TenantModel) -> None:
    windows = defaultdict(list)
    for e in model.eligibilities:
        windows[(e.principal_id, e.role_id)].append((e.start, e.end))
    for steps in tenant.activation_requests().values():
        requested = steps["requested"]
        granted = steps["completed"].details.get("ExpirationTime") if "completed" in steps else None
        end = millis(granted) if granted else requested.at
        assert any(
            start <= requested.at and (stop is None or end <= stop)
            for start, stop in windows[(requested.principal_id, requested.role_id)]
        ), requested.request_id
    # And in the model, each request sits inside the eligibility it names.
    by_id = {e.id: e for e in model.eligibilities}
    for request in iter_activation_requests(model):
        e = by_id[request.eligibility_id]
        last = request.granted_end or request.requested_at
        assert e.start <= request.requested_at and (e.end is None or last <= e.end)


def test_an_activation_past_a_lapsing_eligibility_is_granted_up_to_its_end(tenant: Tenant, model: TenantModel) -> None:
    """PIM grants less than asked when the eligibility ends first: the completed event's ExpirationTime and the
    ran-out event sit at the eligibility's end, and no renewal of that eligibility starts there."""
    by_id = {e.id: e for e in model.eligibilities}
    starts = defaultdict(set)
    for e in model.eligibilities:
        starts[(e.principal_id, e.role_id, e.directory_scope_id)].add(e.start)
    events = tenant.activation_requests()
    cut = [r for r in iter_activation_requests(model) if r.is_granted_shorter_than_requested]
    assert cut
    for r in cut:
        e = by_id[r.eligibility_id]
        assert e.end is not None and r.granted_end == r.ran_out_at == e.end < r.completed_at + r.requested_duration
        assert e.end not in starts[(e.principal_id, e.role_id, e.directory_scope_id)]  # it lapsed, not renewed
        steps = events[r.request_id]
        assert millis(steps["completed"].details["ExpirationTime"]) == e.end == steps["ran_out"].at
        assert millis(steps["requested"].details["ExpirationTime"]) == r.requested_end > e.end


def test_live_activations_are_the_activated_instances(tenant: Tenant) -> None:
    """An activation that completed, did not run out and was not deactivated is running at as_of."""
    deactivated = [
        (e.principal_id, e.role_id, e.at)
        for e in tenant.events
        if e.activity == "Remove member from role requested (PIM deactivate)"
    ]
    live = set()
    for steps in tenant.activation_requests().values():
        completed = steps.get("completed")
        if completed is None or completed.raw["result"] != "success" or "ran_out" in steps:
            continue
        end = millis(completed.details["ExpirationTime"])
        key = (completed.principal_id, completed.role_id)
        if not any((p, r) == key and completed.at < at < end for p, r, at in deactivated):
            live.add((*key, completed.at, end))
    instances = tenant.collection(f"{DIRECTORY}/roleAssignmentScheduleInstances.json")
    activated = {
        (i["principalId"], i["roleDefinitionId"], millis(i["startDateTime"]), millis(i["endDateTime"]))
        for i in instances
        if i["assignmentType"] == "Activated"
    }
    assert live == activated and len(live) == 4


def test_activations_mostly_happen_in_office_hours(tenant: Tenant) -> None:
    zones = {o.city: ZoneInfo(o.time_zone) for o in OFFICES}
    office = {u["id"]: u["officeLocation"] for u in tenant.collection("v1.0/users.json")}
    in_hours = out_of_hours = 0
    for steps in tenant.activation_requests().values():
        requested = steps["requested"]
        city = office[requested.principal_id]
        if city is None:
            continue
        local = datetime.fromtimestamp(requested.at / 1000, UTC).astimezone(zones[city])
        if local.weekday() < 5 and 8 <= local.hour < 19:
            in_hours += 1
        else:
            out_of_hours += 1
    share = in_hours / (in_hours + out_of_hours)
    assert 0.75 < share < 0.97


def test_some_people_activate_the_same_role_again_within_the_hour(tenant: Tenant) -> None:
    starts = defaultdict(list)
    for steps in tenant.activation_requests().values():
        requested = steps["requested"]
        starts[(requested.principal_id, requested.role_id)].append(requested.at)
    repeats = sum(
        1 for times in starts.values() for a, b in zip(sorted(times), sorted(times)[1:], strict=False) if b - a < HOUR
    )
    assert repeats >= 10


def test_justifications_range_from_empty_to_ticketed(tenant: Tenant) -> None:
    texts = [
        (steps["requested"].details["Justification"], steps["requested"].principal_id)
        for steps in tenant.activation_requests().values()
    ]
    assert sum(1 for text, _ in texts if text == "") >= 3
    assert sum(1 for text, _ in texts if TICKET.search(text)) > 0.15 * len(texts)
    weak_users = defaultdict(set)
    for text, user in texts:
        if text in WEAK_JUSTIFICATIONS:
            weak_users[text].add(user)
    assert max(len(users) for users in weak_users.values()) >= 3  # the same lazy phrase, many people


def test_outside_pim_assignments_made_during_the_year_are_logged(tenant: Tenant) -> None:
    instances = tenant.collection(f"{DIRECTORY}/roleAssignmentScheduleInstances.json")
    origins = {i["roleAssignmentOriginId"] for i in instances}
    outside = {
        (a["principalId"], a["roleDefinitionId"])
        for a in tenant.collection(f"{DIRECTORY}/roleAssignments.json")
        if a["id"] not in origins
    }
    logged = [e for e in tenant.events if e.activity == OUTSIDE_PIM]
    assignments = Counter((e.principal_id, e.role_id) for e in logged)
    assert 1 <= len(assignments) < len(outside)
    assert set(assignments) <= outside
    assert all(e.initiator_id is not None and e.initiator_id != e.principal_id for e in logged)
    # PIM's scanner logs each again about every two hours, each row with a request id of its own.
    assert max(assignments.values()) > 1
    assert len({e.request_id for e in logged}) == len(logged)
    assert all(e.details["StartTime"] == e.raw["activityDateTime"] for e in logged)
