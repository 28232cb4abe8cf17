"""The generated tenant whose one refresh several integration modules read (tests/integration/conftest.py), named
here without importing the pipeline so the root conftest can group those modules into one unit of work."""

SHARED_TENANT = ("S", 11)


def tenant_id(size: str, seed: int) -> str:
    """The pytest id of a generated tenant's case in the end-to-end module."""
    return f"{size}-seed{seed}"
