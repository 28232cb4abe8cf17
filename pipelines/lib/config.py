"""The pimlens configuration file: which tenants to read, how to reach them, where the warehouse lives.

One YAML file (its path in ``PIMLENS_CONFIG``) declares the tenants; secrets are never in it, only the name of
the environment variable that holds each one. The demo writes its own file pointing at the emulator, so a real
tenant differs from the demo only in this file. The warehouse file is ``PIMLENS_WAREHOUSE``, because dbt reads
it from the environment too.

```yaml
# as_of: 2026-11-01T00:00:00Z             # the evaluation instant ("now" of every window and verdict); default:
#                                         # the run's start. PIMLENS_AS_OF overrides it.
pseudonymise:                             # optional: keyed pseudonyms in everything that leaves the raw layer
  key_env: PIMLENS_PSEUDONYM_KEY          # the variable holding the key (at least 16 characters)
tenants:                                  # relative paths are relative to this file
  - name: contoso
    tenant_id: 00000000-0000-0000-0000-000000000000
    client_id: 11111111-1111-1111-1111-111111111111
    client_secret_env: PIMLENS_CLIENT_SECRET      # or certificate_path: reader.pem
    # credential: secret (with client_secret_env), certificate (with certificate_path), managed_identity,
    #   workload_identity (federated_token_file, else AZURE_FEDERATED_TOKEN_FILE), azure_cli or default
    #   (DefaultAzureCredential's chain); client_id is optional for managed_identity (a user-assigned identity's
    #   client id) and default, and not used by azure_cli
    # cloud: public (default), usgov or china: the defaults of the four URLs below and the tokens' audiences
    # graph_url, authority_url, log_analytics_url, management_url: override the cloud's endpoint
    # ca_bundle: only for a TLS-inspecting proxy or the emulator
    # log_analytics_workspace_id: where AuditLogs and SigninLogs are streamed; without it they are "not_configured"
    # history_days: 30                        # how far back a first run reads Log Analytics
    # azure_subscriptions: [subscription ids]  # Azure RBAC and PIM for Azure resources; needs Reader there
    # alert_channels: [oncall]                 # where this tenant's alerts go (names below)
alert_channels:                           # optional; docs/alerts.md describes every key
  oncall: {type: teams, url_env: PIMLENS_TEAMS_WEBHOOK_URL, min_severity: medium}
```
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from pipelines.lib.clouds import CLOUDS, PUBLIC, Cloud
from pipelines.lib.privacy import Pseudonymiser

GRAPH_URL = PUBLIC.graph_url
AUTHORITY_URL = PUBLIC.authority_url
LOG_ANALYTICS_URL = PUBLIC.log_analytics_url
MANAGEMENT_URL = PUBLIC.management_url
CONFIG_ENV = "PIMLENS_CONFIG"

TENANT_KEYS = {
    "name",
    "tenant_id",
    "client_id",
    "client_secret_env",
    "certificate_path",
    "graph_url",
    "authority_url",
    "log_analytics_url",
    "ca_bundle",
    "log_analytics_workspace_id",
    "history_days",
    "management_url",
    "azure_subscriptions",
    "credential",
    "cloud",
    "federated_token_file",
    "alert_channels",
}
# How the pipeline gets its tokens (pipelines/lib/credentials.py builds each with azure-identity).
CREDENTIALS = ("secret", "certificate", "managed_identity", "workload_identity", "azure_cli", "default")
# The kinds that need no application id of their own: the identity is the machine's, the CLI login's or the chain's.
CLIENT_ID_OPTIONAL = frozenset({"managed_identity", "azure_cli", "default"})
FEDERATED_TOKEN_ENV = "AZURE_FEDERATED_TOKEN_FILE"
TOP_KEYS = {"tenants", "as_of", "pseudonymise", "alert_channels"}
CHANNEL_TYPES = ("teams", "webhook", "smtp")
CHANNEL_KEYS = {
    "teams": {"type", "min_severity", "url_env"},
    "webhook": {"type", "min_severity", "url", "url_env", "secret_env"},
    "smtp": {"type", "min_severity", "host", "port", "starttls", "username", "password_env", "from", "to"},
}
SEVERITY_ORDER = ("low", "medium", "high")
PSEUDONYMISE_KEYS = {"key_env"}
WAREHOUSE_ENV = "PIMLENS_WAREHOUSE"
# Entra tenant, application, workspace and subscription ids are all GUIDs; every warehouse row carries tenant_id.
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
AS_OF_ENV = "PIMLENS_AS_OF"


class ConfigError(ValueError):
    """The configuration is wrong; the message names the file, the key and what to put there."""


@dataclass(frozen=True)
class TenantSettings:
    name: str
    tenant_id: str
    # None only for a credential that brings its own identity (CLIENT_ID_OPTIONAL).
    client_id: str | None
    client_secret: str | None = field(default=None, repr=False)
    certificate_path: Path | None = None
    graph_url: str = GRAPH_URL
    authority_url: str = AUTHORITY_URL
    log_analytics_url: str = LOG_ANALYTICS_URL
    ca_bundle: Path | None = None
    log_analytics_workspace_id: str | None = None
    # How far back a first run reads event logs that keep more than Graph's 30 days (Log Analytics).
    history_days: int = 30
    management_url: str = MANAGEMENT_URL
    azure_subscriptions: tuple[str, ...] = ()
    # One of CREDENTIALS; secret and certificate are the app registration's own.
    credential: str = "secret"
    cloud: Cloud = PUBLIC
    # workload_identity's token from the federated identity provider; None: AZURE_FEDERATED_TOKEN_FILE's.
    federated_token_file: Path | None = None
    # The names of the alert channels this tenant's alerts go to (PimlensConfig.alert_channels).
    alert_channels: tuple[str, ...] = ()

    @property
    def is_custom_authority(self) -> bool:
        """An authority no national cloud has (an emulator): MSAL must not ask Microsoft to discover it."""
        return all(self.authority_url != cloud.authority_url for cloud in CLOUDS.values())

    @property
    def identity(self) -> str:
        """Who asks for tokens, as a person reading a message would name it."""
        if self.credential in ("secret", "certificate", "workload_identity"):
            return f"application {self.client_id} ({self.credential.replace('_', ' ')})"
        if self.credential == "managed_identity":
            return f"managed identity {self.client_id or '(system-assigned)'}"
        return "the Azure CLI login" if self.credential == "azure_cli" else "DefaultAzureCredential's chain"


@dataclass(frozen=True)
class AlertChannel:
    """One place alerts are delivered to. Secrets (a Teams Workflows URL carries its own signature, a webhook's
    signing key, an SMTP password) come from the environment variables the configuration names."""

    name: str
    kind: str  # teams, webhook or smtp
    min_severity: str = "low"
    url: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str | None = None
    recipients: tuple[str, ...] = ()

    def accepts(self, severity: str) -> bool:
        return SEVERITY_ORDER.index(severity) >= SEVERITY_ORDER.index(self.min_severity)


@dataclass(frozen=True)
class PimlensConfig:
    source: Path
    tenants: tuple[TenantSettings, ...]
    # The evaluation instant every window and verdict of the transform uses; None: the run's start.
    as_of: datetime | None = None
    # The key of the `pseudonymise` option, None when personal values are published as read.
    pseudonym_key: bytes | None = field(default=None, repr=False)
    # The names of the environment variables that hold secrets, which no child process but the pipeline needs.
    secret_variables: tuple[str, ...] = ()
    # Where alerts are delivered, by channel name; each tenant names the ones it uses.
    alert_channels: Mapping[str, AlertChannel] = field(default_factory=dict)

    def pseudonymiser(self) -> Pseudonymiser | None:
        return Pseudonymiser(self.pseudonym_key) if self.pseudonym_key is not None else None

    @property
    def tenant_names(self) -> tuple[str, ...]:
        return tuple(tenant.name for tenant in self.tenants)

    def tenant_named(self, name: str) -> TenantSettings:
        for tenant in self.tenants:
            if tenant.name == name:
                return tenant
        raise ConfigError(
            f"{self.source} has no tenant named {name!r} (it lists {list(self.tenant_names)}): add it there, "
            "or let the partition sync remove the partition of a tenant that was taken out."
        )


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> PimlensConfig:
    env = os.environ if environ is None else environ
    if not path.is_file():
        raise ConfigError(f"No pimlens configuration at {path}: create it, or point {CONFIG_ENV} at one.")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise ConfigError(f"{path} must be a mapping with the keys {sorted(TOP_KEYS)}.")
    _reject_unknown(path, "", document, TOP_KEYS)
    tenants = document.get("tenants")
    if not isinstance(tenants, list) or not tenants:
        raise ConfigError(f"{path}: 'tenants' must be a list with at least one tenant.")
    channels = _alert_channels(path, document.get("alert_channels"), env)
    parsed = tuple(_tenant(path, index, entry, env) for index, entry in enumerate(tenants))
    for index, tenant in enumerate(parsed):
        for name in tenant.alert_channels:
            if name not in channels:
                raise ConfigError(
                    f"{path}: tenants[{index}].alert_channels names {name!r}, which alert_channels does not define "
                    f"(it defines {sorted(channels)})."
                )
    names = [tenant.name for tenant in parsed]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: tenant names must be unique, got {names}.")
    ids = [tenant.tenant_id.lower() for tenant in parsed]
    for index, tenant_id in enumerate(ids):
        if tenant_id in ids[:index]:
            raise ConfigError(
                f"{path}: tenants[{index}].tenant_id {parsed[index].tenant_id} is also tenants[{ids.index(tenant_id)}]"
                "'s: list each tenant once (several names for one tenant would land its rows twice)."
            )
    if env.get(AS_OF_ENV):
        as_of = parse_as_of(env[AS_OF_ENV], f"{AS_OF_ENV} in the environment")
    else:
        as_of = parse_as_of(document.get("as_of"), f"{path}: as_of")
    return PimlensConfig(
        source=path,
        tenants=parsed,
        as_of=as_of,
        pseudonym_key=_pseudonym_key(path, document.get("pseudonymise"), env),
        secret_variables=_secret_variables(document),
        alert_channels=channels,
    )


def parse_as_of(value: Any, where: str) -> datetime | None:
    """An evaluation instant as an aware UTC datetime: an ISO-8601 date or time (UTC when it names no offset)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                f"{where} must be an ISO-8601 instant such as 2026-11-01T00:00:00Z, got {value!r}."
            ) from None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ConfigError(f"{where} must be an ISO-8601 instant such as 2026-11-01T00:00:00Z, got {value!r}.")


