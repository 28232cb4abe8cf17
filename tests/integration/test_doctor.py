"""`pimlens doctor` against the emulator: a clean bill on the README's least-privilege set, a missing permission
named (nested collections included), a wrong secret, and unreachable services told in one line with the cause."""

import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from pipelines.cli import main
from pipelines.emulator import EmulatorOptions
from pipelines.emulator.arm import ARM_READ_PERMISSION
from pipelines.emulator.server import LOG_ANALYTICS_READ_PERMISSION
from pipelines.lib.config import TenantSettings
from pipelines.lib.doctor import check_tenant
from pipelines.lib.graph.collections import COLLECTIONS, Source

TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"
WORKSPACE = "00000000-0000-4000-8000-0000000000aa"
SUBSCRIPTION = "33333333-3333-4333-8333-333333333333"
# The application permissions of the README's table (pimlens' read-only, least-privilege set), without the
# optional MailboxSettings.Read, and the two Azure roles.
README_PERMISSIONS = {
    "RoleManagement.Read.Directory",
    "RoleAssignmentSchedule.Read.Directory",
    "RoleEligibilitySchedule.Read.Directory",
    "RoleManagementPolicy.Read.Directory",
    "RoleManagementPolicy.Read.AzureADGroup",
    "PrivilegedEligibilitySchedule.Read.AzureADGroup",
    "PrivilegedAssignmentSchedule.Read.AzureADGroup",
    "RoleManagementAlert.Read.Directory",
    "AccessReview.Read.All",
    "AuditLog.Read.All",
    "Directory.Read.All",
    "User.Read.All",
    "Group.Read.All",
    "GroupMember.Read.All",
    "AdministrativeUnit.Read.All",
    "Application.Read.All",
    LOG_ANALYTICS_READ_PERMISSION,
    ARM_READ_PERMISSION,
}


def settings_for(emulator, options: EmulatorOptions) -> TenantSettings:
    return TenantSettings(
        name="t",
        tenant_id=emulator.tenant_id,
        client_id=options.client_id,
        client_secret=options.client_secret,
        graph_url=emulator.url,
        authority_url=emulator.url,
        log_analytics_url=emulator.url,
        management_url=emulator.url,
        ca_bundle=emulator.ca_file,
    )


