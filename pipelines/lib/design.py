"""The programme design: what the PIM rollout intends, as one YAML file checked before anything reads it.

The file (its path in ``PIMLENS_DESIGN``; ``design/default.yaml`` documents every key) declares the tiers and
what each tier requires of a role's PIM policy, the organisation's own tier for roles, the break-glass accounts,
approvers, business hours and time zones, the rollout waves, the alert thresholds and how often privileged roles
must be reviewed. The warehouse compares the
tenant with it: the compliance matrix takes its expected values from here, the alerts their thresholds.

An unknown key or a bad value is a ``DesignError`` that names the key path and what is expected there, e.g.
``tiers.tier0.max_activation: expected an ISO-8601 duration like PT2H, got 'two hours'``.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from pipelines.lib import paths
from pipelines.lib.config import GUID

DESIGN_ENV = "PIMLENS_DESIGN"
TIERS = ("tier0", "tier1", "tier2")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# The built-in roles by name (the seed every mart classifies roles with): what a role_tiers key may name.
ROLE_CATALOGUE_FILE = paths.DBT_PROJECT_DIR / "seeds" / "role_classification.csv"


class DesignError(ValueError):
    """The design file is wrong; the message names the key path and what belongs there."""


@dataclass(frozen=True)
class TierRequirements:
    """What a tier requires of its roles' PIM policies; None means the design sets no requirement."""

    approval_required: bool | None = None
    min_approvers: int | None = None
    mfa_on_activation: bool | None = None
    justification_required: bool | None = None
    ticket_required: bool | None = None
    max_activation_seconds: int | None = None
    permanent_eligibility_allowed: bool | None = None
    min_activation_notification_recipients: int | None = None


@dataclass(frozen=True)
class BusinessHours:
    start: time
    end: time
    days: tuple[str, ...]
    default_time_zone: str
    time_zones_by_usage_location: Mapping[str, str]


@dataclass(frozen=True)
class RolloutWave:
    name: str
    starts_on: date
    departments: tuple[str, ...]


@dataclass(frozen=True)
class AlertThresholds:
    # Defaults: pim-rules.md and graph-pim.md section 10 (PIM's own alert settings).
    repeated_activation_window_seconds: int = 3600
    repeated_activation_count: int = 3
    stale_eligibility_days: int = 30
    too_many_global_admins_count: int = 3
    too_many_global_admins_share: float = 0.10
    membership_burst_window_seconds: int = 3600
    membership_burst_count: int = 4
    # An after-hours activation is unusual, and alerted, unless the same user made at least usual_count activations
    # after hours in the baseline before it (pim-rules.md (b) 4: a per-user baseline; the seed: "unusual elevation
    # patterns"). usual_count 0 alerts on every after-hours activation.
    after_hours_baseline_seconds: int = 30 * 24 * 3600
    after_hours_usual_count: int = 1
    # A privileged account with no successful sign-in for this many days is stale (PIM's StaleSignIn alert).
    stale_sign_in_days: int = 30


ALERT_RULES = (
    "after_hours_activation",
    "repeated_activation",
    "assignment_outside_pim",
    "too_many_global_admins",
    "no_mfa_on_activation",
    "stale_eligibility",
    "break_glass_used",
    "membership_burst",
)
SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class AlertSuppression:
    """Alerts of one rule about one principal (a UPN or an object id) are kept but not sent, until a day."""

    rule: str
    principal: str
    until: date | None
    reason: str


@dataclass(frozen=True)
class AlertLifecycle:
    # An event alert nobody acknowledged is closed this long after its event (docs/alerts.md).
    event_alert_max_age_seconds: int = 7 * 24 * 3600
    severity: Mapping[str, str] = field(default_factory=dict)  # rule -> severity, over the rule's own
    suppressions: tuple[AlertSuppression, ...] = ()


@dataclass(frozen=True)
class AccessReviewCadence:
    # Default: pim-rules.md rule 15, privileged roles are reviewed monthly or more often.
    max_days_since_review: int = 31


@dataclass(frozen=True)
class ExpiringAccess:
    # Eligibilities and assignments ending within this many days of the evaluation instant are "expiring"
    # (fct_expiring_access): long enough to renew or let go on purpose.
    horizon_days: int = 30


