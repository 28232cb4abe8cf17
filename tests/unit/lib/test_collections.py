from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from pipelines.lib.graph.collections import COLLECTIONS, COLLECTIONS_BY_TABLE, LoadMode


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_table_names_are_unique_and_every_collection_names_its_permission() -> None:
    assert len(COLLECTIONS_BY_TABLE) == len(COLLECTIONS)
    assert all(spec.permission for spec in COLLECTIONS)


def test_role_definitions_come_from_beta_for_is_privileged() -> None:
    url = COLLECTIONS_BY_TABLE["role_definitions"].first_url("https://graph.microsoft.com")
    assert url == "https://graph.microsoft.com/beta/roleManagement/directory/roleDefinitions"


def test_policy_assignments_send_the_required_scope_filter_and_expand() -> None:
    url = COLLECTIONS_BY_TABLE["role_management_policy_assignments"].first_url("https://g")
    query = query_of(url)
    assert query["$filter"] == ["scopeId eq '/' and scopeType eq 'DirectoryRole'"]
    assert query["$expand"] == ["policy($expand=rules)"]
    assert " " not in url  # spaces are percent-encoded, the way Graph's own SDKs send them


def test_audits_first_run_reads_all_retained_history_then_a_window_from_the_watermark() -> None:
    spec = COLLECTIONS_BY_TABLE["directory_audits"]
    assert spec.mode is LoadMode.INCREMENTAL
    # PIM's rows and Access Reviews' record of PIM approvals, one `eq` filter each (Graph documents no `or` for the
    # audit log), into one load; the window narrows both reads.
    services = ["loggedByService eq 'PIM'", "loggedByService eq 'Access Reviews'"]
    assert [query_of(url)["$filter"] for url in spec.first_urls("https://g")] == [[text] for text in services]
    since = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert [query_of(url)["$filter"] for url in spec.first_urls("https://g", since=since)] == [
        [f"{text} and activityDateTime ge 2026-10-31T23:00:00Z"] for text in services
    ]
    # A collection without alternatives is one read.
    users = COLLECTIONS_BY_TABLE["users"]
    assert users.first_urls("https://g") == [users.first_url("https://g")]
