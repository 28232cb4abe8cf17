"""`pimlens doctor` against the emulator: it names a missing permission and a wrong secret."""

from dataclasses import replace
from pathlib import Path

from pipelines.emulator import EmulatorOptions
from pipelines.lib.config import TenantSettings
from pipelines.lib.doctor import check_tenant
from pipelines.lib.graph.collections import COLLECTIONS, Source

TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"


def settings_for(emulator, options: EmulatorOptions) -> TenantSettings:
    return TenantSettings(
        name="t",
        tenant_id=emulator.tenant_id,
        client_id=options.client_id,
        client_secret=options.client_secret,
        graph_url=emulator.url,
        authority_url=emulator.url,
        ca_bundle=emulator.ca_file,
    )


def test_doctor_names_exactly_the_missing_permission(serve_tenant) -> None:
    granted = {spec.permission for spec in COLLECTIONS} | {"Directory.Read.All"}
    # The group-policy permission also opens the policy endpoint, so both are withheld.
    withheld = {"RoleManagementPolicy.Read.Directory", "RoleManagementPolicy.Read.AzureADGroup"}
    options = EmulatorOptions(granted_permissions=granted - withheld)
    findings = check_tenant(settings_for(serve_tenant(TENANT, options), options))
    missing = [(f.collection, f.detail.split(" (")[0]) for f in findings if not f.ok]
    assert missing == [("role_management_policy_assignments", "missing permission RoleManagementPolicy.Read.Directory")]
    probed = [spec for spec in COLLECTIONS if spec.fan_out is None and spec.source is Source.GRAPH]
    assert sum(f.ok for f in findings) == len(probed) - 1


def test_doctor_reports_a_wrong_secret_as_a_credential_problem(serve_tenant) -> None:
    options = EmulatorOptions()
    settings = replace(settings_for(serve_tenant(TENANT, options), options), client_secret="wrong")
    (finding,) = check_tenant(settings)
    assert (finding.collection, finding.ok) == ("credentials", False)
    assert f"could not get a token for {options.client_id}" in finding.detail
