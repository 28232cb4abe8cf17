"""Windows time-zone names to IANA, from the mapping tzlocal ships (the Unicode CLDR ``windowsZones`` table).

Graph's ``mailboxSettings.timeZone`` is a Windows name unless the mailbox was set to an IANA one; DuckDB and
``zoneinfo`` take IANA names only. The dbt seed ``windows_time_zones`` is written from this mapping and a unit test
holds it equal to the installed tzlocal, so an upgrade of tzlocal that changes the mapping fails until the seed is
written again (``python -m pipelines.lib.time_zones``).
"""

from __future__ import annotations

import csv
import io
from importlib.metadata import version

from tzlocal.windows_tz import win_tz

from pipelines.lib import paths

SEED_FILE = paths.DBT_PROJECT_DIR / "seeds" / "windows_time_zones.csv"


def seed_text() -> str:
    """The seed's CSV: one row per Windows name, with the IANA name tzlocal maps it to and where that came from."""
    source = f"tzlocal {version('tzlocal')} windows_tz.win_tz (Unicode CLDR windowsZones)"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["windows_time_zone", "iana_time_zone", "source"])
    for windows_name in sorted(win_tz):
        writer.writerow([windows_name, win_tz[windows_name], source])
    return out.getvalue()


if __name__ == "__main__":
    SEED_FILE.write_text(seed_text(), encoding="utf-8")
    print(f"wrote {SEED_FILE}")
