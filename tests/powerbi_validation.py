"""Offline checks of a generated Power BI project (docs/powerbi.md, "How it is checked"), shared by the unit tests
and the end-to-end run:

- every JSON file that names a ``$schema`` validates against Microsoft's schema, from the copy in
  tests/fixtures/powerbi_schemas (the URL prefix maps to that folder; nothing is fetched);
- every DAX measure and every M expression parses completely with ``pbi_parsers``;
- the TMDL is indented with tabs only, each table has one partition, every relationship and every report visual
  names columns and measures that exist.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import jsonschema
from pbi_parsers import dax, pq
from referencing import Registry, Resource

SCHEMA_FOLDER = Path(__file__).parent / "fixtures" / "powerbi_schemas"
SCHEMA_URL = "https://developer.microsoft.com/json-schemas/"


def _retrieve(uri: str) -> Resource:
    if not uri.startswith(SCHEMA_URL):
        raise LookupError(f"{uri} is not one of Microsoft's Fabric schemas; nothing is fetched")
    path = SCHEMA_FOLDER / uri[len(SCHEMA_URL) :]
    return Resource.from_contents(json.loads(path.read_text(encoding="utf-8")))


REGISTRY = Registry(retrieve=_retrieve)


@functools.cache
def _validator(url: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(REGISTRY.get_or_retrieve(url).value.contents, registry=REGISTRY)


def validate_json(document: dict) -> None:
    """Raises jsonschema.ValidationError when `document` breaks the schema its ``$schema`` names."""
    validator = _validator(document["$schema"])
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        raise error


@functools.cache
def _parses(module, text: str) -> bool:
    """Whether `text` parses as one whole expression: pbi_parsers' ``to_ast`` asserts every token was consumed and
    raises on what it cannot place. Cached: its M parser takes about a second on a partition's column list."""
    try:
        return module.to_ast(text) is not None
    except (AssertionError, ValueError, IndexError):
        return False


def dax_parses(expression: str) -> bool:
    return _parses(dax, expression)


def m_parses(expression: str) -> bool:
    return _parses(pq, expression)


def _blocks(text: str, keyword: str) -> list[str]:
    """The multi-line expression after each ``<keyword> =`` line: the lines indented deeper than it."""
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        if line.strip() == f"{keyword} =":
            depth = len(line) - len(line.lstrip("\t"))
            body = []
            for following in lines[index + 1 :]:
                if following.strip() and len(following) - len(following.lstrip("\t")) <= depth:
                    break
                body.append(following.strip("\t"))
            found.append("\n".join(body).strip())
    return found


def project_problems(folder: Path, name: str = "pimlens") -> list[str]:
    """Everything wrong with the project `name` in `folder`; empty when it passes every offline check."""
    problems: list[str] = []
    json_files = [folder / f"{name}.pbip", *sorted(folder.glob(f"{name}.*/**/*.json")), *folder.glob(f"{name}.*/*.pb*")]
    json_files += sorted(folder.glob(f"{name}.*/.platform"))
    for file in json_files:
        raw = file.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            problems.append(f"{file.name}: starts with a BOM")
        document = json.loads(raw)
        if "$schema" not in document:
            problems.append(f"{file}: names no $schema")
            continue
        try:
            validate_json(document)
        except jsonschema.ValidationError as error:
            problems.append(f"{file.relative_to(folder)}: {error.message}")

    definition = folder / f"{name}.SemanticModel" / "definition"
    tables: dict[str, dict[str, set[str]]] = {}
    for file in sorted(definition.rglob("*.tmdl")):
        text = file.read_text(encoding="utf-8")
        if re.search(r"^ +\S", text, re.MULTILINE):
            problems.append(f"{file.name}: indented with spaces (TMDL wants tabs)")
        for measure, expression in re.findall(r"^\tmeasure (.+?) = (.+)$", text, re.MULTILINE):
            if not dax_parses(expression):
                problems.append(f"{file.name}: measure {measure} does not parse as DAX: {expression}")
        for expression in _blocks(text, "source"):
            if not m_parses(expression):
                problems.append(f"{file.name}: a partition's M does not parse: {expression}")
        for parameter in re.findall(r"^expression \w+ = (.+)$", text, re.MULTILINE):
            if not m_parses(parameter):
                problems.append(f"{file.name}: a parameter's M does not parse: {parameter}")
        for permission in re.findall(r"^\ttablePermission .+? = (.+)$", text, re.MULTILINE):
            if not dax_parses(permission):
                problems.append(f"{file.name}: a row filter does not parse as DAX: {permission}")
        table = re.search(r"^table (.+)$", text, re.MULTILINE)
        if table:
            table_name = _unquote(table.group(1))
            partitions = re.findall(r"^\tpartition ", text, re.MULTILINE)
            if len(partitions) != 1:
                problems.append(f"{file.name}: {len(partitions)} partitions (Desktop takes exactly one)")
            tables[table_name] = {
                "columns": {_unquote(c) for c in re.findall(r"^\tcolumn (.+)$", text, re.MULTILINE)},
                "measures": {_unquote(m) for m, _ in re.findall(r"^\tmeasure (.+?) = (.+)$", text, re.MULTILINE)},
            }
    relationships = (definition / "relationships.tmdl").read_text(encoding="utf-8")
    for end in re.findall(r"^\t(?:from|to)Column: (.+)$", relationships, re.MULTILINE):
        table_name, column = _split_reference(end)
        if column not in tables.get(table_name, {}).get("columns", set()):
            problems.append(f"relationships.tmdl: {end} names no column of the model")
    report = folder / f"{name}.Report"
    target = json.loads((report / "definition.pbir").read_text(encoding="utf-8"))["datasetReference"]["byPath"]["path"]
    if not (report / target / "definition.pbism").is_file():
        problems.append(f"definition.pbir: byPath {target} is no semantic model")
    pages = json.loads((report / "definition" / "pages" / "pages.json").read_text(encoding="utf-8"))["pageOrder"]
    for page in pages:
        if not (report / "definition" / "pages" / page / "page.json").is_file():
            problems.append(f"pages.json lists {page}, which has no page.json")
    for visual in sorted(report.glob("definition/pages/*/visuals/*/visual.json")):
        for entity, measure in _measures_shown(json.loads(visual.read_text(encoding="utf-8"))):
            if measure not in tables.get(entity, {}).get("measures", set()):
                problems.append(f"{visual.parent.name}: shows {entity}.{measure}, which the model lacks")
    return problems


def _measures_shown(node: object) -> list[tuple[str, str]]:
    """Every (table, measure) a visual's query projects, at any depth."""
    if isinstance(node, list):
        return [pair for item in node for pair in _measures_shown(item)]
    if not isinstance(node, dict):
        return []
    found = []
    if isinstance(node.get("Measure"), dict):
        measure = node["Measure"]
        found.append((measure["Expression"]["SourceRef"]["Entity"], measure["Property"]))
    return found + [pair for value in node.values() for pair in _measures_shown(value)]


def _unquote(name: str) -> str:
    name = name.strip()
    return name[1:-1].replace("''", "'") if name.startswith("'") and name.endswith("'") else name


def _split_reference(reference: str) -> tuple[str, str]:
    """``'PIM Requests'.'Role Key'`` -> (``PIM Requests``, ``Role Key``)."""
    match = re.fullmatch(r"('(?:[^']|'')+'|[^.']+)\.('(?:[^']|'')+'|[^.']+)", reference.strip())
    if match is None:
        return reference, ""
    return _unquote(match.group(1)), _unquote(match.group(2))
