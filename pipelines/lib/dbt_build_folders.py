"""dbt's build folders: dagster-dbt gives each of its builds a folder in dbt's target folder, and `pimlens-dbt`
gives each build, test or run started by hand one too (pipelines/lib/dbt_child.py); old ones are pruned here."""

import shutil
import time
from pathlib import Path

# dagster-dbt gives every build a folder of its own in dbt's target folder (about 7 MB: manifest, compiled SQL, run
# results) and never removes one: a daily schedule would keep 2.5 GB a year.
INVOCATIONS_KEPT = 10
INVOCATION_MIN_AGE_SECONDS = 86_400.0  # a build in progress, even one of another warehouse, is never this old


def prune_build_folders(target: Path, prefix: str) -> list[Path]:
    """Removes the build folders `target/<prefix>*` beyond the newest INVOCATIONS_KEPT that are a day old."""
    modified = {folder: folder.stat().st_mtime for folder in target.glob(f"{prefix}*") if folder.is_dir()}
    newest_first = sorted(modified, key=modified.__getitem__, reverse=True)
    cutoff = time.time() - INVOCATION_MIN_AGE_SECONDS
    removed = [folder for folder in newest_first[INVOCATIONS_KEPT:] if modified[folder] < cutoff]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed
