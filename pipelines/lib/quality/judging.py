"""Raw suites judge each tenant's loads they have not judged yet, and keep a verdict per load.

Every new load of a suite's tables is validated in one batch; only when that batch fails is each table's each
load validated on its own, to say which load broke which expectation. A suite that ``holds_loads`` blocks a load
that fails it (the models then skip it, verdicts.py); any other suite warns and records ``warned``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from pipelines.lib.quality.gate import FailedExpectation, QualityProject, StepRun, SuiteFile
from pipelines.lib.warehouse.verdicts import Load, held_loads, loads_to_judge, record_verdict


@dataclass(frozen=True)
class Judgement:
    """What one raw suite said about one collection in this run."""

    collection: str
    gate: str
    loads_judged: list[str]
    rows_checked: int
    failures: list[FailedExpectation]
    # (tenant, load, why) of this collection's loads that this gate holds now, judged in this run or before.
    held: list[tuple[str, str, str]]
    # (tenant, load, why) of the loads judged in this run that failed a suite that holds no loads.
    warned: list[tuple[str, str, str]]

    @property
    def passed(self) -> bool:
        return not self.held and not self.warned


def gate_name(suite: SuiteFile) -> str:
    return f"expectations_{suite.name}"


def judge_new_loads(
    con: duckdb.DuckDBPyConnection, project: QualityProject, suite: SuiteFile, tables: list[str], run: StepRun
) -> list[Judgement]:
    gate = gate_name(suite)
    new = {table: loads_to_judge(con, table, gate) for table in tables}
    frames = {
        table: _rows(con, suite, table, [load.load_id for load in loads]) for table, loads in new.items() if loads
    }
    together = project.validate(suite, pd.concat(frames.values()), run) if frames else None
    judged: list[tuple[str, list[tuple[Load, str, str]], list[FailedExpectation]]] = []
    for table in tables:
        verdicts: list[tuple[Load, str, str]] = []
        failures: list[FailedExpectation] = []
        for load in new[table]:
            if together is not None and together.passed:
                verdicts.append((load, "passed", together.describe()))
                continue
            frame = frames[table]
            result = project.validate(suite, frame[frame["load_id"] == load.load_id], run)
            verdict = "passed" if result.passed else "blocked" if suite.holds_loads else "warned"
            verdicts.append((load, verdict, result.describe()))
            failures += result.failures
        for load, verdict, detail in verdicts:
            record_verdict(con, load, table, gate, verdict, detail)
        judged.append((table, verdicts, failures))
    # Read once all verdicts are recorded: what this gate holds now, released loads left out (meta.held_loads).
    held = [
        (tenant, collection, load_id, why) for tenant, collection, load_id, by, why in held_loads(con) if by == gate
    ]
    return [
        Judgement(
            collection=table,
            gate=gate,
            loads_judged=[load.load_id for load in new[table]],
            rows_checked=len(frames[table]) if table in frames else 0,
            failures=failures,
            held=[(tenant, load_id, why) for tenant, collection, load_id, why in held if collection == table],
            warned=[(load.tenant_id, load.load_id, why) for load, verdict, why in verdicts if verdict == "warned"],
        )
        for table, verdicts, failures in judged
    ]


def _rows(con: duckdb.DuckDBPyConnection, suite: SuiteFile, table: str, load_ids: list[str]) -> pd.DataFrame:
    query = suite.query_for(("raw", table))
    return con.execute(
        f"select * from ({query}) as batch where batch.load_id in (select unnest($loads))", {"loads": load_ids}
    ).df()
