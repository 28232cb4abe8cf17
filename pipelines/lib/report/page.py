"""The report as HTML: one self-contained page per tenant and an index across tenants.

Styles are inline, fonts are the reader's system fonts, charts are inline SVG and there is no script; the
Content-Security-Policy forbids every fetch, so the page shows the same offline, from a mail attachment or a share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from pipelines.lib.report import svg
from pipelines.lib.report.data import Publication, TenantReport
from pipelines.lib.report.findings import Finding

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;
color:#1c2833;background:#f4f6f7}
main{max-width:980px;margin:0 auto;padding:24px}
header{background:#1b2631;color:#fdfefe;padding:20px 24px}
header h1{margin:0 0 4px;font-size:1.6em}
header p{margin:0;color:#ccd1d1}
section{background:#fff;border-radius:6px;padding:16px 20px;margin:16px 0;box-shadow:0 1px 2px #0002}
h2{font-size:1.2em;margin:0 0 6px}
p.note{color:#566573;margin:4px 0 10px;font-size:.9em}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.tile{background:#fff;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px #0002}
.tile b{display:block;font-size:1.5em}
.tile span{color:#566573;font-size:.85em}
.unknown{color:#7f8c8d;font-style:italic}
svg.chart{width:100%;height:auto;font-size:11px;fill:#34495e}
svg .grid{stroke:#e5e8e8}
.swatch{display:inline-block;margin-right:14px;font-size:.85em}
.swatch i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #e5e8e8}
td ul{margin:0;padding-left:18px}
.sev{color:#fff;border-radius:3px;padding:1px 6px;font-size:.8em;text-transform:uppercase}
footer{color:#566573;font-size:.85em;padding:0 24px 24px;max-width:980px;margin:0 auto}
"""

TILES = (
    ("standing_privileged_access", "standing privileged access", svg.count),
    ("privileged_access_eligible", "eligible privileged access", svg.count),
    ("eligible_only_principal_share", "privileged principals eligible only", svg.percent),
    ("global_admins", "Global Administrators", svg.count),
    ("approval_rate", "approval rate", svg.percent),
    ("median_approval_latency_seconds", "median approval latency", svg.duration),
    ("role_compliance_failures", "compliance failures", svg.count),
    ("privileged_roles_without_access_review", "privileged roles without review", svg.count),
)


def tenant_page(report: TenantReport, publication: Publication, index_name: str) -> str:
    sections = [*(_chart_section(report, chart) for chart in CHARTS), _findings(report.findings)]
    title = f"pimlens report: {report.tenant_name}"
    subtitle = f"tenant {report.tenant_id} · evaluated at {_when(report.as_of_at)}"
    body = [
        f'<p><a href="{escape(index_name)}">all tenants</a></p>',
        f'<div class="tiles">{"".join(_tile(report, *tile) for tile in TILES)}</div>',
        *sections,
    ]
    return _document(title, subtitle, body, publication)


def index_page(publication: Publication, pages: dict[str, str]) -> str:
    """`pages`: each tenant's page file name, by tenant id."""
    rows = []
    for report in publication.tenants:
        cells = [
            f'<a href="{escape(pages[report.tenant_id])}">{escape(report.tenant_name)}</a>'
            + ("" if report.is_configured else ' <span class="unknown">(no longer configured)</span>'),
            _when(report.as_of_at),
            *(
                _value(report.headline.get(metric), fmt, metric in report.headline)
                for metric, fmt in (
                    ("standing_privileged_access", svg.count),
                    ("privileged_access_eligible", svg.count),
                    ("role_compliance_failures", svg.count),
                )
            ),
            svg.count(sum(alerts for *_, alerts in report.open_alerts)),
            escape(report.findings[0].title) if report.findings else "none",
        ]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    head = ["tenant", "evaluated at", "standing", "eligible", "compliance failures", "open alerts", "top finding"]
    table = (
        "<section><h2>Tenants</h2><table><tr>"
        + "".join(f"<th>{escape(h)}</th>" for h in head)
        + "</tr>"
        + "".join(rows)
        + "</table></section>"
    )
    return _document("pimlens report: all tenants", f"{len(publication.tenants)} tenants", [table], publication)


def _document(title: str, subtitle: str, body: Sequence[str], publication: Publication) -> str:
    pseudonyms = " Names are keyed pseudonyms." if publication.is_pseudonymised else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header><main>"
        + "".join(body)
        + "</main><footer>Every number comes from the marts of the analytics database published at "
        f"{_when(publication.published_at)} (docs/metrics.md defines each); docs/report.md explains this page."
        f"{pseudonyms}</footer></body></html>"
    )


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


def _value(value: float | None, fmt: svg.Format, present: bool) -> str:
    if value is None:
        return '<span class="unknown">unknown</span>' if present else '<span class="unknown">not computed</span>'
    return escape(fmt(value))


