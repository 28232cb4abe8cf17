"""Where a recorded object goes in the tenant directory: the path the emulator serves it from."""

from __future__ import annotations

from pathlib import Path

from pipelines.lib.graph.collections import COLLECTIONS_BY_TABLE
from pipelines.lib.privacy import Pseudonymiser
from pipelines.lib.recording import _placements, pseudonymised_design


def test_nested_collections_go_to_their_parents_folder() -> None:
    spec = COLLECTIONS_BY_TABLE["access_review_decisions"]
    (placed,) = _placements(spec, "definition-1/instance-2", {"id": "d1"})
    assert placed == (
        "v1.0/identityGovernance/accessReviews/definitions/definition-1/instances/instance-2/decisions",
        {"id": "d1"},
    )
    (members,) = _placements(COLLECTIONS_BY_TABLE["group_transitive_members"], "g1", {"id": "u1"})
    assert members[0] == "v1.0/groups/g1/transitiveMembers"


def test_an_expanded_policy_is_split_into_the_files_the_emulator_joins() -> None:
    assignment = {
        "id": "a1",
        "policyId": "p1",
        "policy@odata.context": "...",
        "policy": {"id": "p1", "displayName": "Directory role policy", "rules": [{"id": "r1"}, {"id": "r2"}]},
    }
    placed = _placements(COLLECTIONS_BY_TABLE["role_management_policy_assignments"], None, assignment)
    assert placed == [
        ("v1.0/policies/roleManagementPolicyAssignments", {"id": "a1", "policyId": "p1"}),
        ("v1.0/policies/roleManagementPolicies", {"id": "p1", "displayName": "Directory role policy"}),
        ("v1.0/policies/roleManagementPolicies/p1/rules", {"id": "r1"}),
        ("v1.0/policies/roleManagementPolicies/p1/rules", {"id": "r2"}),
    ]


def test_log_analytics_rows_go_to_their_tables_file() -> None:
    (placed,) = _placements(COLLECTIONS_BY_TABLE["la_signin_logs"], None, {"Id": "s1"})
    assert placed[0] == "loganalytics/SigninLogs"


def test_the_design_keeps_everything_but_break_glass_upns(tmp_path: Path) -> None:
    pseudonymiser = Pseudonymiser(b"a key of sixteen bytes or more")
    design = tmp_path / "design.yaml"
    design.write_text("break_glass_accounts: [BreakGlass1@contoso.example]\nbusiness_hours: {start: '08:00'}\n")
    written = pseudonymised_design(design, pseudonymiser)
    assert pseudonymiser("breakglass1@contoso.example") in written and "contoso" not in written
    assert "business_hours:\n  start: 08:00" in written


def test_mailbox_settings_go_to_the_file_the_emulator_serves_them_from_and_a_404_is_not_written() -> None:
    spec = COLLECTIONS_BY_TABLE["user_mailbox_settings"]
    answer = {"@odata.context": "https://graph/v1.0/$metadata#users('u1')/mailboxSettings", "timeZone": "UTC"}
    assert _placements(spec, "u1", answer) == [("v1.0/mailboxSettings", {"id": "u1", "timeZone": "UTC"})]
    no_mailbox = {"error": {"code": "MailboxNotEnabledForRESTAPI", "message": "The mailbox is either inactive"}}
    assert _placements(spec, "u2", no_mailbox) == []


def test_automatic_reply_texts_in_mailbox_settings_are_pseudonymised() -> None:
    pseudonymiser = Pseudonymiser(b"a key of sixteen bytes or more")
    settings = {
        "timeZone": "W. Europe Standard Time",
        "automaticRepliesSetting": {"status": "alwaysEnabled", "internalReplyMessage": "On leave, call Ann Smith"},
        "language": {"locale": "en-US", "displayName": "English (United States)"},
    }
    masked = pseudonymiser.record(settings)
    assert masked["automaticRepliesSetting"]["internalReplyMessage"] == pseudonymiser("On leave, call Ann Smith")
    assert masked["timeZone"] == "W. Europe Standard Time"
    assert masked["language"]["displayName"] == "English (United States)"