@dataclass(frozen=True)
class Advice:
    # Advice from behaviour (fct_policy_advice): a role's maximum activation is advised lower when, over at least
    # min_activations ended activations, the duration_percentile of the durations used, rounded up to whole hours,
    # is at most max_activation_share of the maximum its policy allows.
    min_activations: int = 10
    duration_percentile: float = 0.95
    max_activation_share: float = 0.5
    # Approval is advised dropped on a role no tier requirement asks it of (tier 2 by default) when at least
    # min_decisions of its requests were decided and at least drop_approval_min_rate of them approved.
    min_decisions: int = 10
    drop_approval_min_rate: float = 0.98


@dataclass(frozen=True)
class DataQuality:
    # A load that sets aside more records than this blocks its collection's checks; any at all warns.
    max_quarantined_records: int = 100
    # A collection whose latest load the models may read committed longer ago than this makes the metrics that
    # need it unknown (metric_sources seed), as a collection the last run could not read does.
    max_collection_age_seconds: int = 3 * 24 * 3600


@dataclass(frozen=True)
class UnreadableInputs:
    # A metric reads as unknown when more than this share of its input rows could not be understood (a lifecycle
    # row without any request id, a role id no catalogue knows, a policy without rules); at or below it, the metric
    # is computed from the rows understood and fct_unreadable_inputs says how many were left out and why.
    max_unreadable_share: float = 0.01


@dataclass(frozen=True)
class Design:
    source: Path
    tiers: Mapping[str, TierRequirements]
    role_tiers: Mapping[str, str]  # role template id -> tier
    break_glass_accounts: tuple[str, ...]  # user principal names
    approvers: Mapping[str, tuple[str, ...]]  # tier -> user principal names
    notification_recipients: Mapping[str, tuple[str, ...]]  # tier -> addresses
    business_hours: BusinessHours
    baseline_date: date | None
    waves: tuple[RolloutWave, ...]
    alert_thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    access_reviews: AccessReviewCadence = field(default_factory=AccessReviewCadence)
    data_quality: DataQuality = field(default_factory=DataQuality)
    unreadable_inputs: UnreadableInputs = field(default_factory=UnreadableInputs)
    alerts: AlertLifecycle = field(default_factory=AlertLifecycle)
    expiring_access: ExpiringAccess = field(default_factory=ExpiringAccess)
    advice: Advice = field(default_factory=Advice)


