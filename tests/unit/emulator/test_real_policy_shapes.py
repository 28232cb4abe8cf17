"""The emulator answers role-policy queries the way Graph answers them in the real-shapes fixtures
(tests/fixtures/real_shapes/policies, written from Microsoft's documented responses): either directory scopeType,
echoed in scopeType and ids, with the rules inline from one policy file."""

import json
from pathlib import Path

import pytest

from .conftest import GraphClient

SHAPES = Path(__file__).resolve().parents[2] / "fixtures" / "real_shapes" / "policies"


def stored_files(response: list[dict]) -> dict:
    """A tenant directory holding the response's policies once, DirectoryRole-scoped, rules inline."""
    policies, assignments = [], []
    for item in response:
        policy = {**item["policy"], "scopeType": "DirectoryRole"}
        policy["id"] = "DirectoryRole_" + policy["id"].split("_", 1)[1]
        policies.append(policy)
        assignment = {k: v for k, v in item.items() if k != "policy"}
        assignment.update(
            id="DirectoryRole_" + item["id"].split("_", 1)[1],
            policyId=policy["id"],
            scopeType="DirectoryRole",
        )
        assignments.append(assignment)
    return {
        "v1.0/policies/roleManagementPolicies": policies,
        "v1.0/policies/roleManagementPolicyAssignments": assignments,
    }


@pytest.mark.parametrize("name", sorted(path.stem for path in SHAPES.glob("*.json")))
def test_policy_queries_are_answered_as_graph_answers_them(serve, name: str) -> None:
    fixture = json.loads((SHAPES / f"{name}.json").read_text())
    client = GraphClient(serve(stored_files(fixture["value"])))
    body = client.get(f"/v1.0/policies/roleManagementPolicyAssignments?{fixture['request']}").json()
    assert body["value"] == fixture["value"], fixture["shape"]
