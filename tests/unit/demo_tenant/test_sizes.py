"""The larger sizes keep their promises; checked on the model, without writing them to disk."""

from __future__ import annotations

from collections import Counter

from pipelines.demo_tenant import build_model
from pipelines.demo_tenant.clock import from_datetime
from pipelines.demo_tenant.history import iter_activation_requests
from pipelines.demo_tenant.model import PrincipalType

from .reading import AS_OF, SEED


def test_size_m_has_1500_users_and_15_to_30_thousand_requests() -> None:
    model = build_model("M", SEED, from_datetime(AS_OF))
    assert len(model.users) == 1_500
    requests = sum(1 for _ in iter_activation_requests(model))
    assert 15_000 <= requests <= 30_000


def test_size_l_has_10000_users_and_about_20000_eligibilities() -> None:
    model = build_model("L", SEED, from_datetime(AS_OF))
    assert len(model.users) == 10_000
    current = model.current_eligibilities()
    assert 17_000 <= len(current) <= 24_000
    # Users only: service principals are never eligible, groups rarely.
    kinds = Counter(e.principal_type for e in current)
    assert kinds[PrincipalType.SERVICE_PRINCIPAL] == 0 and kinds[PrincipalType.USER] > 0.99 * len(current)
