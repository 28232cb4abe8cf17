"""A local Microsoft Graph + Log Analytics emulator that serves a tenant directory (docs/tenant-format.md).

The same client code (azure-identity, the msgraph-sdk transport, azure-monitor-query) runs against it and
against a real tenant: only the base URLs and the CA bundle differ.

    with start_emulator(tenant_dir, state_dir=state_dir) as emulator:
        credential = ClientSecretCredential(
            emulator.tenant_id, DEMO_CLIENT_ID, "pimlens-demo-secret",
            authority=emulator.url, disable_instance_discovery=True, connection_verify=str(emulator.ca_file),
        )
        ...  # Graph at emulator.url + "/v1.0", Log Analytics at emulator.url + "/v1"
        emulator.stats()  # also GET /_emulator/stats; faults: emulator.set_faults() or POST /_emulator/faults

Credentials without a secret work too: `emulator.managed_identity_environment` is what App Service sets for a
process with a managed identity (IDENTITY_ENDPOINT, IDENTITY_HEADER), and `emulator.federated_token()` (or
POST /_emulator/federated-token) is a workload's federated token, which the token endpoint exchanges.
"""

from pipelines.emulator.faults import FaultPlan
from pipelines.emulator.server import DEMO_CLIENT_ID, EmulatorOptions, RunningEmulator, start_emulator
from pipelines.emulator.store import TenantFormatError

__all__ = ["DEMO_CLIENT_ID", "EmulatorOptions", "FaultPlan", "RunningEmulator", "TenantFormatError", "start_emulator"]
