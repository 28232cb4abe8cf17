"""Graph's documented limits, with their windows compressed for the tests whose subject is not throttling.

The emulator still enforces every limit (5 audit requests per window, the resource-unit buckets) and answers
429 with Retry-After, so the pipeline meets the same refusals and honours the same waits; at a tenth of the
window, the size M tenant's year of audit pages costs about 20 s of waiting instead of 200 s. The tests of
throttling itself (tests/unit/emulator/test_throttle.py, integration/test_faults.py, reliability/test_concurrency.py)
set their own scale.
"""

from __future__ import annotations

from typing import Any

from pipelines.emulator import EmulatorOptions

LIMITS_SCALE = 0.1


def emulator_options(**overrides: Any) -> EmulatorOptions:
    """EmulatorOptions with Graph's limits at `LIMITS_SCALE` of their windows, unless `overrides` say otherwise."""
    return EmulatorOptions(**{"retry_after_scale": LIMITS_SCALE, **overrides})
