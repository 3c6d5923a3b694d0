"""The escalation rule against the shared fake: asks from changes, the lease, notify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plugin.asks import CANCELLED, OPEN, Asks
from plugin.context import Context
from plugin.escalation import LEASE, router, run_ask_sweep
from plugin.events import parse_event
from plugin.leases import Leases
from plugin.rules import Rules
from plugin.store import Store
from tests.fakes import CONTACTS, HEADS, REQUESTER, FakeJira, ManualClock, load_default_rules

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    return sqlite_store


def context(
    store: Store, jira: FakeJira, rules: Rules | None = None, at: datetime = START
) -> Context:
    return Context(
        rules=rules or load_default_rules(),
        jira=jira,
        store=store,
        clock=ManualClock(at),
        delivery_id="test",
    )


def update(changes: list[dict[str, Any]], fields: dict[str, Any], actor: str = REQUESTER) -> Any:
    return parse_event(
        {
            "webhookEvent": "jira:issue_updated",
            "timestamp": int(START.timestamp() * 1000),
            "user": {"accountId": actor},
            "issue": {"key": "XD-9", "fields": {"project": {"key": "XD"}, **fields}},
            "changelog": {"id": "100", "items": changes},
        }
    )


def test_an_assignment_asks_the_new_assignee_and_done_cancels_every_ask(store: Store) -> None:
    ctx = context(store, FakeJira())
    router.dispatch(
        update(
            [{"field": "assignee", "fieldId": "assignee"}],
            {"assignee": {"accountId": CONTACTS["技术部"]}},
        ),
        ctx,
    )
    [ask] = Asks(store).listing()
    assert (ask.asked, ask.source, ask.department) == (CONTACTS["技术部"], "assignment", "技术部")
    assert ask.next_due == (START + timedelta(hours=24)).timestamp()

    done = {"status": {"name": "已完成", "statusCategory": {"key": "done"}}}
    router.dispatch(
        update([{"field": "status", "fieldId": "status", "toString": "已完成"}], done), ctx
    )
    assert Asks(store).listing(state=CANCELLED)[0].id == ask.id


def test_self_assignment_asks_nobody_and_a_waiting_status_asks_the_assignee(store: Store) -> None:
    rules = load_default_rules()
    escalation = rules.escalation.model_copy(
        update={"asks": ["assignment", "waiting_status"], "waiting_statuses": ["等待反馈"]}
    )
    ctx = context(store, FakeJira(), rules.model_copy(update={"escalation": escalation}))
    me = CONTACTS["技术部"]
    router.dispatch(update([{"field": "assignee"}], {"assignee": {"accountId": me}}, actor=me), ctx)
    assert Asks(store).listing() == []

    waiting = [
        {"field": "status", "fieldId": "status", "fromString": "进行中", "toString": "等待反馈"}
    ]
    router.dispatch(update(waiting, {"assignee": {"accountId": HEADS["技术部"]}}), ctx)
    [ask] = Asks(store).listing()
    assert (ask.asked, ask.source) == (HEADS["技术部"], "waiting_status")


def test_only_one_sweep_runs_at_a_time_and_nothing_due_costs_no_call(store: Store) -> None:
    jira = FakeJira()
    Leases(store).take(LEASE, "another-worker", START.timestamp(), 120)
    assert run_ask_sweep(context(store, jira)).skipped == "another sweep holds the lease"
    Leases(store).give_back(LEASE, "another-worker")
    report = run_ask_sweep(context(store, jira))
    assert report.due == 0 and sum(jira.calls.values()) == 0


def test_notify_also_emails_the_recipient(store: Store) -> None:
    jira = FakeJira()
    jira.add_issue(
        {"id": "10009", "key": "XD-9", "fields": {"summary": "s", "status": {"name": "进行中"}}}
    )
    rules = load_default_rules()
    rules = rules.model_copy(
        update={"escalation": rules.escalation.model_copy(update={"notify": True})}
    )
    open_ask(store, excerpt="预算？")

    report = run_ask_sweep(context(store, jira, rules, START + timedelta(hours=25)))

    assert [step for _ask, step, _who in report.stepped] == [1]
    [(key, people, subject)] = jira.notified
    assert (key, people) == ("XD-9", (CONTACTS["技术部"],))
    assert subject == "提醒回复：XD-9"
    [ask] = Asks(store).listing(state=OPEN)
    assert ask.steps_done == 1


def test_a_step_already_sent_is_recognised_by_its_exact_marker() -> None:
    from plugin.escalation import already_sent

    issue = {
        "fields": {
            "comment": {"comments": [{"body": "h4. …\n_本评论由 crossdept 发送（ask:11:1）。_"}]}
        }
    }
    assert already_sent(issue, 11, 1)
    assert not already_sent(issue, 1, 1)  # ask 1's first step is not ask 11's
    assert not already_sent(issue, 11, 2)
    english = {"fields": {"comment": {"comments": [{"body": "_Sent by crossdept (ask:3:2)._"}]}}}
    assert already_sent(english, 3, 2)


def open_ask(store: Store, asked: str = CONTACTS["技术部"], excerpt: str | None = None) -> None:
    Asks(store).open(
        issue="XD-9",
        asked=asked,
        asked_by=REQUESTER,
        source="mention",
        source_id="c1",
        asked_at=START.timestamp(),
        next_due=(START + timedelta(hours=24)).timestamp(),
        department="技术部",
        excerpt=excerpt,
    )


def test_a_dry_run_says_which_steps_it_would_take_and_writes_nothing(store: Store) -> None:
    jira = FakeJira()
    jira.add_issue(
        {"id": "10009", "key": "XD-9", "fields": {"summary": "s", "status": {"name": "进行中"}}}
    )
    open_ask(store)

    report = run_ask_sweep(context(store, jira, at=START + timedelta(hours=25)), dry_run=True)

    assert [(step, who) for _id, step, who in report.stepped] == [(1, CONTACTS["技术部"])]
    assert jira.comments == {}
    [ask] = Asks(store).listing()
    assert ask.steps_done == 0


def test_someone_elses_reply_does_not_stop_the_clock(store: Store) -> None:
    open_ask(store)
    reply = parse_event(
        {
            "webhookEvent": "comment_created",
            "timestamp": int((START + timedelta(hours=1)).timestamp() * 1000),
            "comment": {
                "id": "c2",
                "body": "我来回答：50 万。",
                "author": {"accountId": HEADS["财务部"]},
                "created": "2026-03-02T11:00:00.000+0800",
            },
            "issue": {"key": "XD-9", "fields": {"project": {"key": "XD"}}},
        }
    )
    router.dispatch(reply, context(store, FakeJira()))
    [ask] = Asks(store).listing()
    assert ask.state == OPEN


# -- Data Center's comment deliveries ------------------------------------------------------------
# DC sends `comment_*` without the issue (only comment.self names it by id) and a companion
# jira:issue_updated (issue_commented / issue_comment_edited / issue_comment_deleted) with the issue
# and the comment. Shapes from public captures: zulip's Jira fixtures
# (comment_created_no_issue_details.json, commented_v1.json, comment_edited_v2.json) and
# mattermost-plugin-jira PR #118 (tests/samples/comment_created__mattermost_...__2.json).

DC_CREATED = "comment_created__handwritten__datacenter_no_issue"
DC_COMMENTED = "jira_issue_updated__handwritten__datacenter_issue_commented"
DC_EDITED = "comment_updated__handwritten__datacenter_no_issue"
DC_EDITED_COMPANION = "jira_issue_updated__handwritten__datacenter_issue_comment_edited"
DC_DELETED = "comment_deleted__handwritten__datacenter_no_issue"
DC_DELETED_COMPANION = "jira_issue_updated__handwritten__datacenter_issue_comment_deleted"


def dc_jira() -> FakeJira:
    jira = FakeJira()
    jira.add_issue({"id": "10013", "key": "XD-9", "fields": {"project": {"key": "XD"}}})
    return jira


def dc_event(name: str) -> Any:
    from tests.conftest import load_sample_json

    return parse_event(load_sample_json(name))


@pytest.mark.parametrize(
    "deliveries",
    [
        [DC_CREATED],
        [DC_COMMENTED],
        [DC_CREATED, DC_COMMENTED],
        [DC_COMMENTED, DC_CREATED],
        [DC_COMMENTED, DC_CREATED, DC_COMMENTED],  # a retry on top
    ],
    ids=["comment alone", "companion alone", "comment first", "companion first", "retried"],
)
def test_a_data_center_comment_is_one_ask_whichever_delivery_comes(
    store: Store, deliveries: list[str]
) -> None:
    jira = dc_jira()
    ctx = context(store, jira)
    for name in deliveries:
        router.dispatch(dc_event(name), ctx)

    [ask] = Asks(store).listing()
    assert (ask.issue, ask.asked, ask.source, ask.source_id) == (
        "XD-9",
        "engineering.contact",
        "mention",
        "12000",
    )
    assert ask.asked_by == "requester"
    assert ask.asked_at == datetime(2026, 3, 2, 2, 0, tzinfo=UTC).timestamp()
    # Only the issue-less delivery costs a read, to learn the issue's key and project.
    assert jira.calls_to("GET /rest/api/2/issue/{key}") == deliveries.count(DC_CREATED)


@pytest.mark.parametrize("edit", [DC_EDITED, DC_EDITED_COMPANION])
def test_a_data_center_edit_that_drops_the_mention_cancels_the_ask(store: Store, edit: str) -> None:
    ctx = context(store, dc_jira())
    router.dispatch(dc_event(DC_COMMENTED), ctx)
    router.dispatch(dc_event(edit), ctx)
    assert Asks(store).listing(state=OPEN) == []
    assert [ask.source_id for ask in Asks(store).listing(state=CANCELLED)] == ["12000"]


@pytest.mark.parametrize("delete", [DC_DELETED, DC_DELETED_COMPANION])
def test_a_data_center_delete_cancels_the_ask(store: Store, delete: str) -> None:
    ctx = context(store, dc_jira())
    router.dispatch(dc_event(DC_CREATED), ctx)
    router.dispatch(dc_event(delete), ctx)
    assert Asks(store).listing(state=OPEN) == []


def test_a_real_server_comment_without_issue_is_read_only_when_it_can_matter(
    store: Store,
) -> None:
    """The mattermost capture (a real Server comment_created on issue 10013): a remark that asks
    nobody, by someone nobody waits on, costs no read; one that mentions someone is read by its
    issue id and, outside `jira.projects`, asks no one."""
    from tests.conftest import load_sample_json

    jira = FakeJira()
    jira.add_issue({"id": "10013", "key": "MM-1", "fields": {"project": {"key": "MM"}}})
    raw = load_sample_json("comment_created__mattermost_mattermost-plugin-jira__2")
    event = parse_event(raw)
    assert event.issue_key is None and event.issue_id == "10013"

    router.dispatch(event, context(store, jira))
    assert jira.calls_to("GET /rest/api/2/issue/{key}") == 0

    raw["comment"]["body"] = "[~engineering.contact] unik?"
    router.dispatch(parse_event(raw), context(store, jira))
    assert jira.calls_to("GET /rest/api/2/issue/{key}") == 1
    assert Asks(store).listing() == []


def test_a_reply_naming_no_issue_is_read_when_its_author_is_waited_on(store: Store) -> None:
    jira = dc_jira()
    ctx = context(store, jira)
    router.dispatch(dc_event(DC_COMMENTED), ctx)  # the requester asks engineering.contact
    from tests.conftest import load_sample_json

    raw = load_sample_json(DC_CREATED)
    raw["comment"] |= {
        "id": "12001",
        "self": raw["comment"]["self"].replace("12000", "12001"),
        "body": "预算已确认。",
        "author": {"name": "engineering.contact", "key": "JIRAUSER10105"},
        "created": "2026-03-02T11:00:00.000+0800",
        "updated": "2026-03-02T11:00:00.000+0800",
    }
    del raw["comment"]["updateAuthor"]

    router.dispatch(parse_event(raw), ctx)

    assert Asks(store).listing(state=OPEN) == []
    assert jira.calls_to("GET /rest/api/2/issue/{key}") == 1


def test_a_comment_deleted_with_its_issue_is_nothing_to_do(store: Store) -> None:
    """Deleting an issue deletes its comments; Data Center's comment_deleted then names an issue
    that is gone: no ask of it is left to cancel, and the job must not fail on the 404."""
    jira = dc_jira()
    ctx = context(store, jira)
    router.dispatch(dc_event(DC_CREATED), ctx)
    del jira.issues["XD-9"]

    router.dispatch(dc_event(DC_DELETED), ctx)  # a handler failing would raise here

    assert jira.calls_to("GET /rest/api/2/issue/{key}") == 2  # the 404 was asked and taken
