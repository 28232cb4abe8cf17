"""ground_truth.json against a recount from the written files, done with plain Python and metrics.md's words."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import replace
from typing import Any

import orjson

from pipelines.demo_tenant import METRIC_IDS
from pipelines.demo_tenant.clock import HOUR
from pipelines.demo_tenant.ground_truth import UNKNOWN_ROLE_METRICS, compute_ground_truth
from pipelines.demo_tenant.history import iter_activation_requests
from pipelines.demo_tenant.model import Outcome, TenantModel
from pipelines.lib import paths

from .reading import DIRECTORY, Seeded, Tenant, access_rows_from_files, millis, outcome

STANDING = ("active_permanent", "active_time_bound", "outside_pim")


HEADLINE_TABLE = "| metric_name | definition | unknown when |"


def documented_metric_ids() -> list[str]:
    """The metric names of every headline-metric table of metrics.md, in the order they are documented."""
    text = (paths.REPO_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    tables = [part.split("\n\n", 1)[0] for part in text.split(HEADLINE_TABLE)[1:]]
    return [name for table in tables for name in re.findall(r"^\| `([a-z0-9_]+)` \|", table, flags=re.MULTILINE)]


def privileged_access_rows(tenant: Tenant) -> set[tuple[str, str, str, str]]:
    privileged = tenant.privileged_roles()
    return {row for row in access_rows_from_files(tenant) if row[1] in privileged}


def recount(tenant: Tenant) -> dict[str, Any]:
    rows = privileged_access_rows(tenant)

    def count(state: str) -> int:
        return sum(1 for row in rows if row[3] == state)

    requests = tenant.activation_requests()
    decisions = [
        (step, steps[step].at - steps["approval_requested"].at)
        for steps in requests.values()
        for step in ("approved", "denied")
        if step in steps
    ]
    approved = sum(1 for step, _ in decisions if step == "approved")
    return {
        "privileged_access_eligible": count("eligible"),
        "privileged_access_active_permanent": count("active_permanent"),
        "privileged_access_active_time_bound": count("active_time_bound"),
        "privileged_access_activated": count("activated"),
        "privileged_access_outside_pim": count("outside_pim"),
        "standing_privileged_access": sum(count(state) for state in STANDING),
        "activation_requests": len(requests),
        "approval_rate": approved / len(decisions),
        "median_approval_latency_seconds": statistics.median(ms for _, ms in decisions) / 1000,
    }


def recount_access_reviews_and_durations(tenant: Tenant) -> dict[str, Any]:
    """metrics.md's access review and granted-duration metrics, from the written review files and audit log."""
    reviews = "v1.0/identityGovernance/accessReviews/definitions"
    reviewed_roles, decisions = set(), []
    for d in tenant.collection(f"{reviews}.json"):
        reviewed_roles.add(re.search(r"roleDefinitionId eq '([^']+)'", d["scope"]["query"]).group(1))
        for instance in tenant.collection(f"{reviews}/{d['id']}/instances.json"):
            path = tenant.root / f"{reviews}/{d['id']}/instances/{instance['id']}/decisions.json"
            rows = tenant.collection(str(path.relative_to(tenant.root))) if path.exists() else []
            decisions += [(instance, row) for row in rows]
    held = {role for _, role, _, _ in privileged_access_rows(tenant)}

    def span(event: Any) -> int:
        return millis(event.details["ExpirationTime"]) - millis(event.details["StartTime"])

    last_ran_out: dict[tuple[str, str], int] = {}
    reactivations = 0
    for steps in sorted(
        tenant.activation_requests().values(), key=lambda s: (s["requested"].at, s["requested"].request_id)
    ):
        holding = (steps["requested"].principal_id, steps["requested"].role_id)
        previous = last_ran_out.get(holding)
        reactivations += previous is not None and previous <= steps["requested"].at <= previous + HOUR
        if "ran_out" in steps:
            last_ran_out[holding] = max(previous or 0, steps["ran_out"].at)
    return {
        "reactivations_after_expiry": reactivations,
        "privileged_roles_without_access_review": len(held - reviewed_roles),
        "access_review_self_decisions": sum(
            1 for _, r in decisions if r["reviewedDateTime"] and r["reviewedBy"]["id"] == r["principal"]["id"]
        ),
        "access_review_late_decisions": sum(
            1
            for i, r in decisions
            if r["reviewedDateTime"] and millis(r["reviewedDateTime"]) > millis(i["endDateTime"])
        ),
        "access_review_denials_not_applied": sum(
            1
            for i, r in decisions
            if i["status"] == "Completed" and r["decision"] == "Deny" and r["applyResult"] != "AppliedSuccessfully"
        ),
        "activations_granted_shorter_than_requested": sum(
            1
            for steps in tenant.activation_requests().values()
            if outcome(steps) == "activated" and span(steps["completed"]) < span(steps["requested"])
        ),
    }


def test_ground_truth_names_every_documented_metric() -> None:
    assert list(METRIC_IDS) == documented_metric_ids()
    assert len(METRIC_IDS) == len(set(METRIC_IDS)) == 67


