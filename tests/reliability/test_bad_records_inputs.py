"""Bad inputs are stopped or made safe at the door: the design file, the configuration, OData filters, SQL paths.

Rows of issue 16's table: a design keyed by a role's name, a group id containing ', a warehouse folder whose name
contains '; and the configuration's duplicate or non-GUID tenant ids.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest
import yaml

from pipelines.emulator.odata import parse_query
from pipelines.lib.config import ConfigError, load_config
from pipelines.lib.design import DesignError, load_design, role_catalogue
from pipelines.lib.graph.collections import COLLECTIONS
from pipelines.lib.warehouse.export import export_marts

TENANT = "10000000-0000-0000-0000-000000000001"
CLIENT = "c0000000-0000-0000-0000-000000000001"


def write_design(tmp_path: Path, role_tiers: dict[str, str]) -> Path:
    path = tmp_path / "design.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "role_tiers": role_tiers}), encoding="utf-8")
    return path


def test_role_tiers_keyed_by_display_name_mean_the_same_roles_as_keyed_by_id(tmp_path: Path) -> None:
    catalogue = role_catalogue()
    chosen = {"Exchange Administrator": "tier0", "global reader": "tier1", "Helpdesk Administrator": "tier2"}
    by_name = load_design(write_design(tmp_path, chosen)).role_tiers
    names = {name.casefold(): template_id for name, template_id in catalogue.items()}
    by_id = load_design(write_design(tmp_path, {names[n.casefold()]: t for n, t in chosen.items()})).role_tiers
    assert by_name == by_id
    assert len(by_name) == 3


def test_a_role_name_that_matches_nothing_is_rejected_with_the_closest_role(tmp_path: Path) -> None:
    with pytest.raises(DesignError) as raised:
        load_design(write_design(tmp_path, {"Exchange Admin": "tier0"}))
    message = str(raised.value)
    assert "\n" not in message
    assert str(tmp_path / "design.yaml") in message
    assert "role_tiers.Exchange Admin" in message
    assert "did you mean 'Exchange Administrator' (29232cdf-9323-42fd-ade2-1d097af3e4de)?" in message


def test_the_same_role_given_a_tier_by_name_and_by_id_is_rejected(tmp_path: Path) -> None:
    document = {"Exchange Administrator": "tier0", "29232cdf-9323-42fd-ade2-1d097af3e4de": "tier1"}
    with pytest.raises(DesignError, match="already given a tier; keep one entry"):
        load_design(write_design(tmp_path, document))


def test_configuration_rejects_a_tenant_listed_twice_and_a_tenant_id_that_is_not_a_guid(tmp_path: Path) -> None:
    path = tmp_path / "pimlens.yaml"
    entry = {"client_id": CLIENT, "client_secret_env": "SECRET"}
    twice = [{"name": "a", "tenant_id": TENANT, **entry}, {"name": "b", "tenant_id": TENANT, **entry}]
    path.write_text(yaml.safe_dump({"tenants": twice}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tenants\[1\]\.tenant_id .* is also tenants\[0\]'s: list each tenant once"):
        load_config(path, {"SECRET": "s"})
    path.write_text(yaml.safe_dump({"tenants": [{"name": "a", "tenant_id": "contoso", **entry}]}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tenants\[0\]\.tenant_id must be a GUID like 0000"):
        load_config(path, {"SECRET": "s"})


@pytest.mark.parametrize(
    "spec", [spec for spec in COLLECTIONS if any("'{" in value for value in spec.params.values())], ids=str
)
def test_a_parent_id_holding_a_quote_reaches_graph_as_the_same_value(spec) -> None:
    """Graph reads `''` inside a literal as one `'`: the emulator's parser, which follows that rule, gets the id."""
    parent_id = "grp'1 eq 'x"
    url = spec.first_url("https://g", keys={"id": parent_id})
    options = parse_query(urlsplit(url).query, dollar_optional=True)
    assert parent_id in dict(options.equalities).values(), options.equalities


def test_the_export_writes_into_a_folder_whose_name_holds_a_quote(tmp_path: Path) -> None:
    folder = tmp_path / "o'brien's warehouse"
    folder.mkdir()
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dim_things as select range as thing_id, 'it''s' as label from range(5)")
        (exported,) = export_marts(con, folder / "exports")
        assert (exported.table, exported.rows) == ("dim_things", 5)
        rows = con.execute("select thing_id, label from read_parquet(?) order by 1", [str(exported.file)]).fetchall()
    assert rows == [(index, "it's") for index in range(5)]