def _tile(report: TenantReport, metric: str, label: str, fmt: svg.Format) -> str:
    value = _value(report.headline.get(metric), fmt, metric in report.headline)
    return f'<div class="tile"><b>{value}</b><span>{escape(label)}</span></div>'


def _section(title: str, note: str, source: str, chart: str) -> str:
    return (
        f'<section data-source="{escape(source)}"><h2>{escape(title)}</h2><p class="note">{escape(note)} '
        f"Source: marts.{escape(source)}.</p>{chart}</section>"
    )


def _missing(report: TenantReport, metric: str, what: str) -> str:
    """The honest empty state: unknown when the surface was not read (its gating metric is unknown), else none."""
    if not report.is_known(metric):
        return (
            f'<p class="unknown">Unknown: the {escape(what)} could not be read (the headline metric '
            f"{escape(metric)} is unknown: `pimlens doctor` names a missing permission, marts.fct_unreadable_inputs "
            "what was not understood).</p>"
        )
    return f"<p>None: the tenant has no {escape(what)}.</p>"


@dataclass(frozen=True)
class Chart:
    title: str
    source: str  # the mart its numbers come from
    note: Callable[[TenantReport], str]
    rows: Callable[[TenantReport], Sequence[object]]
    metric: str  # the headline metric that is unknown when what the chart reads was not read
    what: str  # what the chart shows, for its empty state
    draw: Callable[[TenantReport], tuple[str, str]]  # the chart (and its colour key) and a sentence about it


def _chart_section(report: TenantReport, chart: Chart) -> str:
    if not chart.rows(report):
        return _section(chart.title, chart.note(report), chart.source, _missing(report, chart.metric, chart.what))
    drawn, sentence = chart.draw(report)
    return _section(chart.title, f"{chart.note(report)}{sentence}", chart.source, drawn)


def _standing_note(report: TenantReport) -> str:
    days = (
        "Privileged access rows per day, across departments; the days before the first run are rebuilt from the audit "
        'log (docs/metrics.md, "History before the first run"). '
    )
    if report.has_waves:
        return days + (
            "Target, on the days of a snapshot: the design's rollout leaves standing access only in departments whose "
            "wave has not started (and those no wave covers); the gap above the target is standing access the rollout "
            "should have removed."
        )
    return days + "The design names no rollout waves: no target line."


def _standing(report: TenantReport) -> tuple[str, str]:
    days = [day.isoformat() for day, *_ in report.standing]
    series = [
        svg.Series("standing", "standing", "#c0392b", [row[1] for row in report.standing]),
        svg.Series("eligible", "eligible", "#2471a3", [row[2] for row in report.standing]),
    ]
    if report.has_waves:
        series.append(svg.Series("target", "design's target", "#7f8c8d", [row[3] for row in report.standing], True))
    return svg.line_chart("standing", days, series), f" {len(days)} {'day' if len(days) == 1 else 'days'} of history."


def _approvals(report: TenantReport) -> tuple[str, str]:
    months = [month for month, *_ in report.approvals]
    rate = svg.Series("rate", "approval rate", "#27ae60", [r for _, r, _ in report.approvals])
    latency = svg.Series("p50", "median approval latency", "#8e44ad", [p for *_, p in report.approvals])
    charts = svg.line_chart("approval_rate", months, [rate], svg.percent)
    return charts + svg.bar_chart("approval_latency", months, [latency], svg.duration), ""


def _after_hours(report: TenantReport) -> tuple[str, str]:
    months = [month for month, *_ in report.after_hours]
    total = sum(a for _, a, _ in report.after_hours)
    late = sum(h for *_, h in report.after_hours)
    series = [
        svg.Series("activations", "activations", "#aab7b8", [a for _, a, _ in report.after_hours]),
        svg.Series("after_hours", "after hours", "#e67e22", [h for *_, h in report.after_hours]),
    ]
    sentence = f" Over the period, {late:,} of {total:,} activations ({late / total:.0%}) were after hours."
    return svg.bar_chart("after_hours", months, series), sentence


def _compliance(report: TenantReport) -> tuple[str, str]:
    roles = list(dict.fromkeys((tier, role) for tier, role, _, _ in report.compliance))
    rules = sorted({rule for _, _, rule, _ in report.compliance})
    row_of = {key: index for index, key in enumerate(roles)}
    cells = [
        (row_of[(tier, role)], rules.index(rule), status, f"{role} ({tier}), {rule}: {status.replace('_', ' ')}")
        for tier, role, rule, status in report.compliance
    ]
    failures = sum(1 for *_, status in report.compliance if status == "fail")
    chart = svg.grid_chart("compliance", [f"{tier} · {role}" for tier, role in roles], rules, cells)
    key = svg.swatches({s: svg.STATUS_COLORS[s] for s in ("fail", "pass", "not_required")})
    return chart + key, f" {failures} of {len(cells)} checks fail."