def secret_variable_names(path: Path) -> tuple[str, ...]:
    """The environment variables that hold the secrets of the configuration file `path` (none if unreadable)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return ()
    return _secret_variables(document) if isinstance(document, dict) else ()


def _secret_variables(document: dict[str, Any]) -> tuple[str, ...]:
    names = [entry.get("client_secret_env") for entry in document.get("tenants") or [] if isinstance(entry, dict)]
    option = document.get("pseudonymise")
    names.append(option.get("key_env") if isinstance(option, dict) else None)
    channels = document.get("alert_channels")
    for channel in (channels or {}).values() if isinstance(channels, dict) else ():
        if isinstance(channel, dict):
            names.extend(channel.get(key) for key in ("url_env", "secret_env", "password_env"))
    return tuple(dict.fromkeys(str(name) for name in names if isinstance(name, str) and name))


def _pseudonym_key(path: Path, option: Any, env: Mapping[str, str]) -> bytes | None:
    if option is None:
        return None
    if not isinstance(option, dict) or not isinstance(option.get("key_env"), str) or not option["key_env"]:
        raise ConfigError(f"{path}: pseudonymise must be a mapping with key_env, the variable that holds the key.")
    _reject_unknown(path, "pseudonymise.", option, PSEUDONYMISE_KEYS)
    key = env.get(option["key_env"], "")
    if len(key) < 16:
        raise ConfigError(
            f"{path}: pseudonymise.key_env names {option['key_env']}, which must hold a key of at least 16 "
            "characters (it is unset or shorter): set it, and keep it, since another key gives other pseudonyms."
        )
    return key.encode("utf-8")


def _tenant(path: Path, index: int, entry: Any, env: Mapping[str, str]) -> TenantSettings:
    where = f"tenants[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: {where} must be a mapping.")
    _reject_unknown(path, f"{where}.", entry, TENANT_KEYS)
    for key in ("name", "tenant_id"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ConfigError(f"{path}: {where}.{key} is required (a non-empty string).")
    _guid(path, f"{where}.tenant_id", entry["tenant_id"])
    credential = _credential_kind(path, where, entry)
    client_id = entry.get("client_id")
    if client_id is None and credential not in CLIENT_ID_OPTIONAL:
        raise ConfigError(f"{path}: {where}.client_id is required for credential {credential} (the app's id).")
    if client_id is not None:
        _guid(path, f"{where}.client_id", client_id)
    secret = None
    if credential == "secret":
        secret_env = entry["client_secret_env"]
        secret = env.get(str(secret_env))
        if not secret:
            raise ConfigError(
                f"{path}: {where}.client_secret_env names {secret_env}, but that environment variable is not set."
            )
    cert_path = _resolve(path, entry["certificate_path"]) if credential == "certificate" else None
    if cert_path is not None and not cert_path.is_file():
        raise ConfigError(f"{path}: {where}.certificate_path {cert_path} is not a file.")
    token_file = _federated_token_file(path, where, entry, env) if credential == "workload_identity" else None
    cloud_name = entry.get("cloud", "public")
    if cloud_name not in CLOUDS:
        raise ConfigError(f"{path}: {where}.cloud must be one of {sorted(CLOUDS)}, got {cloud_name!r}.")
    cloud = CLOUDS[cloud_name]
    ca = _resolve(path, entry["ca_bundle"]) if entry.get("ca_bundle") else None
    if ca is not None and not ca.is_file():
        raise ConfigError(f"{path}: {where}.ca_bundle {ca} is not a file.")
    urls = {}
    for key in ("graph_url", "authority_url", "log_analytics_url", "management_url"):
        url = str(entry.get(key) or getattr(cloud, key)).rstrip("/")
        if not url.startswith("https://"):
            raise ConfigError(f"{path}: {where}.{key} must be an https:// URL, got {url!r}.")
        urls[key] = url
    history_days = entry.get("history_days", 30)
    if not isinstance(history_days, int) or isinstance(history_days, bool) or not 1 <= history_days <= 3650:
        raise ConfigError(f"{path}: {where}.history_days must be a whole number of days from 1 to 3650.")
    workspace = entry.get("log_analytics_workspace_id")
    if workspace is not None and (not isinstance(workspace, str) or not workspace.strip()):
        raise ConfigError(f"{path}: {where}.log_analytics_workspace_id must be the workspace id (a string).")
    if workspace is not None:
        _guid(path, f"{where}.log_analytics_workspace_id", workspace)
    subscriptions = entry.get("azure_subscriptions", [])
    if not isinstance(subscriptions, list) or not all(isinstance(s, str) and s for s in subscriptions):
        raise ConfigError(f"{path}: {where}.azure_subscriptions must be a list of subscription ids.")
    for position, subscription in enumerate(subscriptions):
        _guid(path, f"{where}.azure_subscriptions[{position}]", subscription)
    channel_names = entry.get("alert_channels", [])
    if not isinstance(channel_names, list) or not all(isinstance(n, str) and n for n in channel_names):
        raise ConfigError(f"{path}: {where}.alert_channels must be a list of channel names (see alert_channels).")
    return TenantSettings(
        name=entry["name"],
        alert_channels=tuple(channel_names),
        azure_subscriptions=tuple(subscriptions),
        log_analytics_workspace_id=workspace,
        history_days=history_days,
        tenant_id=entry["tenant_id"],
        client_id=client_id,
        client_secret=secret,
        certificate_path=cert_path,
        ca_bundle=ca,
        credential=credential,
        cloud=cloud,
        federated_token_file=token_file,
        **urls,
    )


def _credential_kind(path: Path, where: str, entry: dict[str, Any]) -> str:
    """The credential a tenant entry chooses; without ``credential``, the secret or certificate it names."""
    secret_env, cert = entry.get("client_secret_env"), entry.get("certificate_path")
    credential = entry.get("credential")
    if credential is None:
        if bool(secret_env) == bool(cert):
            raise ConfigError(
                f"{path}: {where} needs exactly one of client_secret_env or certificate_path, or a credential "
                f"({', '.join(CREDENTIALS)})."
            )
        credential = "secret" if secret_env else "certificate"
    if credential not in CREDENTIALS:
        raise ConfigError(f"{path}: {where}.credential must be one of {', '.join(CREDENTIALS)}, got {credential!r}.")
    for key, owner in (("client_secret_env", "secret"), ("certificate_path", "certificate")):
        if credential == owner and not entry.get(key):
            raise ConfigError(f"{path}: {where}.credential {owner} needs {key}.")
        if credential != owner and entry.get(key):
            raise ConfigError(f"{path}: {where}.{key} is only read with credential {owner}: remove it.")
    if entry.get("federated_token_file") and credential != "workload_identity":
        raise ConfigError(f"{path}: {where}.federated_token_file is only read with credential workload_identity.")
    if credential == "azure_cli" and entry.get("client_id"):
        raise ConfigError(f"{path}: {where}.client_id is not used by azure_cli (the login's identity is): remove it.")
    return credential


def _federated_token_file(path: Path, where: str, entry: dict[str, Any], env: Mapping[str, str]) -> Path:
    configured = entry.get("federated_token_file")
    token_file = _resolve(path, configured) if configured else Path(env.get(FEDERATED_TOKEN_ENV) or "")
    if not configured and not env.get(FEDERATED_TOKEN_ENV):
        raise ConfigError(
            f"{path}: {where}.credential workload_identity needs federated_token_file, or {FEDERATED_TOKEN_ENV} set "
            "to the token file your platform projects (Kubernetes, GitHub Actions)."
        )
    if not token_file.is_file():
        raise ConfigError(f"{path}: {where}: the federated token file {token_file} is not a file.")
    return token_file


def _alert_channels(path: Path, document: Any, env: Mapping[str, str]) -> dict[str, AlertChannel]:
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: alert_channels must be a mapping of channel names to channels.")
    return {str(name): _alert_channel(path, str(name), entry, env) for name, entry in document.items()}


def _alert_channel(path: Path, name: str, entry: Any, env: Mapping[str, str]) -> AlertChannel:
    where = f"alert_channels.{name}"
    if not isinstance(entry, dict) or entry.get("type") not in CHANNEL_TYPES:
        raise ConfigError(f"{path}: {where} must be a mapping whose type is one of {', '.join(CHANNEL_TYPES)}.")
    kind = entry["type"]
    _reject_unknown(path, f"{where}.", entry, CHANNEL_KEYS[kind])
    min_severity = entry.get("min_severity", "low")
    if min_severity not in SEVERITY_ORDER:
        raise ConfigError(f"{path}: {where}.min_severity must be one of low, medium, high, got {min_severity!r}.")

    def secret(key: str) -> str:
        variable = entry.get(key)
        if not isinstance(variable, str) or not variable:
            raise ConfigError(f"{path}: {where}.{key} is required: the environment variable that holds it.")
        value = env.get(variable)
        if not value:
            raise ConfigError(f"{path}: {where}.{key} names {variable}, but that environment variable is not set.")
        return value

    def url() -> str:
        if kind == "webhook" and bool(entry.get("url")) == bool(entry.get("url_env")):
            raise ConfigError(f"{path}: {where} needs exactly one of url or url_env.")
        value = entry["url"] if entry.get("url") else secret("url_env")
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise ConfigError(f"{path}: {where}: the webhook address must be an http(s):// URL.")
        return value

    if kind == "teams":
        return AlertChannel(name, kind, min_severity, url=url())
    if kind == "webhook":
        return AlertChannel(name, kind, min_severity, url=url(), signing_secret=secret("secret_env"))
    for key in ("host", "from"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ConfigError(f"{path}: {where}.{key} is required (a non-empty string).")
    recipients = entry.get("to")
    if not isinstance(recipients, list) or not recipients or not all(isinstance(r, str) and r for r in recipients):
        raise ConfigError(f"{path}: {where}.to must be a list of at least one mail address.")
    port = entry.get("port", 25)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ConfigError(f"{path}: {where}.port must be a port number from 1 to 65535.")
    starttls = entry.get("starttls", False)
    if not isinstance(starttls, bool):
        raise ConfigError(f"{path}: {where}.starttls must be true or false.")
    username = entry.get("username")
    return AlertChannel(
        name,
        kind,
        min_severity,
        host=entry["host"],
        port=port,
        starttls=starttls,
        username=username,
        password=secret("password_env") if username else None,
        sender=entry["from"],
        recipients=tuple(recipients),
    )


def _reject_unknown(path: Path, prefix: str, mapping: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise ConfigError(f"{path}: unknown key {prefix}{unknown[0]}; allowed keys are {sorted(allowed)}.")


def _guid(path: Path, where: str, value: Any) -> None:
    if not isinstance(value, str) or not GUID.match(value):
        raise ConfigError(
            f"{path}: {where} must be a GUID like 00000000-0000-0000-0000-000000000000 (the Directory / Application "
            f"ID on the Azure portal's overview page), got {value!r}."
        )


def _resolve(path: Path, value: str) -> Path:
    candidate = Path(value)
    return candidate if candidate.is_absolute() else (path.parent / candidate).resolve()
