"""docs/metrics.md, the dbt YAML and fct_headline_metrics' SQL name the same headline metrics in the same units.

docs/metrics.md defines each metric in prose; the YAML's description of `metric_value` (what dbt docs, the DuckDB
comments and the Power BI export show) says which metrics are not counts; the model's SQL is what is computed.
Checked rather than generated: the definitions are prose with links and cross references, so generating them would
move the document into YAML strings, while a check keeps both hand-written and fails, naming every difference, the
moment one of the three changes alone.
"""

import re

from pipelines.lib import paths
from tests.dbt_docs import load_manifest

HEADLINE_TABLE = "| metric_name | definition | unknown when |"
# The units a metric can have, each with the suffix its name ends in (none for counts) and how docs/metrics.md marks it.
NAME_SUFFIXES = {"fraction": ("_share", "_rate"), "seconds": ("_seconds",)}
DOCS_MARKS = {"fraction": "(a fraction, 0 to 1", "seconds": "(in seconds)"}


def documented_definitions(text: str) -> dict[str, str]:
    """Each metric of every headline-metric table of metrics.md, with its definition."""
    tables = [part.split("\n\n", 1)[0] for part in text.split(HEADLINE_TABLE)[1:]]
    return {
        name: definition
        for table in tables
        for name, definition in re.findall(r"^\| `([a-z0-9_]+)` \| (.*?) \|[^|]*\|$", table, flags=re.MULTILINE)
    }


def computed_metrics(sql: str) -> set[str]:
    """The metric names a headline-metrics model's SQL emits: its `for metric_name in [...]` lists, literal rows, and
    `values (..., 'name') as metric (..., metric_name)` tables (the last literal of each row)."""
    lists = re.findall(r"\{%-?\s*for metric_name in \[(.*?)\]\s*-?%\}", sql, flags=re.DOTALL)
    listed = {name for names in lists for name in re.findall(r"'([a-z0-9_]+)'", names)}
    tables = re.findall(r"\bvalues\s*(.*?)\)\s*as metric \([a-z_, ]*metric_name\)", sql, flags=re.DOTALL)
    valued = {name for rows in tables for name in re.findall(r"'([a-z0-9_]+)'\s*\)", rows + ")")}
    return listed | valued | set(re.findall(r"'([a-z0-9_]+)' as metric_name", sql))


def yaml_units(description: str) -> dict[str, str]:
    """The metrics the description of `metric_value` names as fractions or seconds (every other one is a count)."""
    text = " ".join(description.split())
    fractions = re.search(r"fractions\b(.*?);", text)
    seconds = re.search(r"seconds of (.*)$", text)
    return {
        **{name: "fraction" for name in re.findall(r"`([a-z0-9_]+)`", fractions.group(1) if fractions else "")},
        **{name: "seconds" for name in re.findall(r"`([a-z0-9_]+)`", seconds.group(1) if seconds else "")},
    }


def unit_disagreements(definitions: dict[str, str], described: dict[str, str]) -> list[str]:
    """Each metric whose unit by its name's suffix, by its docs/metrics.md definition and by the YAML differ."""
    gaps = []
    for name, definition in sorted(definitions.items()):
        by_name = next((unit for unit, ends in NAME_SUFFIXES.items() if name.endswith(ends)), "count")
        by_docs = next((unit for unit, mark in DOCS_MARKS.items() if mark in definition), "count")
        by_yaml = described.get(name, "count")
        if len({by_name, by_docs, by_yaml}) > 1:
            gaps.append(f"{name}: by its name a {by_name}, by docs/metrics.md a {by_docs}, by the YAML a {by_yaml}")
    gaps += [
        f"{name}: the YAML names it, docs/metrics.md defines no such metric"
        for name in described.keys() - definitions.keys()
    ]
    return gaps


def headline_model() -> dict:
    manifest = load_manifest()
    return next(node for node in manifest["nodes"].values() if node["name"] == "fct_headline_metrics")


def headline_sources() -> list[dict]:
    """fct_headline_metrics and the models whose metric rows it takes in whole (fct_*headline_metrics)."""
    manifest = load_manifest()
    headline = headline_model()
    parents = [manifest["nodes"][key] for key in headline["depends_on"]["nodes"] if key in manifest["nodes"]]
    return [headline, *(node for node in parents if node["name"].endswith("headline_metrics"))]


def test_every_metric_the_mart_computes_is_defined_in_docs_metrics_md_and_no_other() -> None:
    documented = set(documented_definitions((paths.REPO_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")))
    computed = set().union(*(computed_metrics(node["raw_code"]) for node in headline_sources()))
    assert sorted(computed - documented) == [] and sorted(documented - computed) == [], (
        f"computed, not in docs/metrics.md: {sorted(computed - documented)}; "
        f"in docs/metrics.md, not computed: {sorted(documented - computed)}"
    )


def test_the_unit_of_every_metric_agrees_in_its_name_docs_metrics_md_and_the_yaml() -> None:
    definitions = documented_definitions((paths.REPO_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8"))
    described = yaml_units(headline_model()["columns"]["metric_value"]["description"])
    assert described, "the YAML's metric_value description names no fraction or seconds metric"
    assert unit_disagreements(definitions, described) == []


def test_a_unit_stated_in_one_place_only_is_named() -> None:
    definitions = {
        "approval_rate": "approved divided by decided",
        "review_share": "reviewed divided by held (a fraction, 0 to 1)",
        "wait_seconds": "median wait (in seconds)",
        "requests": "requests (a fraction, 0 to 1)",
    }
    described = yaml_units(
        "A count, except the fractions `review_share`, `gone_share`; and the seconds of `wait_seconds`."
    )
    assert unit_disagreements(definitions, described) == [
        "approval_rate: by its name a fraction, by docs/metrics.md a count, by the YAML a count",
        "requests: by its name a count, by docs/metrics.md a fraction, by the YAML a count",
        "gone_share: the YAML names it, docs/metrics.md defines no such metric",
    ]
