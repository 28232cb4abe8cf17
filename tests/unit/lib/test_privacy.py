"""Keyed pseudonyms: stable under one key, different under another, applied to personal columns only."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.config import ConfigError, load_config
from pipelines.lib.privacy import Pseudonymiser, is_personal_column, select_expression

KEY = b"a key of sixteen bytes or more"


def test_pseudonyms_are_stable_keyed_and_keep_addresses_looking_like_addresses() -> None:
    one, other = Pseudonymiser(KEY), Pseudonymiser(b"another key, as long as needed")
    assert one("ada@contoso.example") == one("ada@contoso.example")
    assert one("ada@contoso.example") != one("bob@contoso.example")
    assert one("ada@contoso.example") != other("ada@contoso.example")
    assert one("ada@contoso.example").endswith("@pseudonymised.invalid")
    assert one("Ada Lovelace").startswith("pn_") and "Ada" not in one("Ada Lovelace")
    assert "a key" not in repr(one)
    with pytest.raises(ValueError, match="16 bytes"):
        Pseudonymiser(b"short")


def test_personal_columns_are_pseudonymised_in_sql_and_others_kept() -> None:
    pseudonymiser = Pseudonymiser(KEY)
    assert [is_personal_column(c) for c in ("user_principal_name", "principal_name", "display_name")] == [True] * 3
    assert [is_personal_column(c) for c in ("justification", "role_name", "principal_id", "tenant_id")] == [
        True,
        False,
        False,
        False,
    ]
    con = duckdb.connect()
    pseudonymiser.register(con)
    expression = select_expression("user_principal_name", "upn", "VARCHAR", pseudonymiser)
    rows = con.execute(f"select {expression} from (values ('ada@contoso.example'), (null)) as t(upn)").fetchall()
    assert rows == [(pseudonymiser("ada@contoso.example"),), (None,)]
    assert select_expression("role_name", "role_name", "VARCHAR", pseudonymiser) == "role_name"
    assert select_expression("user_principal_name", "upn", "VARCHAR", None) == "upn"


def test_a_graph_record_keeps_ids_times_and_role_names() -> None:
    pseudonymiser = Pseudonymiser(KEY)
    event = {
        "id": "e1",
        "activityDateTime": "2026-05-02T08:11:01.112Z",
        "activityDisplayName": "Add member to role completed (PIM activation)",
        "initiatedBy": {"user": {"id": "u1", "userPrincipalName": "ada@contoso.example", "ipAddress": "10.0.0.7"}},
        "targetResources": [{"id": "r1", "type": "Role", "displayName": "Global Administrator"}],
    }
    masked = pseudonymiser.record(event)
    user = masked["initiatedBy"]["user"]
    assert user["id"] == "u1" and user["userPrincipalName"] == pseudonymiser("ada@contoso.example")
    assert user["ipAddress"] == pseudonymiser("10.0.0.7")
    assert masked["activityDateTime"] == event["activityDateTime"]
    assert masked["activityDisplayName"] == event["activityDisplayName"]
    assert masked["targetResources"][0]["displayName"] == "Global Administrator"


def test_the_option_needs_a_key_in_the_named_variable(tmp_path: Path) -> None:
    config = tmp_path / "pimlens.yaml"
    config.write_text(
        "pseudonymise: {key_env: PSEUDO_KEY}\n"
        "tenants: [{name: t, tenant_id: 00000000-0000-0000-0000-00000000000a,"
        " client_id: 00000000-0000-0000-0000-00000000000c, client_secret_env: SECRET}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="PSEUDO_KEY, which must hold a key of at least 16 characters"):
        load_config(config, {"SECRET": "s"})
    loaded = load_config(config, {"SECRET": "s", "PSEUDO_KEY": KEY.decode()})
    assert loaded.pseudonymiser()("x") == Pseudonymiser(KEY)("x")
    assert loaded.secret_variables == ("SECRET", "PSEUDO_KEY")
    assert "a key of" not in repr(loaded)


def test_display_names_of_principals_are_personal_and_of_roles_not() -> None:
    pseudonymiser = Pseudonymiser(KEY)
    group = {"id": "g1", "@odata.type": "#microsoft.graph.group", "displayName": "Tier-0 admins"}
    role = {"id": "r1", "displayName": "Global Administrator", "templateId": "62e90394"}
    assert pseudonymiser.record(group)["displayName"] == pseudonymiser("Tier-0 admins")
    assert pseudonymiser.record(role) == role
    assert pseudonymiser.record({"id": "s1", "displayName": "Backup app"}, principal=True)["displayName"] != (
        "Backup app"
    )


def test_log_analytics_dynamic_columns_and_detail_pairs_are_pseudonymised_inside() -> None:
    pseudonymiser = Pseudonymiser(KEY)
    row = {
        "Id": "PIM_1",
        "InitiatedBy": '{"user":{"id":"u1","userPrincipalName":"ada@contoso.example","ipAddress":"10.0.0.7"}}',
        "AdditionalDetails": (
            '[{"key":"Justification","value":"fixing the VPN for Ada"},{"key":"TicketNumber","value":"OPS-1"},'
            '{"key":"ipaddr","value":"192.0.2.7"}]'
        ),
        "OperationName": "Add member to role completed (PIM activation)",
    }
    masked = pseudonymiser.record(row)
    assert "ada@" not in masked["InitiatedBy"] and "10.0.0.7" not in masked["InitiatedBy"]
    assert '"id":"u1"' in masked["InitiatedBy"]
    details = {pair["key"]: pair["value"] for pair in json.loads(masked["AdditionalDetails"])}
    assert details == {
        "Justification": pseudonymiser("fixing the VPN for Ada"),
        "TicketNumber": "OPS-1",
        "ipaddr": pseudonymiser("192.0.2.7"),
    }
    assert masked["OperationName"] == row["OperationName"]
