"""POST /webhooks/jira: verify, store durably, answer 202 fast; refuse bad input with a JSON 4xx."""

from __future__ import annotations

import io
import json
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from plugin.spine.deliveries import Deliveries, DeliveryState
from plugin.spine.inbox import Inbox
from plugin.spine.signature import sign
from tests.conftest import ALL_SAMPLES, SHARED_TOKEN, encode_body, load_sample, signed_post
from webhooks.settings import Settings
from webhooks.web.app import create_app

ISSUE_CREATED = load_sample("jira_issue_created__mattermost_mattermost-plugin-jira__2")
CLOUD_ACTOR = "5c5f880629be9642ba529340"  # the `user` of the sample above


def stored(inbox: Inbox) -> list[str]:
    return [delivery.key for delivery in Deliveries(inbox.store).recent()]


def assert_json_refusal(response: TestResponse, status: int) -> str:
    assert response.status_code == status
    assert response.is_json, response.data[:200]
    reason = response.get_json()["reason"]
    assert isinstance(reason, str) and reason
    assert b"Traceback" not in response.data
    return reason


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=lambda p: p.name)
def test_every_sample_is_accepted_and_stored_for_the_feeder(
    client: FlaskClient, inbox: Inbox, path: Path
) -> None:
    body = path.read_bytes()
    response = signed_post(client, body, delivery="delivery-1")

    assert response.status_code == 202
    assert response.get_json() == {"status": "accepted", "delivery": "delivery-1"}
    [delivery] = Deliveries(inbox.store).recent()
    assert delivery.key == "delivery-1"
    assert delivery.event == json.loads(body).get("webhookEvent", "jira:issue_updated")
    assert delivery.state is DeliveryState.QUEUED
    assert Deliveries(inbox.store).get(delivery.id).body == body  # type: ignore[union-attr]
    assert Deliveries(inbox.store).take_batch(10).to_enqueue == [delivery.id]


def test_the_issue_key_is_stored_with_the_delivery(client: FlaskClient, inbox: Inbox) -> None:
    signed_post(client, ISSUE_CREATED)
    assert [d.issue for d in Deliveries(inbox.store).recent()] == ["TES-41"]


def test_a_retry_with_the_same_identifier_is_a_duplicate(client: FlaskClient, inbox: Inbox) -> None:
    first = signed_post(client, ISSUE_CREATED, delivery="abc-1")
    again = signed_post(
        client, ISSUE_CREATED, delivery="abc-1", headers={"X-Atlassian-Webhook-Retry": "1"}
    )
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.get_json() == {"status": "duplicate", "delivery": "abc-1"}
    assert stored(inbox) == ["abc-1"]
    assert inbox.depth() == 1


def test_without_identifier_the_same_event_is_a_duplicate(
    client: FlaskClient, inbox: Inbox
) -> None:
    assert signed_post(client, ISSUE_CREATED, delivery=None).status_code == 202
    assert signed_post(client, ISSUE_CREATED, delivery=None).get_json()["status"] == "duplicate"
    assert len(stored(inbox)) == 1


def test_a_different_identifier_on_another_body_is_a_new_delivery(
    client: FlaskClient, inbox: Inbox
) -> None:
    signed_post(client, ISSUE_CREATED, delivery="a")
    signed_post(client, ISSUE_CREATED.replace(b"1550286113023", b"1550286113024"), delivery="b")
    assert sorted(stored(inbox)) == ["a", "b"]


def test_the_same_signed_body_under_a_fresh_identifier_is_a_replay(
    client: FlaskClient, inbox: Inbox
) -> None:
    assert signed_post(client, ISSUE_CREATED, delivery="a").status_code == 202
    replay = signed_post(client, ISSUE_CREATED, delivery="fresh-identifier")
    assert (replay.status_code, replay.get_json()["status"]) == (200, "duplicate")
    assert stored(inbox) == ["a"]