def test_the_readme_least_privilege_set_is_healthy_and_json_says_what_is_optional(
    serve_tenant, tmp_path, monkeypatch, capsys
) -> None:
    options = EmulatorOptions(granted_permissions=README_PERMISSIONS)
    emulator = serve_tenant(TENANT, options)
    tenant = {
        "name": "handwritten",
        "tenant_id": emulator.tenant_id,
        "client_id": options.client_id,
        "client_secret_env": "DOCTOR_TEST_SECRET",
        "graph_url": emulator.url,
        "authority_url": emulator.url,
        "log_analytics_url": emulator.url,
        "management_url": emulator.url,
        "ca_bundle": str(emulator.ca_file),
        "log_analytics_workspace_id": WORKSPACE,
        "azure_subscriptions": [SUBSCRIPTION],
    }
    config = tmp_path / "pimlens.yaml"
    config.write_text(yaml.safe_dump({"tenants": [tenant]}), encoding="utf-8")
    monkeypatch.setenv("DOCTOR_TEST_SECRET", options.client_secret)

    assert main(["doctor", "--config", str(config), "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert (report["tenant"], report["healthy"]) == ("handwritten", True)
    status = {finding["collection"]: finding["status"] for finding in report["findings"]}
    # The two surfaces only a ReadWrite permission lists, and the optional mailbox settings, Conditional Access
    # policies and Intune's and Exchange's RBAC: not covered, not failing.
    assert {name for name, value in status.items() if value == "optional"} == {
        "role_assignment_schedule_requests",
        "role_eligibility_schedule_requests",
        "user_mailbox_settings",
        "conditional_access_policies",
        "intune_role_definitions",
        "intune_role_assignments",
        "exchange_role_definitions",
        "exchange_role_assignments",
    }
    # Every surface is checked: the token, each Graph collection (nested ones through a parent of the tenant's),
    # both Log Analytics tables and every ARM collection of the subscription.
    assert set(status) == {"credentials"} | {spec.table for spec in COLLECTIONS}
    nested = {spec.table for spec in COLLECTIONS if spec.fan_out is not None}
    assert {status[table] for table in nested} <= {"ok", "optional", "skipped"}
    assert status["group_transitive_members"] == status["access_review_decisions"] == "ok"
    assert {status[spec.table] for spec in COLLECTIONS if spec.source is not Source.GRAPH} == {"ok"}

    assert main(["doctor", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "optional       role_assignment_schedule_requests" in text
    assert "RoleAssignmentSchedule.ReadWrite.Directory, outside the read-only set" in text
    # Exchange's role definitions are refused to an app-only sign-in whatever it holds: told as such.
    assert "delegated RoleManagement.Read.Exchange only, never to an application" in text


def test_doctor_names_exactly_the_missing_permissions_nested_and_azure_included(serve_tenant) -> None:
    withheld = {"RoleManagementPolicy.Read.Directory", "RoleManagementPolicy.Read.AzureADGroup", ARM_READ_PERMISSION}
    options = EmulatorOptions(granted_permissions=README_PERMISSIONS - withheld - {LOG_ANALYTICS_READ_PERMISSION})
    settings = replace(
        settings_for(serve_tenant(TENANT, options), options),
        log_analytics_workspace_id=WORKSPACE,
        azure_subscriptions=(SUBSCRIPTION,),
    )
    findings = check_tenant(settings)
    missing = sorted((f.collection, f.detail.split(" (")[0]) for f in findings if not f.ok)
    arm = sorted(spec.table for spec in COLLECTIONS if spec.source is Source.ARM)
    azure_reader = "missing permission Reader"
    assert missing == sorted(
        [
            ("group_policy_assignments", "missing permission RoleManagementPolicy.Read.AzureADGroup"),
            ("role_management_policy_assignments", "missing permission RoleManagementPolicy.Read.Directory"),
            ("la_audit_logs", "missing Log Analytics Reader on the workspace"),
            ("la_signin_logs", "missing Log Analytics Reader on the workspace"),
            *((table, azure_reader) for table in arm),
        ]
    )


def test_doctor_reports_a_wrong_secret_as_a_credential_problem(serve_tenant) -> None:
    options = EmulatorOptions()
    settings = replace(settings_for(serve_tenant(TENANT, options), options), client_secret="wrong")
    (finding,) = check_tenant(settings)
    assert (finding.collection, finding.ok) == ("credentials", False)
    assert f"could not get a token for application {options.client_id} (secret)" in finding.detail


def closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


@pytest.mark.parametrize(
    ("change", "where", "what"),
    [
        # No CA bundle: the emulator's certificate is not trusted, as behind a TLS-inspecting proxy.
        (lambda s: replace(s, ca_bundle=None), "the token endpoint", "TLS handshake failed"),
        # .invalid never resolves (RFC 2606).
        (lambda s: replace(s, graph_url="https://graph.pimlens.invalid"), "graph.pimlens.invalid", "DNS lookup failed"),
        (lambda s: replace(s, graph_url=f"https://127.0.0.1:{closed_port()}"), "127.0.0.1", "connection refused"),
    ],
)
def test_an_unreachable_service_is_one_line_naming_the_likely_cause(serve_tenant, change, where, what) -> None:
    options = EmulatorOptions()
    findings = check_tenant(change(settings_for(serve_tenant(TENANT, options), options)))
    failed = [finding for finding in findings if not finding.ok]
    assert len(failed) == 1
    assert failed[0].detail.startswith(f"cannot reach {where}: {what}; likely cause: ")
    assert "\n" not in failed[0].detail
