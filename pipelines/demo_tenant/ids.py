"""Identifiers in the formats Entra uses, all derived from seeded randomness or from other ids.

Nothing here reads the clock or the OS's entropy: the same seed gives the same ids.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid

_VERSION_MASK = ~(0xF << 76) & ~(0x3 << 62)
_VERSION_BITS = (0x4 << 76) | (0x2 << 62)


def _format(bits: int) -> str:
    h = f"{(bits & _VERSION_MASK) | _VERSION_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def guid(rng: random.Random) -> str:
    """A random (version 4 shaped) GUID drawn from the simulation's own generator."""
    return _format(rng.getrandbits(128))


def derived_guid(*parts: str) -> str:
    """A GUID that is a pure function of other ids, e.g. one audit event of one request.

    Used where drawing from a generator would make the output depend on the order in which things are
    written (the audit log is written in time order, the model is built role by role).
    """
    digest = hashlib.blake2b("/".join(parts).encode(), digest_size=16).digest()
    return _format(int.from_bytes(digest))


def assignment_id(role_id: str, principal_id: str, scope_object_id: str | None) -> str:
    """Entra's role-assignment id: base64url of the role's and principal's GUID bytes (little-endian).

    Decoding the ids in Graph's documentation shows this layout, e.g. `lAPpYvVpN0KRkAEhdxReE...-1` starts
    with Global Administrator's id; scoped assignments append the administrative unit's GUID and, in the
    documented example, end in `-2` instead of `-1`.
    """
    raw = uuid.UUID(role_id).bytes_le + uuid.UUID(principal_id).bytes_le
    if scope_object_id is not None:
        raw += uuid.UUID(scope_object_id).bytes_le
    suffix = "-1" if scope_object_id is None else "-2"
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + suffix


def immutable_id(rng: random.Random) -> str:
    """An onPremisesImmutableId: base64 of a 16-byte on-premises objectGUID."""
    return base64.b64encode(rng.getrandbits(128).to_bytes(16, "little")).decode()