def test_a_delivery_older_than_the_age_limit_is_refused_as_a_replay(
    make_settings: Callable[..., Settings], make_app: Callable[[Settings], Flask], inbox: Inbox
) -> None:
    client = make_app(make_settings(CROSSDEPT_MAX_DELIVERY_AGE="3600")).test_client()
    now = int(time.time() * 1000)
    fresh = ISSUE_CREATED.replace(b"1550286113023", str(now - 60_000).encode())
    old = ISSUE_CREATED.replace(b"1550286113023", str(now - 2 * 3600_000).encode())

    refused = signed_post(client, old, delivery="old")
    assert refused.status_code == 400
    assert refused.get_json() == {
        "status": "rejected",
        "reason": "the delivery is 2.0 hours old, older than 1 hour "
        "(CROSSDEPT_MAX_DELIVERY_AGE): a replayed delivery is refused",
    }
    assert signed_post(client, fresh, delivery="fresh").status_code == 202
    assert stored(inbox) == ["fresh"]


def test_an_age_limit_under_an_hour_is_named_in_minutes(
    make_settings: Callable[..., Settings], make_app: Callable[[Settings], Flask]
) -> None:
    client = make_app(make_settings(CROSSDEPT_MAX_DELIVERY_AGE="1800")).test_client()
    old = ISSUE_CREATED.replace(b"1550286113023", str(int(time.time() * 1000) - 3600_000).encode())
    refused = signed_post(client, old, delivery="old")
    assert refused.status_code == 400
    assert "older than 30 minutes (CROSSDEPT_MAX_DELIVERY_AGE)" in refused.get_json()["reason"]


@pytest.mark.parametrize(
    ("headers", "secret", "reason"),
    [
        ({}, None, "no X-Hub-Signature"),
        ({}, "another-secret", "does not match"),
        ({"X-Hub-Signature": "sha1=abc"}, None, "not `sha256="),
        ({"X-Hub-Signature": "sha256=" + "a" * 8000}, None, "does not match"),
        ({"X-Crossdept-Token": SHARED_TOKEN}, None, "no X-Hub-Signature"),
    ],
)
def test_a_delivery_without_the_right_signature_is_refused_and_not_stored(
    client: FlaskClient, inbox: Inbox, headers: dict[str, str], secret: str | None, reason: str
) -> None:
    response = signed_post(client, ISSUE_CREATED, secret=secret, headers=headers)
    assert reason in assert_json_refusal(response, 401)
    assert stored(inbox) == []


def test_the_signature_is_checked_before_the_body_is_parsed(client: FlaskClient) -> None:
    response = signed_post(client, b"{not json", secret="another-secret")
    assert_json_refusal(response, 401)


@pytest.fixture
def automation_client(
    make_settings: Callable[..., Settings], make_app: Callable[[Settings], Flask]
) -> FlaskClient:
    settings = make_settings(
        CROSSDEPT_WEBHOOK_SECRET=None,
        CROSSDEPT_ALLOW_UNSIGNED="true",
        CROSSDEPT_SHARED_TOKEN=SHARED_TOKEN,
    )
    return make_app(settings).test_client()


def test_jira_automation_is_accepted_with_the_shared_token(
    automation_client: FlaskClient, inbox: Inbox
) -> None:
    body = load_sample("automation_issue_data__handwritten__cloud")
    response = signed_post(
        automation_client,
        body,
        secret=None,
        delivery=None,
        headers={"X-Crossdept-Token": SHARED_TOKEN},
    )
    assert response.status_code == 202
    assert [(d.event, d.issue) for d in Deliveries(inbox.store).recent()] == [
        ("jira:issue_updated", "XD-7")
    ]


@pytest.mark.parametrize("token", [None, "", "wrong", SHARED_TOKEN + "x", SHARED_TOKEN[:-1]])
def test_jira_automation_with_a_wrong_or_missing_token_is_refused(
    automation_client: FlaskClient, inbox: Inbox, token: str | None
) -> None:
    headers = {} if token is None else {"X-Crossdept-Token": token}
    response = signed_post(automation_client, ISSUE_CREATED, secret=None, headers=headers)
    assert_json_refusal(response, 401)
    assert stored(inbox) == []


