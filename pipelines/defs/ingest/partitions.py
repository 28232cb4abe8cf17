"""One partition of the raw layer per tenant of the configuration file, keyed by the tenant's ``name``.

Dynamic rather than static partitions: the tenants live in the configuration file (``PIMLENS_CONFIG``), not in
code, so a static list would have to read that file, and resolve its secrets, whenever the code location loads,
and a new tenant would show only after a reload. Kept in the instance instead, the partitions are synced from
the file by a sensor (``sync_tenant_partitions``) and by the in-process refresh, so adding a tenant is a one-line
edit of the file while definitions load without it.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

TENANT_PARTITIONS_NAME = "tenants"
TENANT_PARTITIONS = dg.DynamicPartitionsDefinition(name=TENANT_PARTITIONS_NAME)


@dataclass(frozen=True)
class PartitionChanges:
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def requests(self) -> list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest]:
        requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
        if self.added:
            requests.append(TENANT_PARTITIONS.build_add_request(list(self.added)))
        if self.removed:
            requests.append(TENANT_PARTITIONS.build_delete_request(list(self.removed)))
        return requests


def partition_changes(configured: Iterable[str], existing: Iterable[str]) -> PartitionChanges:
    """What turns the instance's tenant partitions into the configured tenants, in the file's order."""
    configured, existing = list(configured), list(existing)
    return PartitionChanges(
        added=tuple(name for name in configured if name not in existing),
        removed=tuple(name for name in existing if name not in configured),
    )


def sync_tenant_partitions(instance: dg.DagsterInstance, configured: Iterable[str]) -> PartitionChanges:
    """Applies the changes directly, for runs executed in process where no sensor is ticking."""
    changes = partition_changes(configured, instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME))
    if changes.added:
        instance.add_dynamic_partitions(TENANT_PARTITIONS_NAME, list(changes.added))
    for name in changes.removed:
        instance.delete_dynamic_partition(TENANT_PARTITIONS_NAME, name)
    return changes
