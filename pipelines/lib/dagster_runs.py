"""Runs whose process died are marked failed, so nothing waits on them for ever.

Every pimlens run records the process that executes it (``PROCESS_TAG``: PID, host and start time), whether the
daemon launched it or ``pipelines.refresh`` runs it in process. ``fail_dead_runs`` marks as failed each run not
yet finished whose process is gone: ``pipelines.refresh`` calls it when it starts and the transform sensor on
each tick. Dagster's own run monitoring (dagster.yaml) covers runs that died before recording their process.
"""

from __future__ import annotations

import dagster as dg

from pipelines.lib.processes import ProcessIdentity, current_process

PROCESS_TAG = "pimlens/process"
UNFINISHED_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def record_run_process(instance: dg.DagsterInstance, run_id: str) -> None:
    instance.add_run_tags(run_id, {PROCESS_TAG: current_process().encode()})


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Marks failed every unfinished run whose recorded process no longer runs, and frees the pool slots of every
    finished run (a killed run never gives back the ``duckdb_writer`` slot it held); returns the failed run ids."""
    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=UNFINISHED_STATUSES)):
        run = record.dagster_run
        owner = ProcessIdentity.decode(run.tags.get(PROCESS_TAG, ""))
        if owner is None or owner.is_alive():
            continue
        instance.report_run_failed(
            run, f"the process that ran it (PID {owner.pid} on {owner.host}) is gone: it was killed or crashed"
        )
        failed.append(run.run_id)
    holders = instance.event_log_storage.get_concurrency_run_ids()
    if holders:
        unfinished = {
            r.dagster_run.run_id for r in instance.get_run_records(dg.RunsFilter(statuses=UNFINISHED_STATUSES))
        }
        for run_id in holders - unfinished:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return failed
