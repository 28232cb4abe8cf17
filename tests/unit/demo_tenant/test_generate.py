"""generate_tenant's promises: byte-identical output, safe replacement, clear errors for bad arguments."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from pipelines.demo_tenant import generate_tenant

from .reading import AS_OF, SEED, Tenant


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def test_same_arguments_give_byte_identical_files(tenant: Tenant, tmp_path: Path) -> None:
    again = tmp_path / "again"
    truth = generate_tenant(again, size="S", seed=SEED, as_of=AS_OF)
    assert digest(again) == digest(tenant.root)
    assert truth == tenant.truth


def test_another_seed_gives_another_tenant(tenant: Tenant, tmp_path: Path) -> None:
    other = tmp_path / "other"
    truth = generate_tenant(other, size="S", seed=SEED + 1, as_of=AS_OF)
    assert digest(other) != digest(tenant.root)
    assert truth.tenant_id != tenant.truth.tenant_id


def test_regenerating_replaces_a_generated_tenant(tenant: Tenant, tmp_path: Path) -> None:
    target = tmp_path / "demo"
    generate_tenant(target, size="S", seed=SEED + 1, as_of=AS_OF)
    (target / "stale.json").write_text("[]")
    generate_tenant(target, size="S", seed=SEED, as_of=AS_OF)
    assert digest(target) == digest(tenant.root)
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]  # no staging or old copies left behind


def test_refuses_to_overwrite_a_directory_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a generated tenant"):
        generate_tenant(tmp_path, size="S", seed=SEED, as_of=AS_OF)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_rejects_a_naive_as_of(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_tenant(tmp_path / "t", size="S", seed=SEED, as_of=datetime(2026, 11, 1))


def test_rejects_an_unknown_size(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="size must be one of S, M, L"):
        generate_tenant(tmp_path / "t", size="XL", seed=SEED, as_of=AS_OF)
    assert not (tmp_path / "t").exists()
