"""The one place that turns the repository layout into paths.

Everything that needs a file of the project asks here, so no module walks up from ``__file__`` itself.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
DEFAULT_DESIGN_FILE = REPO_ROOT / "design" / "default.yaml"

# Local, ignored by git: the demo tenant, the emulator's CA, the warehouse and Dagster's own storage.
VAR_DIR = REPO_ROOT / "var"
DEMO_TENANT_DIR = VAR_DIR / "demo-tenant"
EMULATOR_STATE_DIR = VAR_DIR / "emulator"
DAGSTER_HOME = REPO_ROOT
DAGSTER_STORAGE_DIR = VAR_DIR / "dagster"
# dagster.yaml reads the storage folder from this variable; unset, `pimlens run` and the UI use DAGSTER_STORAGE_DIR.
DAGSTER_STORAGE_ENV = "PIMLENS_DAGSTER_STORAGE"
