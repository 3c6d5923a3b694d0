"""Deliveries become typed events, whatever shape Cloud, Data Center or Automation sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plugin.spine.errors import PayloadError, PayloadTooLargeError, SignatureError
from plugin.spine.events import JiraEvent, delivery_key, parse_event
from plugin.spine.signature import sign
from tests.conftest import ALL_SAMPLES, HANDWRITTEN_SAMPLES, load_sample, load_sample_json

SECRET = b"s3cret"


def from_http(body: bytes, **headers: str) -> JiraEvent:
    sent = {"X-Hub-Signature": sign(SECRET, body), **headers}
    return JiraEvent.from_http(sent, body, secret=SECRET)


def test_there_are_recorded_and_handwritten_samples() -> None:
    assert len(ALL_SAMPLES) >= 17
    assert {p.name.split("__")[0] for p in HANDWRITTEN_SAMPLES} == {
        "worklog_created",
        "issuelink_created",
        "automation_issue_data",
        "jira_issue_updated",
        "comment_created",
        "comment_updated",
        "comment_deleted",
    }


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=lambda p: p.name)
def test_every_sample_parses_from_http(path: Path) -> None:
    body = path.read_bytes()
    event = from_http(body)
    expected_name = json.loads(body).get("webhookEvent", "jira:issue_updated")
    assert event.name == expected_name
    assert event.raw  # the decoded body rides along for the worker
    assert delivery_key({}, event).startswith("derived-")


def test_a_cloud_user_is_identified_by_account_id() -> None:
    event = parse_event(
        load_sample_json("jira_issue_updated__mattermost_mattermost-plugin-jira__1")
    )
    assert event.actor is not None
    assert event.actor.account_id == "5c5f880629be9642ba529340"
    assert event.actor.id == "5c5f880629be9642ba529340"


def test_a_server_user_is_identified_by_name() -> None:
    event = parse_event(
        load_sample_json("jira_issue_updated__mattermost_mattermost-plugin-jira__5")
    )
    assert event.actor is not None
    assert (event.actor.account_id, event.actor.id) == (None, "levbrouk")


def test_an_old_server_comment_without_issue_finds_the_issue_id_in_the_comment_url() -> None:
    event = parse_event(load_sample_json("comment_created__mattermost_mattermost-plugin-jira__2"))
    assert event.issue is None
    assert (event.issue_key, event.issue_id) == (None, "10013")
    assert event.actor is not None and event.actor.id == "levbrouk"


def test_an_event_without_issue_event_type_name_parses() -> None:
    event = parse_event(
        load_sample_json("jira_issue_deleted__mattermost_mattermost-plugin-jira__1")
    )
    assert (event.name, event.issue_event_type, event.issue_key) == (
        "jira:issue_deleted",
        None,
        "IDT-19",
    )


def test_a_worklog_has_no_issue_but_names_its_issue_id() -> None:
    event = parse_event(load_sample_json("worklog_created__handwritten__cloud"))
    assert (event.name, event.issue, event.issue_id) == ("worklog_created", None, "10042")


def test_an_issue_link_with_numeric_ids_parses_without_issue() -> None:
    event = parse_event(load_sample_json("issuelink_created__handwritten__cloud"))
    assert event.issue is None and event.actor is None
    assert event.issue_link is not None and event.issue_link["sourceIssueId"] == 18715


def test_automation_issue_data_becomes_an_issue_update() -> None:
    event = parse_event(load_sample_json("automation_issue_data__handwritten__cloud"))
    assert (event.name, event.issue_key, event.issue_id) == ("jira:issue_updated", "XD-7", "11111")
    assert event.changelog is not None and event.changelog.id == "20202"
    assert event.changelog.items[0].to_value == "10001"


def test_numeric_ids_and_a_string_timestamp_are_normalised() -> None:
    event = parse_event(load_sample_json("jira_issue_updated__handwritten__numeric_ids"))
    assert (event.issue_id, event.timestamp) == ("10077", 1732291320789)
    assert event.changelog is not None and event.changelog.id == "30303"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b"1" * 5000, "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"jira:issue_created"', "not a JSON object"),
        (b"null", "not a JSON object"),
        (b'{"hello": "world"}', "not a Jira event"),
        (b'{"webhookEvent": "comment_created", "comment": {"body": "no id"}}', "comment.id"),
        (b'{"webhookEvent": ["x"]}', "webhookEvent"),
    ],
)
def test_a_body_that_is_not_a_jira_event_is_a_payload_error(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason) as raised:
        from_http(body)
    assert raised.value.status == 400


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"webhookEvent": "comment_created", "comment": {"body": "x"}}', "comment.id is missing"),
        (b'{"webhookEvent": 3}', "webhookEvent must be text, not a number"),
        (b'{"webhookEvent": "x", "issue": []}', "issue must be an object, not a list"),
        (b'{"webhookEvent": "x", "issue": {"key": null, "id": true}}', "issue.id must be text"),
        (
            b'{"webhookEvent": "x", "timestamp": "soon"}',
            "timestamp must be a whole number, not text",
        ),
        (
            b'{"webhookEvent": "x", "user": {"accountId": ["a"]}}',
            "user.accountId must be text, not a list",
        ),
        (
            b'{"webhookEvent": "x", "issue_event_type_name": {}}',
            "issue_event_type_name must be text, not an object",
        ),
    ],
)
def test_a_wrong_field_is_named_in_plain_words(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as raised:
        from_http(body)
    assert raised.value.reason == f"the body is not a Jira event: {reason}" or reason in str(
        raised.value.reason
    )
    for library_wording in ("Input should", "Field required", "type=", "pydantic"):
        assert library_wording not in raised.value.reason


def test_the_signature_is_checked_before_the_body_is_decoded() -> None:
    with pytest.raises(SignatureError):
        JiraEvent.from_http({"X-Hub-Signature": "sha256=00"}, b"{not json", secret=SECRET)


def test_a_body_over_the_limit_is_refused_before_anything_else() -> None:
    with pytest.raises(PayloadTooLargeError) as raised:
        JiraEvent.from_http({}, b"x" * 11, secret=SECRET, max_body_bytes=10)
    assert raised.value.status == 413


def test_the_delivery_key_is_jiras_identifier_when_sent() -> None:
    event = from_http(load_sample("jira_issue_created__mattermost_mattermost-plugin-jira__1"))
    assert delivery_key({"x-atlassian-webhook-identifier": " 7e1a-42 "}, event) == "7e1a-42"


@pytest.mark.parametrize("identifier", ["x" * 201, "has space", "tab\there", "ünï"])
def test_an_unusable_identifier_is_refused(identifier: str) -> None:
    event = parse_event({"webhookEvent": "jira:issue_created", "issue": {"key": "XD-1"}})
    with pytest.raises(PayloadError, match="X-Atlassian-Webhook-Identifier"):
        delivery_key({"X-Atlassian-Webhook-Identifier": identifier}, event)


def test_without_identifier_the_same_event_gets_the_same_key() -> None:
    body = load_sample_json("jira_issue_updated__mattermost_mattermost-plugin-jira__2")
    first = delivery_key({}, parse_event(body))
    body["issue"]["fields"]["summary"] = "edited in between, still the same event"
    assert delivery_key({}, parse_event(body)) == first


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.update(timestamp=b["timestamp"] + 1),
        lambda b: b.update(webhookEvent="jira:issue_deleted"),
        lambda b: b["issue"].update(id="99999"),
        lambda b: b["changelog"].update(id="424242"),
        lambda b: b.update(issue_event_type_name="issue_assigned"),
    ],
)
def test_without_identifier_a_different_event_gets_a_different_key(change: object) -> None:
    body = load_sample_json("jira_issue_updated__mattermost_mattermost-plugin-jira__2")
    first = delivery_key({}, parse_event(body))
    change(body)  # type: ignore[operator]
    assert delivery_key({}, parse_event(body)) != first


def test_comments_on_the_same_issue_in_the_same_millisecond_get_different_keys() -> None:
    body = load_sample_json("comment_created__mattermost_mattermost-plugin-jira__1")
    first = delivery_key({}, parse_event(body))
    body["comment"]["id"] = "77777"
    assert delivery_key({}, parse_event(body)) != first


def test_automation_requests_without_timestamp_differ_by_their_content() -> None:
    body = load_sample_json("automation_issue_data__handwritten__cloud")
    first = delivery_key({}, parse_event(body))
    assert delivery_key({}, parse_event(body)) == first
    body["fields"]["status"]["name"] = "Done"
    assert delivery_key({}, parse_event(body)) != first


@pytest.mark.parametrize(
    ("actor", "own", "expected"),
    [
        ({"accountId": "557058:bot"}, "557058:bot", True),  # Cloud
        ({"name": "crossdept", "key": "JIRAUSER10100"}, "crossdept", True),  # Data Center username
        ({"name": "crossdept", "key": "JIRAUSER10100"}, "JIRAUSER10100", True),  # older user key
        ({"accountId": "557058:someone"}, "557058:bot", False),
        ({"accountId": "557058:bot"}, None, False),  # our account unknown: nothing is ours
    ],
)
def test_one_check_says_whether_crossdept_caused_an_event(
    actor: dict[str, str], own: str | None, expected: bool
) -> None:
    as_user = parse_event({"webhookEvent": "jira:issue_updated", "user": actor})
    as_comment_author = parse_event(
        {"webhookEvent": "comment_created", "comment": {"id": "1", "author": actor}}
    )
    assert as_user.caused_by(own) is expected
    assert as_comment_author.caused_by(own) is expected