def parse_duration(value: Any, where: str) -> int:
    """An ISO-8601 duration (days, hours, minutes, seconds) in whole seconds."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or value in ("P", "PT") or value.endswith("T"):
        raise DesignError(f"{where}: expected an ISO-8601 duration like PT2H, got {value!r}")
    days, hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def load_design(path: Path) -> Design:
    if not path.is_file():
        raise DesignError(f"No programme design at {path}: create it (see design/default.yaml) or point {DESIGN_ENV}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DesignError(f"{path} is not valid YAML: {error}") from error
    try:
        return parse_design(document, path)
    except DesignError as error:
        raise DesignError(f"{path}: {error}") from None


def parse_design(document: Any, source: Path) -> Design:
    top = _mapping(
        document,
        "",
        {
            "version",
            "tiers",
            "role_tiers",
            "break_glass_accounts",
            "approvers",
            "notification_recipients",
            "business_hours",
            "rollout",
            "alert_thresholds",
            "access_reviews",
            "data_quality",
            "unreadable_inputs",
            "alerts",
            "expiring_access",
            "advice",
        },
    )
    if top.get("version", 1) != 1:
        raise DesignError(f"version: expected 1, got {top['version']!r}")
    tiers_doc = _mapping(top.get("tiers", {}), "tiers", set(TIERS))
    tiers = {tier: _tier(tiers_doc.get(tier) or {}, f"tiers.{tier}") for tier in TIERS}
    role_tiers_doc = _mapping(top.get("role_tiers", {}), "role_tiers", None)
    catalogue = role_catalogue()
    role_tiers: dict[str, str] = {}
    for key, value in role_tiers_doc.items():
        template_id = _role_template_id(key, catalogue)
        if template_id in role_tiers:
            raise DesignError(f"role_tiers.{key}: the role {template_id} is already given a tier; keep one entry")
        role_tiers[template_id] = _choice(value, f"role_tiers.{key}", TIERS)
    return Design(
        source=source,
        tiers=tiers,
        role_tiers=role_tiers,
        break_glass_accounts=_strings(top.get("break_glass_accounts", []), "break_glass_accounts"),
        approvers=_per_tier(top.get("approvers", {}), "approvers"),
        notification_recipients=_per_tier(top.get("notification_recipients", {}), "notification_recipients"),
        business_hours=_business_hours(top.get("business_hours", {})),
        **_rollout(top.get("rollout", {})),
        alert_thresholds=_thresholds(top.get("alert_thresholds", {})),
        access_reviews=_access_reviews(top.get("access_reviews", {})),
        data_quality=_data_quality(top.get("data_quality", {})),
        unreadable_inputs=_unreadable_inputs(top.get("unreadable_inputs", {})),
        alerts=_alert_lifecycle(top.get("alerts", {})),
        expiring_access=_expiring_access(top.get("expiring_access", {})),
        advice=_advice(top.get("advice", {})),
    )


# -- sections --------------------------------------------------------------------------------------------------


def _tier(doc: Any, where: str) -> TierRequirements:
    keys = {
        "approval_required": _bool,
        "min_approvers": _count,
        "mfa_on_activation": _bool,
        "justification_required": _bool,
        "ticket_required": _bool,
        "max_activation": parse_duration,
        "permanent_eligibility_allowed": _bool,
        "min_activation_notification_recipients": _count,
    }
    doc = _mapping(doc, where, set(keys))
    values = {key: keys[key](value, f"{where}.{key}") for key, value in doc.items() if value is not None}
    if "max_activation" in values:
        values["max_activation_seconds"] = values.pop("max_activation")
    return TierRequirements(**values)


def _business_hours(doc: Any) -> BusinessHours:
    where = "business_hours"
    doc = _mapping(doc, where, {"start", "end", "days", "default_time_zone", "time_zones_by_usage_location"})
    start = _clock(doc.get("start", "08:00"), f"{where}.start")
    end = _clock(doc.get("end", "19:00"), f"{where}.end")
    if end <= start:
        raise DesignError(f"{where}.end: expected a time after start ({start:%H:%M}), got {end:%H:%M}")
    days = _strings(doc.get("days", list(WEEKDAYS[:5])), f"{where}.days")
    for index, day in enumerate(days):
        _choice(day, f"{where}.days[{index}]", WEEKDAYS)
    zones_doc = _mapping(doc.get("time_zones_by_usage_location", {}), f"{where}.time_zones_by_usage_location", None)
    zones = {
        str(country): _zone(zone, f"{where}.time_zones_by_usage_location.{country}")
        for country, zone in zones_doc.items()
    }
    return BusinessHours(
        start=start,
        end=end,
        days=days,
        default_time_zone=_zone(doc.get("default_time_zone", "UTC"), f"{where}.default_time_zone"),
        time_zones_by_usage_location=zones,
    )


def _rollout(doc: Any) -> dict[str, Any]:
    doc = _mapping(doc, "rollout", {"baseline_date", "waves"})
    baseline = _date(doc["baseline_date"], "rollout.baseline_date") if "baseline_date" in doc else None
    waves = []
    for where, wave in _mappings(doc.get("waves", []), "rollout.waves", "waves", {"name", "starts_on", "departments"}):
        if not isinstance(wave.get("name"), str) or not wave["name"].strip():
            raise DesignError(f"{where}.name: expected a non-empty name, got {wave.get('name')!r}")
        waves.append(
            RolloutWave(
                name=wave["name"],
                starts_on=_date(wave.get("starts_on"), f"{where}.starts_on"),
                departments=_strings(wave.get("departments", []), f"{where}.departments"),
            )
        )
    names = [wave.name for wave in waves]
    if len(set(names)) != len(names):
        raise DesignError(f"rollout.waves: wave names must be unique, got {names}")
    return {"baseline_date": baseline, "waves": tuple(waves)}


def _thresholds(doc: Any) -> AlertThresholds:
    where = "alert_thresholds"
    sections = {
        "repeated_activation": {"window": parse_duration, "count": _count},
        "stale_eligibility": {"days": _count},
        "too_many_global_admins": {"count": _count, "share": _fraction},
        "membership_burst": {"window": parse_duration, "count": _count},
        "after_hours": {"baseline": parse_duration, "usual_count": _count},
        "stale_sign_in": {"days": _count},
    }
    doc = _mapping(doc, where, set(sections))
    values: dict[str, Any] = {}
    for section, keys in sections.items():
        part = _mapping(doc.get(section, {}), f"{where}.{section}", set(keys))
        for key, value in part.items():
            parsed = keys[key](value, f"{where}.{section}.{key}")
            name = f"{section}_{key}_seconds" if key in ("window", "baseline") else f"{section}_{key}"
            values[name] = parsed
    return AlertThresholds(**values)


def _alert_lifecycle(doc: Any) -> AlertLifecycle:
    where = "alerts"
    doc = _mapping(doc, where, {"event_alert_max_age", "severity", "suppressions"})
    values: dict[str, Any] = {}
    if "event_alert_max_age" in doc:
        seconds = parse_duration(doc["event_alert_max_age"], f"{where}.event_alert_max_age")
        if seconds == 0:
            raise DesignError(f"{where}.event_alert_max_age: expected a duration longer than zero, like P7D")
        values["event_alert_max_age_seconds"] = seconds
    severity_doc = _mapping(doc.get("severity", {}), f"{where}.severity", set(ALERT_RULES))
    values["severity"] = {
        rule: _choice(value, f"{where}.severity.{rule}", SEVERITIES) for rule, value in severity_doc.items()
    }
    suppressions = []
    entries = _mappings(
        doc.get("suppressions", []), f"{where}.suppressions", "suppressions", {"rule", "principal", "until", "reason"}
    )
    for at, entry in entries:
        for key in ("rule", "principal", "reason"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise DesignError(f"{at}.{key}: required, a non-empty string")
        suppressions.append(
            AlertSuppression(
                rule=_choice(entry["rule"], f"{at}.rule", ALERT_RULES),
                principal=entry["principal"].strip().lower(),
                until=_date(entry["until"], f"{at}.until") if "until" in entry else None,
                reason=entry["reason"],
            )
        )
    values["suppressions"] = tuple(suppressions)
    return AlertLifecycle(**values)


def _access_reviews(doc: Any) -> AccessReviewCadence:
    where = "access_reviews"
    doc = _mapping(doc, where, {"max_days_since_review"})
    if "max_days_since_review" not in doc:
        return AccessReviewCadence()
    days = _count(doc["max_days_since_review"], f"{where}.max_days_since_review")
    if days == 0:
        raise DesignError(f"{where}.max_days_since_review: expected at least 1 day, got 0")
    return AccessReviewCadence(max_days_since_review=days)


def _expiring_access(doc: Any) -> ExpiringAccess:
    where = "expiring_access"
    doc = _mapping(doc, where, {"horizon_days"})
    if "horizon_days" not in doc:
        return ExpiringAccess()
    days = _count(doc["horizon_days"], f"{where}.horizon_days")
    if days == 0:
        raise DesignError(f"{where}.horizon_days: expected at least 1 day, got 0")
    return ExpiringAccess(horizon_days=days)


def _advice(doc: Any) -> Advice:
    where = "advice"
    doc = _mapping(
        doc,
        where,
        {"min_activations", "duration_percentile", "max_activation_share", "min_decisions", "drop_approval_min_rate"},
    )
    values: dict[str, Any] = {}
    for key, what in (("min_activations", "activation"), ("min_decisions", "decision")):
        if key in doc:
            values[key] = _count(doc[key], f"{where}.{key}")
            if values[key] == 0:
                raise DesignError(f"{where}.{key}: expected at least 1 {what}, got 0")
    for key in ("duration_percentile", "max_activation_share", "drop_approval_min_rate"):
        if key in doc:
            values[key] = _fraction(doc[key], f"{where}.{key}")
            if values[key] == 0:
                raise DesignError(f"{where}.{key}: expected a fraction above 0, got 0")
    return Advice(**values)


def _data_quality(doc: Any) -> DataQuality:
    where = "data_quality"
    doc = _mapping(doc, where, {"max_quarantined_records", "max_collection_age"})
    values: dict[str, int] = {}
    if "max_quarantined_records" in doc:
        values["max_quarantined_records"] = _count(doc["max_quarantined_records"], f"{where}.max_quarantined_records")
    if "max_collection_age" in doc:
        seconds = parse_duration(doc["max_collection_age"], f"{where}.max_collection_age")
        if seconds == 0:
            raise DesignError(f"{where}.max_collection_age: expected a duration longer than zero, like P3D")
        values["max_collection_age_seconds"] = seconds
    return DataQuality(**values)


def role_catalogue() -> dict[str, str]:
    """The built-in roles' template ids by display name, from the role classification seed."""
    with ROLE_CATALOGUE_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["role_name"]: row["template_id"] for row in csv.DictReader(handle)}


