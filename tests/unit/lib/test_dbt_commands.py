"""The build folders dagster-dbt leaves in dbt's target folder are pruned, never one a build may still use."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pipelines.lib.dbt_build_folders import INVOCATIONS_KEPT, prune_build_folders


def _folder(target: Path, name: str, age_days: float) -> Path:
    folder = target / name
    folder.mkdir()
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    stamp = time.time() - age_days * 86_400
    os.utime(folder, (stamp, stamp))
    return folder


def test_only_day_old_folders_beyond_the_newest_ten_of_the_asset_go(tmp_path: Path) -> None:
    old = [_folder(tmp_path, f"pimlens_dbt_models-{n:02d}", age_days=2 + n) for n in range(INVOCATIONS_KEPT + 3)]
    recent = [_folder(tmp_path, f"pimlens_dbt_models-r{n}", age_days=0.1) for n in range(3)]
    other = _folder(tmp_path, "compiled", age_days=30)

    removed = prune_build_folders(tmp_path, "pimlens_dbt_models-")

    # The three recent ones count among the ten kept, so the six oldest of the old go.
    assert sorted(removed) == sorted(old[INVOCATIONS_KEPT - 3 :])
    assert all(folder.exists() for folder in [*recent, *old[: INVOCATIONS_KEPT - 3], other])
    assert not any(folder.exists() for folder in removed)
