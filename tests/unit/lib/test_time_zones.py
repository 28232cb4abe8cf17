"""The Windows-to-IANA seed is tzlocal's mapping, and every zone in it is one DuckDB can convert to."""

import csv

import duckdb
from tzlocal.windows_tz import win_tz

from pipelines.lib.time_zones import SEED_FILE, seed_text


def test_the_seed_is_the_mapping_the_installed_tzlocal_ships() -> None:
    # After a tzlocal upgrade, write it again: python -m pipelines.lib.time_zones
    assert SEED_FILE.read_text(encoding="utf-8") == seed_text()
    rows = list(csv.DictReader(SEED_FILE.open(encoding="utf-8")))
    assert {row["windows_time_zone"]: row["iana_time_zone"] for row in rows} == win_tz
    assert win_tz["Pacific Standard Time"] == "America/Los_Angeles"
    assert win_tz["W. Europe Standard Time"] == "Europe/Berlin"


def test_duckdb_converts_to_every_iana_zone_of_the_seed() -> None:
    with duckdb.connect() as con:
        known = {name for (name,) in con.execute("select name from pg_timezone_names()").fetchall()}
    assert set(win_tz.values()) <= known
