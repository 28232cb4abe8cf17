from pathlib import Path
from string import Template

import pytest

from pipelines.lib.config import AUTHORITY_URL, GRAPH_URL, ConfigError, load_config

SECRET_ENV = {"READER_SECRET": "s3cret"}
# Tenant and client ids are GUIDs; the documents below name them $T1, $C and so on.
IDS = {
    "T0": "10000000-0000-0000-0000-000000000000",
    "T1": "10000000-0000-0000-0000-000000000001",
    "T2": "10000000-0000-0000-0000-000000000002",
    "C": "c0000000-0000-0000-0000-000000000000",
    "C1": "c0000000-0000-0000-0000-000000000001",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pimlens.yaml"
    path.write_text(Template(text).safe_substitute(IDS), encoding="utf-8")
    return path


def test_a_real_tenant_needs_only_ids_and_the_secret_variable(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tenants:\n  - name: contoso\n    tenant_id: $T1\n    client_id: $C1\n    client_secret_env: READER_SECRET\n",
    )
    config = load_config(path, SECRET_ENV)
    (tenant,) = config.tenants
    assert (tenant.tenant_id, tenant.client_id, tenant.client_secret) == (
        "10000000-0000-0000-0000-000000000001",
        "c0000000-0000-0000-0000-000000000001",
        "s3cret",
    )
    assert (tenant.graph_url, tenant.authority_url) == (GRAPH_URL, AUTHORITY_URL)
    assert not tenant.is_custom_authority
    assert "s3cret" not in repr(tenant)


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    path = write(
        tmp_path,
        "tenants:\n  - {name: demo, tenant_id: $T0, client_id: $C, client_secret_env: READER_SECRET,\n"
        "     ca_bundle: ca.pem, graph_url: 'https://127.0.0.1:9/', authority_url: 'https://127.0.0.1:9'}\n",
    )
    (tenant,) = load_config(path, SECRET_ENV).tenants
    assert tenant.ca_bundle == tmp_path / "ca.pem"
    assert tenant.graph_url == "https://127.0.0.1:9"
    assert tenant.is_custom_authority


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tenants: []\n", "at least one tenant"),
        ("tenant: []\n", "unknown key tenant"),
        (
            "tenants:\n  - {name: a, tenant_id: $T0, client_id: $C, client_secret_env: READER_SECRET, colour: red}\n",
            "unknown key tenants\\[0\\].colour",
        ),
        (
            "tenants:\n  - {name: a, client_id: $C, client_secret_env: READER_SECRET}\n",
            "tenants\\[0\\].tenant_id is required",
        ),
        (
            "tenants:\n  - {name: a, tenant_id: $T0, client_id: $C}\n",
            "exactly one of client_secret_env or certificate_path",
        ),
        (
            "tenants:\n  - {name: a, tenant_id: $T0, client_id: $C, client_secret_env: NOT_SET}\n",
            "names NOT_SET, but that environment variable is not set",
        ),
        (
            "tenants:\n  - {name: a, tenant_id: $T0, client_id: $C, client_secret_env: READER_SECRET, graph_url: 'http://x'}\n",
            "graph_url must be an https:// URL",
        ),
        ("tenants: [\n", "not valid YAML"),
    ],
)
def test_bad_configuration_names_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), SECRET_ENV)


def test_a_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PIMLENS_CONFIG"):
        load_config(tmp_path / "nope.yaml", SECRET_ENV)


def test_a_partition_finds_its_tenant_by_name_and_a_stale_one_says_what_to_fix(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tenants:\n"
        "  - {name: contoso, tenant_id: $T1, client_id: $C, client_secret_env: READER_SECRET}\n"
        "  - {name: fabrikam, tenant_id: $T2, client_id: $C, client_secret_env: READER_SECRET}\n",
    )
    config = load_config(path, SECRET_ENV)
    assert config.tenant_names == ("contoso", "fabrikam")
    assert config.tenant_named("fabrikam").tenant_id == IDS["T2"]
    with pytest.raises(ConfigError, match=r"has no tenant named 'northwind' \(it lists \['contoso', 'fabrikam'\]\)"):
        config.tenant_named("northwind")


GUID_A = "10000000-0000-0000-0000-00000000000a"
GUID_C = "c0000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            f"{{name: a, tenant_id: contoso.onmicrosoft.com, client_id: {GUID_C}",
            r"tenants\[0\]\.tenant_id must be a GUID",
        ),
        (f"{{name: a, tenant_id: {GUID_A}, client_id: reader", r"tenants\[0\]\.client_id must be a GUID"),
        (
            f"{{name: a, tenant_id: {GUID_A}, client_id: {GUID_C}, log_analytics_workspace_id: ws",
            r"tenants\[0\]\.log_analytics_workspace_id must be a GUID",
        ),
        (
            f"{{name: a, tenant_id: {GUID_A}, client_id: {GUID_C}, azure_subscriptions: ['{GUID_A}', 'prod']",
            r"tenants\[0\]\.azure_subscriptions\[1\] must be a GUID .*got 'prod'",
        ),
    ],
)
def test_ids_that_are_not_guids_are_rejected_with_where_to_find_them(tmp_path: Path, entry: str, message: str) -> None:
    text = f"tenants:\n  - {entry}, client_secret_env: READER_SECRET}}\n"
    with pytest.raises(ConfigError, match=message) as raised:
        load_config(write(tmp_path, text), SECRET_ENV)
    assert "\n" not in str(raised.value)