def _waves(report: TenantReport) -> tuple[str, str]:
    series = [
        svg.Series("baseline", "standing at baseline", "#e6b0aa", [row[1] for row in report.waves]),
        svg.Series("standing", "standing now", "#c0392b", [row[2] for row in report.waves]),
        svg.Series("eligible", "eligible now", "#2471a3", [row[3] for row in report.waves]),
    ]
    return svg.bar_chart("waves", [wave for wave, *_ in report.waves], series), ""


def _reviews(report: TenantReport) -> tuple[str, str]:
    names = list(dict.fromkeys(name for name, *_ in report.reviews))
    first = min(due for *_, due, _ in report.reviews)
    last = max(due for *_, due, _ in report.reviews)
    span = max((last - first).total_seconds(), 1.0)
    marks = [
        (
            names.index(name),
            (due - first).total_seconds() / span,
            status,
            f"{name}, due {due:%Y-%m-%d}: {status.replace('_', ' ')}",
        )
        for name, _, due, status in report.reviews
    ]
    on_time = sum(1 for *_, status in report.reviews if status == "on_time")
    labels = [_date_label(first + (last - first) * step / 4) for step in range(5)]
    chart = svg.timeline("reviews", names, labels, marks)
    key = svg.swatches({s: svg.STATUS_COLORS[s] for s in ("on_time", "late", "incomplete", "in_progress")})
    return chart + key, f" {on_time} of {len(marks)} instances were completed on time."


def _date_label(moment: date) -> str:
    return moment.strftime("%Y-%m-%d")


def _alerts_note(report: TenantReport) -> str:
    if report.alerts_have_lifecycle:
        return "Open alerts by rule (resolved ones left out)."
    return "Alerts by rule; every alert raised stays open (alerts have no lifecycle in this warehouse yet)."


def _alerts(report: TenantReport) -> tuple[str, str]:
    rows = [(rule, count, svg.SEVERITY_COLORS.get(severity, "#999")) for rule, severity, count in report.open_alerts]
    key = svg.swatches({s: svg.SEVERITY_COLORS[s] for s in ("high", "medium", "low")})
    return svg.hbar_chart("alerts", rows) + key, ""


REQUESTS = "fct_star_activation_requests_v1"
CHARTS = (
    Chart(
        "Standing and eligible access",
        "fct_access_trend_daily and marts.fct_privileged_access_daily",
        _standing_note,
        lambda r: r.standing,
        "standing_privileged_access",
        "privileged access history",
        _standing,
    ),
    Chart(
        "Approval rate and latency",
        REQUESTS,
        lambda _: (
            "Approvals over approval decisions, and the median time from approval requested to decision, by month."
        ),
        lambda r: r.approvals,
        "activation_requests",
        "approval decisions",
        _approvals,
    ),
    Chart(
        "Activations after hours",
        REQUESTS,
        lambda _: "Activations per month, and those outside business hours in the requester's own time zone.",
        lambda r: r.after_hours,
        "activation_requests",
        "activations",
        _after_hours,
    ),
    Chart(
        "Compliance by tier and role",
        "fct_star_role_compliance_v1",
        lambda _: "Each role's PIM settings against what its tier requires (design file), by tier and role.",
        lambda r: r.compliance,
        "role_compliance_failures",
        "PIM role settings",
        _compliance,
    ),
    Chart(
        "Rollout progress per wave",
        "fct_star_access_daily_v1",
        lambda _: "Standing access on the rollout's baseline day and now, and eligible access now, per wave.",
        lambda r: r.waves,
        "standing_privileged_access",
        "privileged access history",
        _waves,
    ),
    Chart(
        "Access review completion",
        "fct_access_review_outcomes",
        lambda _: "Every access review instance on its due date, by how it was completed.",
        lambda r: r.reviews,
        "access_review_late_decisions",
        "access reviews",
        _reviews,
    ),
    Chart(
        "Open alerts by kind",
        "fct_alerts",
        _alerts_note,
        lambda r: r.open_alerts,
        "alerts_raised",
        "open alerts",
        _alerts,
    ),
)


def _findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return "<section><h2>Findings</h2><p>No finding needs action.</p></section>"
    rows = []
    for number, finding in enumerate(findings, 1):
        color = svg.SEVERITY_COLORS.get(finding.severity, "#999")
        evidence = "".join(f"<li>{escape(item)}</li>" for item in finding.evidence)
        rows.append(
            f'<tr class="finding"><td>{number}</td>'
            f'<td><span class="sev" style="background:{color}">{escape(finding.severity)}</span></td>'
            f"<td><b>{escape(finding.title)}</b><br>{finding.count:,} {escape(finding.unit)}, "
            f"from marts.{escape(finding.source)}"
            f"<ul>{evidence}</ul></td><td>{escape(finding.next_step)}</td></tr>"
        )
    return (
        f"<section><h2>The {len(findings)} findings that most need action</h2>"
        '<p class="note">Most severe first, then by how many rows; each with the first rows as evidence.</p>'
        "<table><tr><th>#</th><th>severity</th><th>finding and evidence</th><th>next step</th></tr>"
        + "".join(rows)
        + "</table></section>"
    )
