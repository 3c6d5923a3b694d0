"""The escalation rule against the shared fake: asks from changes, the lease, notify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plugin.process.asks import CANCELLED, OPEN, Asks
from plugin.process.audit import Audit
from plugin.process.config import Rules
from plugin.rules.escalation.escalation import router, run_ask_sweep, schedule
from plugin.spine.context import Context
from plugin.spine.events import parse_event
from plugin.spine.leases import Leases
from plugin.spine.schedule import run_periodic
from plugin.spine.store import Store
from tests.fakes import (
    CONTACTS,
    CROSSDEPT,
    HEADS,
    PM,
    REQUESTER,
    FakeJira,
    ManualClock,
    load_default_rules,
)

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
        delivery_key="test",
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


def test_assignments_ask_nobody_unless_the_rules_say_so(store: Store) -> None:
    assigned = update(
        [{"field": "assignee", "fieldId": "assignee"}],
        {"assignee": {"accountId": CONTACTS["技术部"]}},
    )
    router.dispatch(assigned, context(store, FakeJira()))
    assert Asks(store).listing() == []  # three weeks of work are not a question


def with_assignments() -> Rules:
    rules = load_default_rules()
    escalation = rules.escalation.model_copy(update={"asks": ["mention", "assignment"]})
    return rules.model_copy(update={"escalation": escalation})


def test_an_assignment_asks_the_new_assignee_and_done_cancels_every_ask(store: Store) -> None:
    ctx = context(store, FakeJira(), with_assignments())
    router.dispatch(
        update(
            [{"field": "assignee", "fieldId": "assignee"}],
            {"assignee": {"accountId": CONTACTS["技术部"]}},
        ),
        ctx,
    )
    [ask] = Asks(store).listing()
    assert (ask.asked, ask.source, ask.department) == (CONTACTS["技术部"], "assignment", "技术部")
    assert ask.next_due == (START + timedelta(hours=2)).timestamp()  # 10:00 + 2 working hours

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
    sweep = schedule.get("sweep_asks")
    assert sweep.exclusive and sweep.lease_s == 120
    Leases(store).take("sweep_asks", "another-worker", START.timestamp(), 120)
    assert run_periodic(sweep, context(store, jira)) == "another worker is running sweep_asks"
    Leases(store).give_back("sweep_asks", "another-worker")
    assert run_periodic(sweep, context(store, jira)) == "0 due, 0 steps taken, 0 closed"
    assert sum(jira.calls.values()) == 0
    # The run gave its lease back: the next worker's run goes ahead at once.
    assert Leases(store).take("sweep_asks", "next-worker", START.timestamp(), 120)


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

    assert [step for _ask, step, _who in report.stepped] == [2]
    [(key, people, subject)] = jira.notified
    assert (key, people) == ("XD-9", (CONTACTS["技术部"],))
    assert subject == "提醒回复：XD-9"
    [ask] = Asks(store).listing(state=OPEN)
    assert ask.steps_done == 2


def test_a_step_already_sent_is_recognised_by_its_exact_marker_in_crossdepts_own_comment() -> None:
    from plugin.rules.escalation.escalation import already_sent

    me = {"accountId": CROSSDEPT}
    said = {"body": "h4. …\n_本评论由 crossdept 发送（ask:11:1）。_", "author": me}
    issue = {"fields": {"comment": {"comments": [said]}}}
    assert already_sent(issue, 11, 1, me=CROSSDEPT)
    assert not already_sent(issue, 1, 1, me=CROSSDEPT)  # ask 1's first step is not ask 11's
    assert not already_sent(issue, 11, 2, me=CROSSDEPT)
    english = {"body": "_Sent by crossdept (ask:3:2)._", "author": me}
    assert already_sent({"fields": {"comment": {"comments": [english]}}}, 3, 2, me=CROSSDEPT)
    forged = {**said, "author": {"accountId": PM}}  # a person typed the marker
    assert not already_sent({"fields": {"comment": {"comments": [forged]}}}, 11, 1, me=CROSSDEPT)


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

    assert [(step, who) for _id, step, who in report.stepped] == [(2, CONTACTS["技术部"])]
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
    jira = FakeJira(cloud=False)
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


# -- bounded by design: what people's comments can make crossdept say ----------------------------


def mentioning(people: list[str], comment_id: str = "c9", author: str = REQUESTER) -> Any:
    return parse_event(
        {
            "webhookEvent": "comment_created",
            "timestamp": int(START.timestamp() * 1000),
            "comment": {
                "id": comment_id,
                "body": " ".join(f"[~accountid:{person}]" for person in people) + " 请看一下。",
                "author": {"accountId": author},
                "created": "2026-03-02T10:00:00.000+0800",
            },
            "issue": {"key": "XD-9", "fields": {"project": {"key": "XD"}}},
        }
    )


@pytest.mark.parametrize(
    ("people", "counts", "asked", "over", "limit"),
    [
        ("abc", {"open_on_issue": 0, "by_author_today": 0}, "abc", "", None),
        ("abcdefg", {"open_on_issue": 0, "by_author_today": 0}, "abcde", "fg", "per_comment"),
        ("abc", {"open_on_issue": 9, "by_author_today": 0}, "a", "bc", "per_issue"),
        ("abc", {"open_on_issue": 0, "by_author_today": 49}, "a", "bc", "per_author_per_day"),
        ("abc", {"open_on_issue": 12, "by_author_today": 0}, "", "abc", "per_issue"),
        ("abc", {"open_on_issue": 0, "by_author_today": None}, "abc", "", None),
        (
            "abcdefg",
            {"open_on_issue": 2, "by_author_today": 2, "asked_before": "ab"},
            "cde",
            "fg",
            "per_comment",
        ),
    ],
)
def test_the_first_mentions_are_asked_while_every_limit_has_room(
    people: str, counts: dict[str, Any], asked: str, over: str, limit: str | None
) -> None:
    from plugin.process.config import AskLimits
    from plugin.rules.escalation.escalation import within_limits

    counts = {"asked_before": "", **counts}
    found = within_limits(list(people), AskLimits(), **counts)
    assert ("".join(found.asked), "".join(found.over), found.limit) == (asked, over, limit)


def test_a_mention_flood_asks_only_known_people_up_to_the_limit_and_says_so_once(
    store: Store,
) -> None:
    jira = FakeJira()
    jira.add_issue({"id": "10009", "key": "XD-9", "fields": {"summary": "s"}})
    ghosts = [f"557058:{n:08d}-dead-4000-8000-000000000000" for n in range(3)]
    people = [ghosts[0], CONTACTS["技术部"], ghosts[1], *HEADS.values(), ghosts[2]]
    ctx = context(store, jira)

    router.dispatch(mentioning(people), ctx)
    router.dispatch(mentioning(people), ctx)  # Jira's retry

    asked = [ask.asked for ask in Asks(store).listing()]
    # The first 5 mentions are looked at; 2 of them are not people of this Jira.
    assert asked == [CONTACTS["技术部"], HEADS["市场部"], HEADS["技术部"]]
    [said] = [body for body in jira.comments["XD-9"] if body]
    assert said.startswith("h4. 部分提问未计时：XD-9")
    assert "一条评论最多为 5 人计时" in said
    assert "557058:" not in said  # mentions nobody, least of all those it left out
    notes = [(e.action, e.detail) for e in Audit(store).entries("XD-9")]
    assert ("asks over the limit", f"per_comment: {len(people) - 5} not asked") in notes
    assert ("mentions not asked", "unknown or inactive: " + ", ".join(sorted(ghosts[:2]))) in notes


def test_a_replayed_done_event_cancels_nothing_while_jira_says_open(store: Store) -> None:
    jira = FakeJira()
    jira.add_issue({"id": "10009", "key": "XD-9", "fields": {"status": {"name": "进行中"}}})
    open_ask(store)
    done = {"status": {"name": "已完成", "statusCategory": {"key": "done"}}}

    router.dispatch(
        update([{"field": "status", "fieldId": "status", "toString": "已完成"}], done),
        context(store, jira),
    )

    [ask] = Asks(store).listing()
    assert ask.state == OPEN


def test_steps_of_one_issue_falling_due_together_are_said_in_one_comment(store: Store) -> None:
    jira = FakeJira()
    jira.add_issue(
        {"id": "10009", "key": "XD-9", "fields": {"summary": "s", "status": {"name": "进行中"}}}
    )
    open_ask(store)  # at 49 hours its head hears of it
    Asks(store).record_step(Asks(store).listing()[0].id, 1, START.timestamp())  # reminded
    later = START + timedelta(hours=24)
    Asks(store).open(  # asked a day later: at 49 hours it is reminded
        issue="XD-9",
        asked=CONTACTS["产品部"],
        asked_by=REQUESTER,
        source="mention",
        source_id="c2",
        asked_at=later.timestamp(),
        next_due=(later + timedelta(hours=24)).timestamp(),
        department="产品部",
    )

    report = run_ask_sweep(context(store, jira, at=START + timedelta(hours=49)))

    assert len(report.stepped) == 2
    [said] = jira.comments["XD-9"]
    assert said is not None and said.count("h4. ") == 2
    assert "h4. 提醒回复：XD-9" in said and "h4. 升级：XD-9" in said
    assert "\n\n----\n\n" in said


def test_due_asks_are_batched_without_splitting_an_issue() -> None:
    from plugin.process.asks import Ask
    from plugin.rules.escalation.escalation import by_issue_batches

    def ask(number: int, issue: str) -> Ask:
        return Ask(
            number,
            issue,
            "p",
            None,
            "mention",
            f"c{number}",
            None,
            None,
            0.0,
            OPEN,
            0,
            None,
            None,
            None,
        )

    due = [ask(1, "XD-1"), ask(2, "XD-2"), ask(3, "XD-1"), ask(4, "XD-3"), ask(5, "XD-2")]
    batches = by_issue_batches(due, 3)
    assert [[a.id for a in batch] for batch in batches] == [[1, 3], [2, 5, 4]]


def test_a_sweep_after_an_outage_takes_the_rung_that_is_due_in_one_comment(store: Store) -> None:
    jira = FakeJira()
    jira.add_issue(
        {"id": "10009", "key": "XD-9", "fields": {"summary": "s", "status": {"name": "进行中"}}}
    )
    open_ask(store)  # reminders at 2 and 24 h, head at 48 h, PM at 72 h: nothing ran for 3 days

    first = run_ask_sweep(context(store, jira, at=START + timedelta(hours=73)))
    again = run_ask_sweep(context(store, jira, at=START + timedelta(hours=73, minutes=1)))

    assert [(step, who) for _id, step, who in first.stepped] == [(4, PM)]
    assert again.stepped == ()
    [said] = jira.comments["XD-9"]
    assert said is not None and said.startswith("h4. 升级：XD-9") and "ask:1:4" in said
    [ask] = Asks(store).listing()
    assert (ask.steps_done, ask.next_due) == (4, None)


@pytest.mark.parametrize(
    ("hours", "done", "rung"),
    [
        (1, 0, 0),
        (3, 0, 0),
        (23, 0, 0),
        (25, 0, 1),
        (49, 0, 2),
        (73, 0, 3),
        (73, 2, 3),
        (49, 2, 2),
        (100, 3, 3),
    ],
)
def test_the_rung_due_is_the_last_one_whose_time_has_come(hours: int, done: int, rung: int) -> None:
    from plugin.process.ladder import due_rung

    rules = load_default_rules()
    at = (START + timedelta(hours=hours)).timestamp()
    assert due_rung(rules, START.timestamp(), done, at) == rung


def test_the_escalation_label_goes_when_the_last_escalated_ask_is_answered(store: Store) -> None:
    jira = FakeJira()
    jira.add_issue(
        {"id": "10009", "key": "XD-9", "fields": {"summary": "s", "status": {"name": "进行中"}}}
    )
    open_ask(store)
    run_ask_sweep(context(store, jira, at=START + timedelta(hours=49)))  # the head hears of it
    assert jira.issues["XD-9"]["fields"]["labels"] == ["crossdept-催办"]

    reply = parse_event(
        {
            "webhookEvent": "comment_created",
            "timestamp": int((START + timedelta(hours=50)).timestamp() * 1000),
            "comment": {
                "id": "c7",
                "body": "预算已确认。",
                "author": {"accountId": CONTACTS["技术部"]},
                "created": "2026-03-04T12:00:00.000+0800",
            },
            "issue": {"key": "XD-9", "fields": {"project": {"key": "XD"}}},
        }
    )
    router.dispatch(reply, context(store, jira, at=START + timedelta(hours=50)))

    assert jira.issues["XD-9"]["fields"]["labels"] == []
    notes = [(e.action, e.detail) for e in Audit(store).entries("XD-9")]
    assert ("label removed", "crossdept-催办") in notes


def test_a_minutes_record_in_a_comment_asks_nobody(store: Store) -> None:
    owner, recorder, asked = CONTACTS["技术部"], HEADS["财务部"], CONTACTS["产品部"]
    record = parse_event(
        {
            "webhookEvent": "comment_created",
            "timestamp": int(START.timestamp() * 1000),
            "comment": {
                "id": "c8",
                "body": f"会议记录\n* 待办：[~accountid:{owner}] 3月10日 提交技术方案\n"
                f"记录人：[~accountid:{recorder}]\n另外 [~accountid:{asked}] 预算能确认吗？",
                "author": {"accountId": REQUESTER},
                "created": "2026-03-02T10:00:00.000+0800",
            },
            "issue": {"key": "XD-9", "fields": {"project": {"key": "XD"}}},
        }
    )
    router.dispatch(record, context(store, FakeJira()))
    assert [ask.asked for ask in Asks(store).listing()] == [asked]  # the question only


def test_an_fyi_mention_starts_no_clock_until_an_edit_asks_something(store: Store) -> None:
    def comment(body: str, webhook: str = "comment_created") -> Any:
        return parse_event(
            {
                "webhookEvent": webhook,
                "timestamp": int(START.timestamp() * 1000),
                "comment": {
                    "id": "c7",
                    "body": body,
                    "author": {"accountId": REQUESTER},
                    "created": "2026-03-02T10:00:00.000+0800",
                    "updated": "2026-03-02T10:05:00.000+0800",
                },
                "issue": {"key": "XD-9", "fields": {"project": {"key": "XD"}}},
            }
        )

    ctx = context(store, FakeJira())
    contact = CONTACTS["技术部"]
    router.dispatch(comment(f"FYI [~accountid:{contact}] 方案已更新"), ctx)
    assert Asks(store).listing() == []  # told, not asked: no head is paged over it

    router.dispatch(
        comment(f"[~accountid:{contact}] 方案已更新，能否今天确认？", "comment_updated"), ctx
    )
    [ask] = Asks(store).listing(state=OPEN)
    assert ask.asked == contact

    router.dispatch(comment(f"FYI [~accountid:{contact}] 方案已更新", "comment_updated"), ctx)
    assert Asks(store).listing(state=OPEN) == []  # the question was taken back


def test_an_ask_stands_where_its_next_due_time_is_when_the_admin_changes_the_ladder(
    store: Store,
) -> None:
    jira = FakeJira()
    jira.add_issue(
        {"id": "10009", "key": "XD-9", "fields": {"summary": "s", "status": {"name": "进行中"}}}
    )
    open_ask(store)
    # The 2-hour reminder was said under the shipped ladder; the 24-hour one is next.
    [ask] = Asks(store).listing()
    Asks(store).record_steps([(ask.id, 0, 1, (START + timedelta(hours=24)).timestamp())])
    # Then the admin drops the 2-hour tier: step 1 done would now mean "reminded at 24 hours",
    # and counting from it would tell the head after 25 hours.
    rules = load_default_rules()
    escalation = rules.escalation.model_copy(update={"reminders": rules.escalation.reminders[1:]})
    rules = rules.model_copy(update={"escalation": escalation})

    report = run_ask_sweep(context(store, jira, rules, START + timedelta(hours=25)))

    assert [(step, who) for _id, step, who in report.stepped] == [(1, CONTACTS["技术部"])]
    [said] = jira.comments["XD-9"]
    assert said is not None and said.startswith("h4. 提醒回复：XD-9")


def test_an_ask_past_the_end_of_a_shortened_ladder_says_nothing_more(store: Store) -> None:
    jira = FakeJira()
    jira.add_issue(
        {"id": "10009", "key": "XD-9", "fields": {"summary": "s", "status": {"name": "进行中"}}}
    )
    open_ask(store)
    [ask] = Asks(store).listing()
    Asks(store).record_steps([(ask.id, 0, 3, (START + timedelta(hours=96)).timestamp())])

    report = run_ask_sweep(context(store, jira, at=START + timedelta(hours=100)))

    assert report.stepped == () and "XD-9" not in jira.comments
    [ask] = Asks(store).listing()
    assert ask.next_due is None  # no sweep picks it up again