def _role_template_id(key: Any, catalogue: Mapping[str, str]) -> str:
    """A role_tiers key as a role template id: a GUID as it is (custom roles have no name pimlens knows), a
    built-in role's display name resolved to its id, anything else rejected with the closest role name."""
    text = str(key).strip()
    if GUID.match(text):
        return text.lower()
    by_folded_name = {name.casefold(): template_id for name, template_id in catalogue.items()}
    if text.casefold() in by_folded_name:
        return by_folded_name[text.casefold()]
    closest = difflib.get_close_matches(text, list(catalogue), n=1, cutoff=0.5)
    hint = (
        f"did you mean {closest[0]!r} ({catalogue[closest[0]]})?" if closest else "no built-in role has a similar name"
    )
    raise DesignError(
        f"role_tiers.{key}: expected a role template id (a GUID) or a built-in role's display name; {hint}"
    )


def _unreadable_inputs(doc: Any) -> UnreadableInputs:
    where = "unreadable_inputs"
    doc = _mapping(doc, where, {"max_unreadable_share"})
    if "max_unreadable_share" not in doc:
        return UnreadableInputs()
    return UnreadableInputs(
        max_unreadable_share=_fraction(doc["max_unreadable_share"], f"{where}.max_unreadable_share")
    )


# -- values -----------------------------------------------------------------------------------------------------