def test_ground_truth_file_matches_what_generate_returned(tenant: Tenant) -> None:
    written = orjson.loads((tenant.root / "ground_truth.json").read_bytes())
    assert written == tenant.truth.to_json()
    assert written["tenantId"] == tenant.truth.tenant_id
    assert (written["seed"], written["size"], written["asOf"]) == (7, "S", "2026-11-01T00:00:00.000Z")
    assert list(written["metrics"]) == list(METRIC_IDS)


def test_ground_truth_equals_a_recount_from_the_files(tenant: Tenant) -> None:
    # The access-row and activation metrics; test_effective_privilege.py recounts the head-counts, test_programme.py
    # the rest.
    recounted = recount(tenant)
    assert {name: tenant.truth.metrics[name] for name in recounted} == recounted


def test_access_review_and_duration_metrics_equal_a_recount_from_the_files(tenant: Tenant) -> None:
    recounted = recount_access_reviews_and_durations(tenant)
    assert {name: tenant.truth.metrics[name] for name in recounted} == recounted
    assert all(value >= 1 for value in recounted.values()), recounted


def test_ground_truth_values_are_plausible_for_size_s(tenant: Tenant) -> None:
    m = tenant.truth.metrics
    assert 1_000 <= m["activation_requests"] <= 3_000
    assert 36 <= m["privileged_principals"] <= 56
    for state in ("eligible", "active_permanent", "active_time_bound", "activated", "outside_pim"):
        assert m[f"privileged_access_{state}"] >= 1, state
    assert m["privileged_access_active_permanent"] >= 2  # the break-glass accounts
    assert 0.5 < m["eligible_only_principal_share"] < 1
    assert 0.6 < m["approval_rate"] < 1
    assert 60 < m["median_approval_latency_seconds"] < 8 * 3600
    assert isinstance(m["approval_rate"], float) and isinstance(m["activation_requests"], int)


def test_pending_requests_count_as_requests_but_not_as_decisions(tenant: Tenant) -> None:
    """Requests still open at as_of are activation requests; only approved and denied ones are decisions."""
    requests = tenant.activation_requests()
    outcomes = [outcome(steps) for steps in requests.values()]
    assert tenant.truth.metrics["activation_requests"] == len(outcomes)
    decided = sum(1 for steps in requests.values() if "approved" in steps or "denied" in steps)
    rate = tenant.truth.metrics["approval_rate"]
    assert round(rate * decided) == sum(1 for steps in requests.values() if "approved" in steps)
    assert all(
        millis(steps["requested"].raw["activityDateTime"]) == steps["requested"].at for steps in requests.values()
    )


def test_every_seed_plants_each_access_state_and_request_outcome(seeded: Seeded) -> None:
    """Not luck of seed 7: the generator plants them, so any seed shows each one at least once."""
    for seed in range(10):
        model, truth = seeded("S", seed)
        metrics = truth.metrics
        for state in ("eligible", "active_permanent", "active_time_bound", "activated", "outside_pim"):
            assert metrics[f"privileged_access_{state}"] >= 1, (seed, state)
        outcomes = Counter(request.outcome for request in iter_activation_requests(model))
        for wanted in (Outcome.ACTIVATED, Outcome.DENIED, Outcome.EXPIRED, Outcome.CANCELED, Outcome.FAILED):
            assert outcomes[wanted] >= 1, (seed, wanted)
        for planted in (
            "privileged_roles_without_access_review",
            "access_review_self_decisions",
            "access_review_late_decisions",
            "access_review_denials_not_applied",
            "activations_granted_shorter_than_requested",
            "reactivations_after_expiry",
        ):
            assert metrics[planted] >= 1, (seed, planted)


def test_role_ids_the_catalogue_lacks_are_counted_and_make_access_metrics_unknown_above_the_share(
    tenant: Tenant, model: TenantModel
) -> None:
    """The access rows whose role no roleDefinitions entry knows, recounted from the files, are what the ground truth
    counts as unreadable; seed 7 has one, under the 1 % share, so every metric stays known. Ten such rows are above
    it: the metrics that read access rows are unknown, every other stays as it was."""
    catalogue = {r["templateId"] for r in tenant.collection(f"{DIRECTORY}/roleDefinitions.json")}
    rows = access_rows_from_files(tenant)
    unknown = {row for row in rows if row[1] not in catalogue}
    assert len(unknown) == 1 and tenant.truth.unreadable_inputs == {"unknown_role_ids": (len(rows), 1)}
    assert None not in {tenant.truth.metrics[name] for name in UNKNOWN_ROLE_METRICS}

    (planted,) = model.unlisted_role_eligibilities
    more = tuple(replace(planted, id=f"{u.id}-e", principal_id=u.id) for u in model.users[:10])
    truth = compute_ground_truth(replace(model, unlisted_role_eligibilities=more))
    assert truth.unreadable_inputs == {"unknown_role_ids": (len(rows) - 1 + 10, 10)}
    assert truth.metrics == {
        name: None if name in UNKNOWN_ROLE_METRICS else value for name, value in tenant.truth.metrics.items()
    }