def test_one_tenant_listed_twice_under_two_names_is_rejected(tmp_path: Path) -> None:
    text = (
        "tenants:\n"
        f"  - {{name: a, tenant_id: {GUID_A}, client_id: {GUID_C}, client_secret_env: READER_SECRET}}\n"
        f"  - {{name: b, tenant_id: {GUID_A.upper()}, client_id: {GUID_C}, client_secret_env: READER_SECRET}}\n"
    )
    with pytest.raises(
        ConfigError, match=rf"tenants\[1\]\.tenant_id {GUID_A.upper()} is also tenants\[0\]'s: list each"
    ):
        load_config(write(tmp_path, text), SECRET_ENV)


TENANT = (
    f"tenants:\n  - {{name: contoso, tenant_id: {GUID_A}, client_id: {GUID_C}, client_secret_env: READER_SECRET}}\n"
)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("", None),  # not set: the run's start
        ("as_of: 2026-11-01T06:30:00Z\n", "2026-11-01T06:30:00+00:00"),
        ("as_of: '2026-11-01T08:30:00+02:00'\n", "2026-11-01T06:30:00+00:00"),
        ("as_of: 2026-11-01\n", "2026-11-01T00:00:00+00:00"),  # a date is its midnight, UTC
        ("as_of: '2026-11-01 06:30'\n", "2026-11-01T06:30:00+00:00"),  # no offset: UTC
    ],
)
def test_as_of_in_the_file_is_an_instant_in_utc(tmp_path: Path, as_of: str, expected: str | None) -> None:
    config = load_config(write(tmp_path, as_of + TENANT), SECRET_ENV)
    assert (config.as_of.isoformat() if config.as_of else None) == expected


def test_pimlens_as_of_in_the_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "as_of: 2026-11-01\n" + TENANT)
    config = load_config(path, {**SECRET_ENV, "PIMLENS_AS_OF": "2026-06-30T12:00:00Z"})
    assert config.as_of is not None and config.as_of.isoformat() == "2026-06-30T12:00:00+00:00"


def test_a_bad_as_of_names_where_it_is_and_what_to_write(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"pimlens.yaml: as_of must be an ISO-8601 instant such as 2026-11-01T00"):
        load_config(write(tmp_path, "as_of: next tuesday\n" + TENANT), SECRET_ENV)
    with pytest.raises(ConfigError, match=r"^PIMLENS_AS_OF in the environment must be an ISO-8601 instant"):
        load_config(write(tmp_path, TENANT), {**SECRET_ENV, "PIMLENS_AS_OF": "yesterday"})


CHANNELS = """alert_channels:
  oncall: {type: teams, url_env: TEAMS_URL, min_severity: medium}
  siem: {type: webhook, url: "https://127.0.0.1:9/hook", secret_env: SIEM_KEY}
  mail: {type: smtp, host: 127.0.0.1, port: 2525, username: pimlens, password_env: SMTP_PASSWORD,
         from: pimlens@contoso.test, to: [soc@contoso.test]}
tenants:
  - {name: contoso, tenant_id: $T1, client_id: $C1, client_secret_env: READER_SECRET, alert_channels: [oncall, mail]}
"""
CHANNEL_ENV = {**SECRET_ENV, "TEAMS_URL": "https://127.0.0.1:9/flow?sig=abc", "SIEM_KEY": "k", "SMTP_PASSWORD": "p"}


def test_alert_channels_take_their_secrets_from_the_variables_they_name(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CHANNELS), CHANNEL_ENV)
    assert config.tenants[0].alert_channels == ("oncall", "mail")
    oncall, siem, mail = (config.alert_channels[name] for name in ("oncall", "siem", "mail"))
    assert (oncall.url, siem.signing_secret, mail.password) == ("https://127.0.0.1:9/flow?sig=abc", "k", "p")
    assert oncall.accepts("high") and not oncall.accepts("low") and mail.accepts("low")
    assert not any(secret in repr(config.alert_channels) for secret in ("sig=abc", "'k'", "'p'"))
    # dbt and every other child process get none of them.
    assert {"TEAMS_URL", "SIEM_KEY", "SMTP_PASSWORD", "READER_SECRET"} <= set(config.secret_variables)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("SMTP_PASSWORD", None), "alert_channels.mail.password_env names SMTP_PASSWORD, but that environment"),
        (("alert_channels: [oncall, mail]", "alert_channels: [pager]"), "alert_channels names 'pager', which"),
        (("type: teams", "type: pager"), "alert_channels.oncall must be a mapping whose type is one of"),
        (("min_severity: medium", "min_severity: urgent"), "alert_channels.oncall.min_severity must be one of"),
        (('url: "https://127.0.0.1:9/hook", ', ""), "alert_channels.siem needs exactly one of url or url_env"),
    ],
)
def test_a_bad_alert_channel_names_what_to_fix(tmp_path: Path, change: tuple, message: str) -> None:
    old, new = change
    env = dict(CHANNEL_ENV)
    text = CHANNELS
    if new is None:
        env.pop(old)
    else:
        text = text.replace(old, new)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_config(write(tmp_path, text), env)