def _mapping(value: Any, where: str, allowed: set[str] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DesignError(f"{where or 'the design'}: expected a mapping, got {value!r}")
    if allowed is not None:
        unknown = sorted(str(key) for key in value if key not in allowed)
        if unknown:
            key = f"{where}.{unknown[0]}" if where else unknown[0]
            raise DesignError(f"{key}: unknown key; allowed keys are {sorted(allowed)}")
    return value


def _mappings(value: Any, where: str, what: str, allowed: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each entry of a list of mappings, with its key path (``rollout.waves[0]``)."""
    if not isinstance(value, list):
        raise DesignError(f"{where}: expected a list of {what}, got {value!r}")
    for index, entry in enumerate(value):
        yield f"{where}[{index}]", _mapping(entry, f"{where}[{index}]", allowed)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise DesignError(f"{where}: expected true or false, got {value!r}")
    return value


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DesignError(f"{where}: expected a whole number of 0 or more, got {value!r}")
    return value


def _fraction(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise DesignError(f"{where}: expected a fraction between 0 and 1 (0.1 for 10 %), got {value!r}")
    return float(value)


def _choice(value: Any, where: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise DesignError(f"{where}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise DesignError(f"{where}: expected a list of non-empty strings, got {value!r}")
    return tuple(value)


def _per_tier(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    doc = _mapping(value, where, set(TIERS))
    return {tier: _strings(items, f"{where}.{tier}") for tier, items in doc.items()}


def _clock(value: Any, where: str) -> time:
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise DesignError(f"{where}: expected a time of day like 08:00, got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise DesignError(f"{where}: expected a date like 2026-01-31, got {value!r}") from None


def _zone(value: Any, where: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, TypeError, ValueError):
        raise DesignError(f"{where}: expected an IANA time zone like Europe/Amsterdam, got {value!r}") from None
    return value
