"""`users/{id}/mailboxSettings`: one object per user, Graph's 404 for a user without a mailbox, its own permission."""

from .conftest import GraphClient, graph_error, users

MAILBOXES = [
    {
        "id": "u0001",
        "timeZone": "Pacific Standard Time",
        "workingHours": {"timeZone": {"name": "Pacific Standard Time"}},
    },
    {"id": "u0002", "timeZone": "Europe/Amsterdam", "workingHours": {"timeZone": {"name": "Europe/Amsterdam"}}},
]


def test_a_user_with_a_mailbox_gets_one_object_without_the_files_id(serve) -> None:
    emulator = serve({"v1.0/users": users(4), "v1.0/mailboxSettings": MAILBOXES})
    response = GraphClient(emulator).get("/v1.0/users/u0001/mailboxSettings")
    assert response.status_code == 200
    body = response.json()
    assert body["timeZone"] == "Pacific Standard Time"
    assert "id" not in body and "value" not in body
    assert body["@odata.context"].endswith("/v1.0/$metadata#users('u0001')/mailboxSettings")


def test_a_user_without_a_mailbox_gets_graphs_404_mailbox_not_enabled(serve) -> None:
    emulator = serve({"v1.0/users": users(4), "v1.0/mailboxSettings": MAILBOXES})
    response = GraphClient(emulator).get("/v1.0/users/u0003/mailboxSettings")
    assert response.status_code == 404
    error = graph_error(response)
    assert error["code"] == "MailboxNotEnabledForRESTAPI"
    assert error["message"] == "The mailbox is either inactive, soft-deleted, or is hosted on-premise."


def test_an_unknown_user_is_not_found_rather_than_mailbox_less(serve) -> None:
    emulator = serve({"v1.0/users": users(4), "v1.0/mailboxSettings": MAILBOXES})
    response = GraphClient(emulator).get("/v1.0/users/nobody/mailboxSettings")
    assert response.status_code == 404
    assert graph_error(response)["code"] == "Request_ResourceNotFound"


def test_mailbox_settings_need_mailbox_settings_read_not_user_read_all(serve) -> None:
    files = {"v1.0/users": users(4), "v1.0/mailboxSettings": MAILBOXES}
    directory_only = GraphClient(serve(files, granted_permissions={"User.Read.All"}))
    denied = directory_only.get("/v1.0/users/u0001/mailboxSettings")
    assert denied.status_code == 403
    assert graph_error(denied)["code"] == "Authorization_RequestDenied"
    assert directory_only.get("/v1.0/users").status_code == 200
    granted = GraphClient(serve(files, granted_permissions={"User.Read.All", "MailboxSettings.Read"}))
    assert granted.get("/v1.0/users/u0002/mailboxSettings").json()["timeZone"] == "Europe/Amsterdam"
