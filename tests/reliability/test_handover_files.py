"""The files analysts read are never missing nor half written: a kill inside the export's swap, and a full disk
while the analytics database is published."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse.publish import PublishFailed, publish_analytics

from .conftest import Baseline

# Runs the export of `warehouse` to `out` in a child process that SIGKILLs itself at the step named by `kill_at`:
# "exchanged" right after the atomic exchange (before the old folder is removed), "set_aside" on a system without
# renameat2, between moving the old folder aside and moving the new one in.
EXPORT_THEN_DIE = """
import os, signal, sys, duckdb
from pathlib import Path
from pipelines.lib import files
from pipelines.lib.warehouse.export import export_marts

warehouse, out, kill_at = sys.argv[1:]
die = lambda *_: os.kill(os.getpid(), signal.SIGKILL)
if kill_at == "exchanged":
    exchange = files._exchange
    files._exchange = lambda a, b: exchange(a, b) and die()
else:
    files._exchange = lambda a, b: False
    rename = Path.rename
    def rename_then_die(self, target):
        rename(self, target)
        if Path(target).name.endswith(".previous"):
            die()
    Path.rename = rename_then_die
with duckdb.connect(warehouse, read_only=True) as con:
    export_marts(con, Path(out))
"""


def _export_and_die(warehouse: Path, out: Path, kill_at: str) -> int:
    return subprocess.run([sys.executable, "-c", EXPORT_THEN_DIE, str(warehouse), str(out), kill_at]).returncode


def _manifest_matches(out: Path, warehouse: Path) -> None:
    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, entry in manifest["tables"].items():
            assert (
                con.execute(f"select count(*) from read_parquet('{out / entry['file']}')").fetchone()[0]
                == (entry["rows"])
            )
            assert con.execute(f"select count(*) from marts.{table}").fetchone()[0] == entry["rows"]


@pytest.mark.slow
def test_a_kill_inside_the_export_swap_leaves_a_whole_export_folder(baseline: Baseline, tmp_path: Path) -> None:
    warehouse = baseline.site.warehouse
    out = tmp_path / "exports"
    # The first export has nothing to exchange with: one rename, and no kill.
    assert _export_and_die(warehouse, out, "exchanged") == 0
    first = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))["exported_at"]

    assert _export_and_die(warehouse, out, "exchanged") == -signal.SIGKILL
    # The folder holds the new export at once; the old one waits beside it for the next export to remove it.
    assert json.loads((out / "_manifest.json").read_text(encoding="utf-8"))["exported_at"] > first
    _manifest_matches(out, warehouse)

    # Without renameat2 the old folder is moved aside first: a kill right then leaves no folder, and the next
    # export puts the previous one back before anything else.
    assert _export_and_die(warehouse, out, "set_aside") == -signal.SIGKILL
    assert not out.exists() and out.with_name("exports.previous").is_dir()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from pathlib import Path; from pipelines.lib.files import recover_folder; "
            f"recover_folder(Path({str(out)!r}))",
        ],
        check=True,
    )
    _manifest_matches(out, warehouse)


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 1 MB tmpfs: a real full disk. Mounting needs root; elsewhere the test is skipped, saying so."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}): needs root")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_disk_during_publish_keeps_the_previous_analytics_file(tmp_path: Path, tiny_disk: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_small as select range as small_id from range(10)")
    target = tiny_disk / "analytics.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        publish_analytics(con, target)
    with duckdb.connect(str(warehouse)) as con:
        # Random text does not compress: some 6 MB, far more than the disk holds.
        con.execute(
            "create table marts.fct_large as select md5(range::varchar) || md5(random()::varchar) as text "
            "from range(100000)"
        )
    with duckdb.connect(str(warehouse), read_only=True) as con, pytest.raises(PublishFailed) as failed:
        publish_analytics(con, target)
    message = str(failed.value)
    assert "No space left on device" in message and "analysts keep the previous file" in message
    assert sorted(path.name for path in tiny_disk.iterdir()) == ["analytics.duckdb"]
    with duckdb.connect(str(target), read_only=True) as analyst:
        assert analyst.execute("select count(*) from marts.fct_small").fetchone()[0] == 10
        tables = analyst.execute("select table_name from information_schema.tables where table_schema = 'marts'")
        assert tables.fetchall() == [("fct_small",)]


# Publishes `warehouse`'s marts to `target` in a child process that SIGKILLs itself once the new file is written
# and flushed, just before the rename that would put it in place.
PUBLISH_THEN_DIE = """
import os, signal, sys, duckdb
from pathlib import Path
from pipelines.lib.warehouse import publish

warehouse, target = sys.argv[1:]
publish.replace_file = lambda staged, final: os.kill(os.getpid(), signal.SIGKILL)
with duckdb.connect(warehouse, read_only=True) as con:
    publish.publish_analytics(con, Path(target))
"""


@pytest.mark.slow
def test_a_kill_during_publish_leaves_the_previous_file_and_the_next_publish_cleans_up(
    baseline: Baseline, tmp_path: Path
) -> None:
    warehouse, target = baseline.site.warehouse, tmp_path / "analytics.duckdb"
    target.write_bytes(b"the previous publication")
    killed = subprocess.run([sys.executable, "-c", PUBLISH_THEN_DIE, str(warehouse), str(target)], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"the previous publication"
    assert target.with_name("analytics.duckdb.next").exists()

    with duckdb.connect(str(warehouse), read_only=True) as con:
        published = publish_analytics(con, target)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["analytics.duckdb"]
    with duckdb.connect(str(target), read_only=True) as analyst:
        for table in published:
            assert (
                analyst.execute(f"select count(*) from marts.{table.table}").fetchone()[0]
                == (baseline.snapshot.marts[table.table])
            )
