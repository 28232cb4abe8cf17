import pytest

from pipelines.emulator.odata import ODataError, parse_expand, parse_filter, parse_query

RECORDS = [
    {
        "id": "1",
        "status": "Provisioned",
        "createdDateTime": "2024-05-02T08:10:41.807Z",
        "n": 3,
        "ok": True,
        "initiatedBy": {"user": {"id": "ann"}},
        "note": "it's",
    },
    {
        "id": "2",
        "status": "Revoked",
        "createdDateTime": "2024-05-02T09:00:00+01:00",
        "n": 7,
        "ok": False,
        "initiatedBy": {"app": None},
        "note": None,
    },
    {"id": "3", "status": "Provisioned", "createdDateTime": "2024-05-03T00:00:00Z", "n": 7.5, "ok": None},
]


def ids(text: str) -> list[str]:
    predicate, _ = parse_filter(text)
    return [r["id"] for r in RECORDS if predicate(r)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status eq 'Provisioned'", ["1", "3"]),
        ("status ne 'Provisioned'", ["2"]),
        ("initiatedBy/user/id eq 'ann'", ["1"]),
        ("note eq 'it''s'", ["1"]),
        ("note eq null", ["2", "3"]),
        ("note ne null", ["1"]),
        # 09:00+01:00 is 08:00Z: datetimes compare as instants, not as text.
        ("createdDateTime ge 2024-05-02T08:05:00Z", ["1", "3"]),
        ("createdDateTime lt 2024-05-02T08:05:00Z", ["2"]),
        ("n gt 5", ["2", "3"]),
        ("n le 7", ["1", "2"]),
        ("ok eq true", ["1"]),
        ("ok eq false", ["2"]),
        ("status eq 'Provisioned' and (n ge 3 and n lt 7)", ["1"]),
        ("n eq 'text'", []),
        # `and` binds tighter than `or`, as in OData.
        ("status eq 'Revoked' or n eq 3", ["1", "2"]),
        ("status eq 'Revoked' or status eq 'Provisioned' and n gt 7", ["2", "3"]),
        ("(status eq 'Revoked' or status eq 'Provisioned') and n gt 7", ["3"]),
    ],
)
def test_filter_comparisons(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "startswith(status, 'P')",
        "targetResources/any(t: t/id eq 'x')",
        "not (n eq 1)",
        "status in ('a', 'b')",
        "status eq",
        "status eq 'unterminated",
        "(n eq 1",
        "n gt null",
        "status has 'x'",
    ],
)
def test_unsupported_filters_are_bad_requests(text: str) -> None:
    with pytest.raises(ODataError, match="Invalid filter clause") as caught:
        parse_filter(text)
    assert caught.value.code == "BadRequest"


def test_equalities_feed_required_filter_checks() -> None:
    _, equalities = parse_filter("(scopeId eq '/' and scopeType eq 'DirectoryRole') and roleDefinitionId ne 'x'")
    assert equalities == (("scopeId", "/"), ("scopeType", "DirectoryRole"))


def test_an_or_requires_no_equality_and_screens_by_each_branch() -> None:
    options = parse_query(
        "$filter=(loggedByService eq 'PIM' or loggedByService eq 'Access Reviews') and category eq 'X'",
        dollar_optional=True,
    )
    assert options.equalities == (("category", "X"),)
    assert options.needles == (("PIM", "X"), ("Access Reviews", "X"))


def test_query_names_with_and_without_dollar() -> None:
    options = parse_query("%24top=5&$select=id,displayName&filter=n%20eq%201&api-version=x", dollar_optional=True)
    assert options.top == 5
    assert options.select == ("id", "displayName")
    assert options.filter_text == "n eq 1"
    assert options.carried == (
        ("$top", "5"),
        ("$select", "id,displayName"),
        ("$filter", "n eq 1"),
        ("api-version", "x"),
    )
    # beta needs the dollar: a plain `top` is not an option there.
    assert parse_query("top=5", dollar_optional=False).top is None


@pytest.mark.parametrize("query", ["$count=true", '$search="x"', "$format=json", "$apply=x"])
def test_unsupported_options_are_refused(query: str) -> None:
    with pytest.raises(ODataError, match="not supported"):
        parse_query(query, dollar_optional=True)


def test_repeated_or_malformed_options_are_refused() -> None:
    with pytest.raises(ODataError, match="more than once"):
        parse_query("$top=1&%24top=2", dollar_optional=True)
    with pytest.raises(ODataError, match="integer"):
        parse_query("$top=ten", dollar_optional=True)
    with pytest.raises(ODataError, match="orderby"):
        parse_query("$orderby=n sideways", dollar_optional=True)


def test_expand_tree() -> None:
    (policy,) = parse_expand("policy($expand=rules)")
    assert (policy.name, [n.name for n in policy.nested]) == ("policy", ["rules"])
    with pytest.raises(ODataError):
        parse_expand("policy($select=id)")
