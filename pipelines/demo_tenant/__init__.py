"""The seeded demo tenant: a year of PIM life in a tenant directory, with the metrics it must produce.

    generate_tenant(Path("var/demo-tenant"), size="S", seed=7, as_of=datetime(2026, 11, 1, tzinfo=UTC))

Modules, in the order data flows: catalog (reference data) and sizes -> directory and simulate (the model) ->
history (the year of activation requests) -> wire (Graph JSON) -> write (files); ground_truth computes the
headline metrics from the model alone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from pipelines.demo_tenant.clock import from_datetime
from pipelines.demo_tenant.ground_truth import METRIC_IDS, GroundTruth, compute_ground_truth
from pipelines.demo_tenant.simulate import build_model
from pipelines.demo_tenant.sizes import SIZES, profile
from pipelines.demo_tenant.write import write_tenant

__all__ = ["METRIC_IDS", "SIZES", "GroundTruth", "build_model", "generate_tenant"]


def generate_tenant(out_dir: Path, *, size: str = "S", seed: int = 7, as_of: datetime) -> GroundTruth:
    """Writes the tenant of (size, seed, as_of) to `out_dir` and returns the ground truth it also wrote there.

    The same arguments always give byte-identical files. The directory is built beside `out_dir` and moved
    into place at the end, so a failed run never leaves half a tenant; an existing `out_dir` is replaced only
    if it is empty or itself a generated tenant (it has a ground_truth.json).
    """
    at = from_datetime(as_of)
    profile(size)
    out_dir = Path(out_dir)
    _check_replaceable(out_dir)
    model = build_model(size, seed, at)
    truth = compute_ground_truth(model)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would surprise anyone sharing the tenant
        write_tenant(staging, model, truth)
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return truth


def _check_replaceable(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise FileExistsError(f"--out {out_dir} is a file; give a directory for the tenant")
    if any(out_dir.iterdir()) and not (out_dir / "ground_truth.json").is_file():
        raise FileExistsError(
            f"--out {out_dir} is not empty and is not a generated tenant (no ground_truth.json); "
            "choose another directory or empty it"
        )


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        out_dir.rename(old)
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old)
