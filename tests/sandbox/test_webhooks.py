"""Webhooks: signed, identified, retried, duplicated and reordered like Jira Cloud's."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import jira
import responses as responses_lib

from sandbox.app import Sandbox
from sandbox.webhooks import WebhookOutbox, sign

from .conftest import CROSSDEPT_ACCOUNT


class Receiver:
    """Records deliveries and answers with scripted statuses (200 once the script runs out)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], bytes]] = []

    def __call__(self, headers: dict[str, str], body: bytes) -> int:
        self.received.append((headers, body))
        return self.statuses.pop(0) if self.statuses else 200

    def events(self) -> list[str]:
        return [json.loads(body)["webhookEvent"] for _, body in self.received]


def create(client: jira.JIRA, summary: str) -> str:
    issue = client.create_issue(
        fields={"project": {"key": "XD"}, "issuetype": {"name": "Task"}, "summary": summary},
        prefetch=False,
    )
    return str(issue.key)


def test_signature_is_hmac_sha256_of_the_raw_body(cloud_jira: jira.JIRA, cloud: Sandbox) -> None:
    create(cloud_jira, "签名")
    receiver = Receiver()
    cloud.deliver_webhooks(receiver)
    [(headers, body)] = receiver.received
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Hub-Signature"], expected)
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert "X-Atlassian-Webhook-Retry" not in headers
    event = json.loads(body)
    assert event["webhookEvent"] == "jira:issue_created"
    assert event["user"]["accountId"] == CROSSDEPT_ACCOUNT
    assert event["issue"]["fields"]["summary"] == "签名"
    assert {"field": "summary", "toString": "签名"}.items() <= next(
        i for i in event["changelog"]["items"] if i["field"] == "summary"
    ).items()


def test_documented_test_vector() -> None:
    assert sign("wrong-secret", b"smth") == (
        "sha256=beb656dd03b5a81bee94aab4966943bf694929fcd359c45a1947277df2541a5d"
    )


def test_identifiers_are_unique_and_kept_on_retries(cloud_jira: jira.JIRA, cloud: Sandbox) -> None:
    create(cloud_jira, "a")
    create(cloud_jira, "b")
    receiver = Receiver(503, 200)
    cloud.deliver_webhooks(receiver)
    cloud.deliver_webhooks(receiver)
    ids = [h["X-Atlassian-Webhook-Identifier"] for h, _ in receiver.received]
    assert len(set(ids[:2])) == 2
    assert ids[2] == ids[0]
    assert receiver.received[2][0]["X-Atlassian-Webhook-Retry"] == "1"
    assert not cloud.outbox.pending


def test_client_errors_are_not_retried(cloud_jira: jira.JIRA, cloud: Sandbox) -> None:
    create(cloud_jira, "a")
    cloud.deliver_webhooks(Receiver(400))
    assert not cloud.outbox.pending
    assert len(cloud.outbox.failed) == 1


def test_duplicate_next_delivers_twice_with_the_same_identifier(
    cloud_jira: jira.JIRA, cloud: Sandbox
) -> None:
    cloud.duplicate_next(1)
    create(cloud_jira, "a")
    create(cloud_jira, "b")
    receiver = Receiver()
    cloud.deliver_webhooks(receiver)
    ids = [h["X-Atlassian-Webhook-Identifier"] for h, _ in receiver.received]
    assert len(ids) == 3
    assert ids[0] == ids[1] != ids[2]
    assert receiver.received[1][0]["X-Atlassian-Webhook-Retry"] == "1"
    assert receiver.received[0][1] == receiver.received[1][1]


def test_reorder_delivers_a_batch_out_of_order(cloud_jira: jira.JIRA, cloud: Sandbox) -> None:
    for n in range(4):
        create(cloud_jira, f"#{n}")
    queued = [d.identifier for d in cloud.outbox.pending]
    receiver = Receiver()
    cloud.deliver_webhooks(receiver, reorder=True)
    delivered = [h["X-Atlassian-Webhook-Identifier"] for h, _ in receiver.received]
    assert sorted(delivered) == sorted(queued)
    assert delivered != queued


def test_reordering_is_repeatable_with_the_same_seed() -> None:
    def order(seed: int) -> list[str]:
        outbox = WebhookOutbox(rng_seed=seed)
        for n in range(5):
            outbox.enqueue("jira:issue_updated", {"n": n})
        sent: list[int] = []
        outbox.deliver(lambda h, b: sent.append(json.loads(b)["n"]) or 200, reorder=True)
        return [str(n) for n in sent]

    assert order(7) == order(7)


def test_unsubscribed_events_are_not_queued() -> None:
    outbox = WebhookOutbox(events=frozenset({"comment_created"}))
    assert outbox.enqueue("jira:issue_updated", {}) is None
    assert outbox.enqueue("comment_created", {}) is not None


def test_a_failed_send_is_retried_only_after_the_retry_delay() -> None:
    outbox = WebhookOutbox(retry_delay_s=(0.3, 0.3))
    outbox.enqueue("jira:issue_updated", {"n": 1})
    answers = iter([503, 200])
    sent: list[str | None] = []

    def deliver(headers: dict[str, str], _body: bytes) -> int:
        sent.append(headers.get("X-Atlassian-Webhook-Retry"))
        return next(answers)

    outbox.deliver(deliver)
    outbox.deliver(deliver)  # too soon: Jira waits before a retry
    assert sent == [None] and outbox.busy
    time.sleep(0.35)
    outbox.deliver(deliver)
    assert sent == [None, "1"] and not outbox.busy


def test_a_duplicate_share_delivers_that_share_twice() -> None:
    outbox = WebhookOutbox(duplicate_share=0.2, rng_seed=3)
    for n in range(1000):
        outbox.enqueue("jira:issue_updated", {"n": n})
    sent: list[str] = []
    outbox.deliver(
        lambda headers, _body: sent.append(headers["X-Atlassian-Webhook-Identifier"]) or 200
    )
    repeated = len(sent) - len(set(sent))
    assert len(set(sent)) == 1000 and 150 < repeated < 250


def test_several_webhook_urls_are_sent_to_in_turn() -> None:
    from sandbox.webhooks import http_deliverer

    with responses_lib.RequestsMock() as mocked:
        for url in ("http://a.test/hook", "http://b.test/hook"):
            mocked.add(responses_lib.POST, url, status=202)
        deliver = http_deliverer(["http://a.test/hook", "http://b.test/hook"])
        for _ in range(4):
            deliver({}, b"{}")
        hosts = [call.request.url.split("/")[2] for call in mocked.calls]
    assert hosts == ["a.test", "b.test", "a.test", "b.test"]