def test_a_server_webhook_is_accepted_with_the_token_in_its_url(
    automation_client: FlaskClient, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Jira Server webhooks (before Data Center 10) can neither sign nor add a header."""
    body = load_sample("comment_created__handwritten__datacenter_no_issue")
    caplog.set_level(logging.DEBUG)
    accepted = signed_post(
        automation_client,
        body,
        secret=None,
        delivery=None,
        path=f"/webhooks/jira?token={SHARED_TOKEN}",
    )
    assert accepted.status_code == 202
    assert [d.event for d in Deliveries(inbox.store).recent()] == ["comment_created"]
    # The token is neither kept with the delivery (`jobs` shows what is kept) nor logged.
    kept = Deliveries(inbox.store).recent()[0]
    assert SHARED_TOKEN.encode() not in kept.body
    assert SHARED_TOKEN not in caplog.text


@pytest.mark.parametrize("token", ["", "wrong", SHARED_TOKEN + "x", SHARED_TOKEN[:-1]])
def test_a_wrong_token_in_the_url_is_refused(
    automation_client: FlaskClient, inbox: Inbox, token: str
) -> None:
    response = signed_post(
        automation_client, ISSUE_CREATED, secret=None, path=f"/webhooks/jira?token={token}"
    )
    assert_json_refusal(response, 401)
    assert stored(inbox) == []


def test_a_token_in_the_url_is_no_way_around_a_wrong_header_or_signature(
    make_settings: Callable[..., Settings], make_app: Callable[[Settings], Flask], inbox: Inbox
) -> None:
    settings = make_settings(CROSSDEPT_ALLOW_UNSIGNED="true", CROSSDEPT_SHARED_TOKEN=SHARED_TOKEN)
    client = make_app(settings).test_client()
    path = f"/webhooks/jira?token={SHARED_TOKEN}"
    wrong_header = {"X-Crossdept-Token": "wrong"}
    assert (
        signed_post(client, ISSUE_CREATED, secret=None, headers=wrong_header, path=path).status_code
        == 401
    )
    assert signed_post(client, ISSUE_CREATED, secret="forged", path=path).status_code == 401
    assert stored(inbox) == []


def test_a_secret_and_a_token_accept_both_kinds_of_delivery(
    make_settings: Callable[..., Settings], make_app: Callable[[Settings], Flask], inbox: Inbox
) -> None:
    settings = make_settings(CROSSDEPT_ALLOW_UNSIGNED="true", CROSSDEPT_SHARED_TOKEN=SHARED_TOKEN)
    client = make_app(settings).test_client()
    assert signed_post(client, ISSUE_CREATED).status_code == 202
    token = {"X-Crossdept-Token": SHARED_TOKEN}
    other = ISSUE_CREATED.replace(b"1550286113023", b"1550286113024")
    assert signed_post(client, other, secret=None, headers=token).status_code == 202
    assert signed_post(client, other, secret="forged", headers=token).status_code == 401


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b"[]", "not a JSON object"),
        (b"42", "not a JSON object"),
        ({"hello": "world"}, "not a Jira event"),
        ({"webhookEvent": "comment_created", "comment": {"body": "no id"}}, "comment.id"),
        # Only crossdept stores its own group news; a signed body claiming to be one is refused.
        (
            {"webhookEvent": "crossdept:group_news", "news": {"kind": "escalation"}},
            "crossdept's own event, never a Jira webhook",
        ),
    ],
)
def test_a_body_that_is_not_a_jira_event_is_a_400(
    client: FlaskClient, inbox: Inbox, body: bytes | dict[str, object], reason: str
) -> None:
    assert reason in assert_json_refusal(signed_post(client, body), 400)
    assert stored(inbox) == []


def test_an_unusable_delivery_identifier_is_a_400(client: FlaskClient, inbox: Inbox) -> None:
    response = signed_post(client, ISSUE_CREATED, delivery="x" * 8000)
    assert "X-Atlassian-Webhook-Identifier" in assert_json_refusal(response, 400)
    assert stored(inbox) == []


@pytest.fixture
def small_client(
    make_settings: Callable[..., Settings], make_app: Callable[[Settings], Flask]
) -> FlaskClient:
    return make_app(make_settings(CROSSDEPT_MAX_BODY_BYTES="1000")).test_client()


def test_an_announced_oversize_body_is_a_413(small_client: FlaskClient, inbox: Inbox) -> None:
    response = signed_post(small_client, ISSUE_CREATED)
    assert "limit" in assert_json_refusal(response, 413)
    assert stored(inbox) == []


@pytest.mark.parametrize("size", [1001, 5000])
def test_an_oversize_body_without_length_is_a_413_once_read(
    small_client: FlaskClient, inbox: Inbox, size: int
) -> None:
    body = json.dumps({"webhookEvent": "jira:issue_created", "pad": "x" * size}).encode()
    response = small_client.post(
        "/webhooks/jira",
        input_stream=io.BytesIO(body),
        headers={
            "Transfer-Encoding": "chunked",
            "X-Hub-Signature": sign(b"test-webhook-secret", body),
        },
        environ_overrides={"wsgi.input_terminated": True},  # what servers set for chunked bodies
    )
    assert_json_refusal(response, 413)
    assert stored(inbox) == []


def test_a_chunked_body_within_the_limit_is_accepted(small_client: FlaskClient) -> None:
    body = json.dumps({"webhookEvent": "jira:issue_created", "issue": {"key": "XD-1"}}).encode()
    response = small_client.post(
        "/webhooks/jira",
        input_stream=io.BytesIO(body),
        headers={
            "Transfer-Encoding": "chunked",
            "X-Hub-Signature": sign(b"test-webhook-secret", body),
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 202


def test_events_of_our_own_account_are_ignored_without_storing(
    make_settings: Callable[..., Settings], make_app: Callable[[Settings], Flask], inbox: Inbox
) -> None:
    client = make_app(make_settings(CROSSDEPT_JIRA_ACCOUNT_ID=CLOUD_ACTOR)).test_client()
    response = signed_post(client, ISSUE_CREATED)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ignored", "reason": "own event"}
    assert stored(inbox) == []
    # A comment's author counts as the actor, and other people's events still go through.
    own_comment = load_sample("comment_created__mattermost_mattermost-plugin-jira__1")
    assert signed_post(client, own_comment).get_json()["status"] == "ignored"
    other = load_sample("jira_issue_created__mattermost_mattermost-plugin-jira__1")
    assert signed_post(client, other).status_code == 202


def test_on_data_center_our_own_account_is_a_username(
    make_settings: Callable[..., Settings], make_app: Callable[[Settings], Flask], inbox: Inbox
) -> None:
    client = make_app(make_settings(CROSSDEPT_JIRA_ACCOUNT_ID="levbrouk")).test_client()
    body = load_sample("jira_issue_updated__mattermost_mattermost-plugin-jira__5")
    assert signed_post(client, body).get_json() == {"status": "ignored", "reason": "own event"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_the_webhook_are_a_json_405(client: FlaskClient, method: str) -> None:
    response = client.open("/webhooks/jira", method=method)
    assert_json_refusal(response, 405)
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    "path", ["/", "/webhooks", "/webhooks/jira/extra", "/%ff", "/" + "a" * 5000]
)
def test_unknown_paths_are_a_json_404(client: FlaskClient, path: str) -> None:
    assert_json_refusal(client.post(path, data=ISSUE_CREATED), 404)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
        "a" * 8000,
    ],
)
def test_the_body_counts_not_its_label(client: FlaskClient, content_type: str) -> None:
    # Jira always sends JSON; Automation's label varies. The signature covers the bytes, not the label.
    response = signed_post(client, ISSUE_CREATED, headers={"Content-Type": content_type})
    assert response.status_code == 202


def test_random_bytes_never_produce_a_5xx(client: FlaskClient, inbox: Inbox) -> None:
    rng = random.Random(20241122)
    for _ in range(150):
        body = rng.randbytes(rng.randint(0, 3000))
        for secret in (None, "test-webhook-secret"):
            response = signed_post(client, body, secret=secret)
            assert response.status_code in (400, 401), (body[:40], response.data[:200])
            assert response.is_json
    assert stored(inbox) == []


def test_mangled_json_never_produces_a_5xx(client: FlaskClient) -> None:
    rng = random.Random(7)
    original = bytearray(ISSUE_CREATED)
    statuses = set()
    for _ in range(150):
        body = bytearray(original)
        for _ in range(rng.randint(1, 5)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        response = signed_post(client, bytes(body))
        statuses.add(response.status_code)
        assert response.status_code in (200, 202, 400), response.data[:200]
        assert response.is_json
    assert 400 in statuses


@pytest.mark.parametrize(
    "body",
    [
        {"webhookEvent": None, "issue": None},
        {"webhookEvent": "jira:issue_updated", "issue": {"id": True, "key": ["x"]}},
        {"webhookEvent": "jira:issue_updated", "issue": {"fields": "not an object"}},
        {"webhookEvent": "jira:issue_updated", "timestamp": "yesterday"},
        {"webhookEvent": "jira:issue_updated", "user": "admin"},
        {"webhookEvent": "x" * 100_000},
        {"issue": {"key": "XD-1"}, "changelog": {"items": [{"field": None}]}},
        {"webhookEvent": "jira:issue_updated", "issue": {"key": "XD-1", "id": 1e400}},
    ],
)
def test_strange_but_valid_json_never_produces_a_5xx(client: FlaskClient, body: object) -> None:
    response = signed_post(client, encode_body(body))  # type: ignore[arg-type]
    assert response.status_code in (202, 400), response.data[:300]
    assert response.is_json


class BrokenInbox(Inbox):
    """An inbox whose store fails, as a full disk would."""

    def accept(
        self,
        key: str,
        event_name: str,
        issue_key: str | None,
        body: bytes,
        digest: str | None = None,
    ) -> bool:
        raise OSError("disk full")


def test_our_own_failure_is_a_json_500_without_details(
    settings: Settings, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, inbox=BrokenInbox(inbox.store, inbox.queue))
    response = signed_post(app.test_client(), ISSUE_CREATED, delivery="d-500")
    assert response.status_code == 500
    assert response.get_json() == {
        "status": "error",
        "reason": "internal error; see the service log",
    }
    assert b"disk full" not in response.data
    assert "disk full" in caplog.text  # the log has the whole story
    [record] = [r for r in caplog.records if r.message == "request failed"]
    assert record.delivery == "d-500"  # type: ignore[attr-defined]


def test_without_an_inbox_the_app_opens_the_one_the_settings_describe(settings: Settings) -> None:
    app = create_app(settings)
    response = signed_post(app.test_client(), ISSUE_CREATED, delivery="own-inbox")
    assert response.status_code == 202
    assert (settings.data_dir / "crossdept.db").exists()


def test_the_app_refuses_settings_that_cannot_authenticate_webhooks(
    make_settings: Callable[..., Settings],
) -> None:
    from plugin.spine.errors import SettingsError
    from webhooks.settings import load_settings

    unchecked = load_settings(
        {"CROSSDEPT_DATA_DIR": str(make_settings().data_dir)},
        require_jira=False,
        require_webhook=False,
    )
    with pytest.raises(SettingsError, match="CROSSDEPT_WEBHOOK_SECRET is not set"):
        create_app(unchecked)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"X-Padding": "x" * 9000}, "the X-Padding header is 9009 bytes; at most 8192"),
        ({f"X-Extra-{n}": "1" for n in range(120)}, "headers; at most 100 are accepted"),
    ],
)
def test_oversized_headers_are_refused_in_json_and_nothing_is_stored(
    client: FlaskClient, inbox: Inbox, headers: dict[str, str], reason: str
) -> None:
    response = signed_post(
        client,
        load_sample("jira_issue_created__mattermost_mattermost-plugin-jira__1"),
        headers=headers,
    )
    said = assert_json_refusal(response, 431)
    assert reason in said
    assert response.get_json()["status"] == "rejected"
    assert stored(inbox) == []


@pytest.mark.parametrize("headers", [{}, {"X-Crossdept-Token": "not-the-token"}])
def test_an_unsigned_body_is_refused_before_a_byte_of_it_is_read(
    make_settings: Callable[..., Settings],
    make_app: Callable[[Settings], Flask],
    headers: dict[str, str],
) -> None:
    settings = make_settings(CROSSDEPT_ALLOW_UNSIGNED="true", CROSSDEPT_SHARED_TOKEN=SHARED_TOKEN)
    client = make_app(settings).test_client()
    size = 20 * 1024 * 1024
    body = io.BytesIO(b" " * size)
    response = client.post(
        "/webhooks/jira",
        input_stream=body,
        headers={"Content-Type": "application/json", "Content-Length": str(size), **headers},
    )
    assert response.status_code == 401
    assert body.tell() == 0  # not a byte of it was read
