"""Stage trees in Jira: built once, resumed after crashes, extended when departments join, never duplicated."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin.process.config import Rules
from plugin.process.creation import SETTLE_SECONDS
from plugin.process.notices import Notices
from plugin.rules.trees.tree_records import TreeRecords
from plugin.rules.trees.trees import (
    BUSY_RETRY_S,
    ITEM_PROPERTY,
    LEASE_SECONDS,
    TREE_PROPERTY,
    RecordedTree,
    TreeBusyError,
    apply_tree,
    confirm_items,
    render_tree_summary,
    router,
)
from plugin.spine.context import Context
from plugin.spine.errors import TransientGatewayError, uses_an_attempt
from plugin.spine.events import parse_event
from plugin.spine.store import Store
from tests.fakes import (
    ALL_TABLES,
    CONTACTS,
    EPIC_LINK_FIELD,
    HEADS,
    CrashError,
    FakeJira,
    ManualClock,
    data_center_rules,
    fail_with,
    issue_event,
    load_default_rules,
    rate_limited,
    request_issue,
    transient,
)

DEFAULT_4_DEPT_ITEMS = 35  # 6 stages + 29 sub-tasks for 市场部 + three collaborating departments


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'crossdept.db'}")
    store.create_all(ALL_TABLES)
    yield store
    store.engine.dispose()


@pytest.fixture
def rules() -> Rules:
    return load_default_rules()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make(jira: FakeJira, rules: Rules, store: Store, clock: ManualClock) -> Context:
    return Context(rules=rules, jira=jira, store=store, clock=clock, delivery_key="test")


def cloud_with_request(**request: object) -> FakeJira:
    jira = FakeJira()
    jira.add_issue(request_issue(**request))  # type: ignore[arg-type]
    return jira


def is_summary(text: str, key: str) -> bool:
    return f"(tree:{key})" in text or f"（tree:{key}）" in text


def summary_comments(jira: FakeJira, key: str = "XD-1") -> list[str]:
    """The request's summary comment(s), recognised by crossdept's marker line."""
    return [text for text in jira.comments.get(key, []) if text and is_summary(text, key)]


def problem_comments(jira: FakeJira, key: str = "XD-1") -> list[str]:
    """Every other comment crossdept wrote on the request."""
    return [text for text in jira.comments.get(key, []) if text and not is_summary(text, key)]


def calls_without_setup(jira: FakeJira) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (endpoint, _status), count in jira.calls.items():
        totals[endpoint] = totals.get(endpoint, 0) + count
    return totals


def test_a_new_request_gets_its_whole_tree_in_two_bulk_calls(store, rules, clock) -> None:
    jira = cloud_with_request()
    outcome = apply_tree("XD-1", make(jira, rules, store, clock))

    assert outcome.status == "complete"
    assert len(jira.refs("XD-1")) == DEFAULT_4_DEPT_ITEMS
    assert calls_without_setup(jira) == {
        "GET /rest/api/2/issue/{key}": 1,
        "GET /rest/api/2/project/{project}": 1,
        "GET /rest/api/2/user/bulk": 1,
        "POST /rest/api/2/issue/bulk": 2,  # stages, then sub-tasks
        "PUT /rest/api/2/issue/{key}/properties/{name}": 1,
        "POST /rest/api/2/issue/{key}/comment": 1,  # the request's summary
    }
    record = jira.issues["XD-1"]["properties"][TREE_PROPERTY]
    assert record["items"] == outcome.keys
    assert len(record["items"]) == DEFAULT_4_DEPT_ITEMS


def test_items_have_one_owner_due_dates_within_parents_and_cloud_parents(
    store, rules, clock
) -> None:
    jira = cloud_with_request()
    outcome = apply_tree("XD-1", make(jira, rules, store, clock))
    by_ref = {ref: jira.issues[key] for ref, key in outcome.keys.items()}

    stage1 = by_ref["s1"]["fields"]
    assert stage1["summary"] == "【XD-1 新品推广】阶段1 需求发起与目标对齐"
    assert stage1["parent"] == {"key": "XD-1"}
    assert stage1["duedate"] == "2026-03-05"
    signoff = by_ref["s1.d2.技术部"]["fields"]
    assert signoff["summary"] == "《合作目标共识函》 — 技术部"
    assert signoff["assignee"] == {"accountId": HEADS["技术部"]}
    assert signoff["parent"] == {"key": outcome.keys["s1"]}
    assert by_ref["s2.d1.财务部"]["fields"]["assignee"] == {"accountId": CONTACTS["财务部"]}
    assert by_ref["s1.d2.技术部"]["properties"][ITEM_PROPERTY] == {
        "request": "XD-1",
        "ref": "s1.d2.技术部",
        "department": "技术部",  # whose item it is, for the ownership rule
        "stage_start": "2026-03-02",
    }
    assert by_ref["s2"]["properties"][ITEM_PROPERTY]["stage_start"] == "2026-03-06"
    for ref, issue in by_ref.items():
        mark = issue["properties"][ITEM_PROPERTY]
        assert (mark["request"], mark["ref"]) == ("XD-1", ref)
        assert mark["stage_start"] <= issue["fields"]["duedate"]
        if "." in ref:
            parent = by_ref[ref.split(".")[0]]
            assert issue["fields"]["duedate"] <= parent["fields"]["duedate"]


def test_a_redelivered_event_creates_nothing_and_reads_once(store, rules, clock) -> None:
    jira = cloud_with_request()
    context = make(jira, rules, store, clock)
    event = parse_event(issue_event(jira.issues["XD-1"]))
    router.dispatch(event, context)
    before = sum(jira.calls.values())

    router.dispatch(event, context)

    assert len(jira.refs("XD-1")) == DEFAULT_4_DEPT_ITEMS
    # One GET of the request and one bulk read confirming its items in Jira, nothing else.
    assert sum(jira.calls.values()) - before == 2


def test_a_duplicate_apply_with_a_lost_store_trusts_the_tree_property(
    store, rules, clock, tmp_path
) -> None:
    jira = cloud_with_request()
    apply_tree("XD-1", make(jira, rules, store, clock))
    fresh = Store(f"sqlite:///{tmp_path / 'other.db'}")
    fresh.create_all(ALL_TABLES)

    outcome = apply_tree("XD-1", make(jira, rules, fresh, clock))

    assert outcome.created == {}
    assert len(jira.refs("XD-1")) == DEFAULT_4_DEPT_ITEMS
    fresh.engine.dispose()


def test_two_workers_racing_build_one_tree(store, rules, clock) -> None:
    jira = cloud_with_request()
    jira.bulk_delay = 0.05  # widen the window in which both could create
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        for _ in range(100):
            try:
                outcomes.append(apply_tree("XD-1", make(jira, rules, store, clock)).status)
                return
            except TreeBusyError:
                threading.Event().wait(0.02)
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
                return

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert outcomes == ["complete", "complete"]
    refs = jira.refs("XD-1")
    assert len(refs) == len(set(refs)) == DEFAULT_4_DEPT_ITEMS
    assert jira.bulk_calls == 2


def test_a_live_claim_makes_the_second_apply_back_off(store, rules, clock) -> None:
    jira = cloud_with_request()
    assert TreeRecords(store).claim("XD-1", "someone-else", clock().timestamp(), 300)
    with pytest.raises(TreeBusyError) as busy:
        apply_tree("XD-1", make(jira, rules, store, clock))
    # Look again soon (builds take seconds), without using up an attempt.
    assert busy.value.retry_after == pytest.approx(BUSY_RETRY_S)
    assert not uses_an_attempt(busy.value)
    assert jira.refs("XD-1") == []


def test_a_crashed_workers_claim_expires(store, rules, clock) -> None:
    jira = cloud_with_request()
    TreeRecords(store).claim("XD-1", "dead-worker", clock().timestamp(), LEASE_SECONDS)
    clock.advance(seconds=LEASE_SECONDS + 1)
    assert apply_tree("XD-1", make(jira, rules, store, clock)).status == "complete"


def test_a_slow_build_keeps_its_claim_by_renewing_it_before_each_create(
    store, rules, clock
) -> None:
    jira = cloud_with_request()
    records = TreeRecords(store)
    seen: list[float] = []
    create = jira.create_issues

    def slow_create(issues, **options):  # type: ignore[no-untyped-def]
        seen.append(records.lease_left("XD-1", clock().timestamp()))
        clock.advance(seconds=LEASE_SECONDS * 0.75)  # each bulk call takes most of a lease
        return create(issues, **options)

    jira.create_issues = slow_create  # type: ignore[method-assign]
    assert apply_tree("XD-1", make(jira, rules, store, clock)).status == "complete"
    assert len(seen) == 2 and seen == [pytest.approx(LEASE_SECONDS)] * 2
    assert jira.refs("XD-1") == sorted(set(jira.refs("XD-1")))


def test_a_crash_after_the_second_bulk_call_is_resumed_by_adoption(store, rules, clock) -> None:
    jira = cloud_with_request()
    # The sub-task call creates its issues, then the worker dies before it hears the answer.
    jira.after_bulk = lambda number: (
        (_ for _ in ()).throw(CrashError("killed")) if number == 2 else None
    )
    with pytest.raises(CrashError):
        apply_tree("XD-1", make(jira, rules, store, clock))
    assert len(jira.refs("XD-1")) == DEFAULT_4_DEPT_ITEMS
    assert TREE_PROPERTY not in jira.issues["XD-1"]["properties"]
    jira.after_bulk = None

    with pytest.raises(TreeBusyError):  # Jira's search index may lag: wait before searching
        apply_tree("XD-1", make(jira, rules, store, clock))
    clock.advance(seconds=SETTLE_SECONDS + 1)
    outcome = apply_tree("XD-1", make(jira, rules, store, clock))

    refs = jira.refs("XD-1")
    assert len(refs) == len(set(refs)) == DEFAULT_4_DEPT_ITEMS
    assert outcome.created == {}
    assert len(outcome.keys) == DEFAULT_4_DEPT_ITEMS
    assert jira.bulk_calls == 2
    assert jira.issues["XD-1"]["properties"][TREE_PROPERTY]["items"] == outcome.keys


def test_a_failure_before_the_second_bulk_call_resumes_with_what_is_missing(
    store, rules, clock
) -> None:
    jira = cloud_with_request()
    jira.before_bulk = lambda number: fail_with(transient())(number) if number == 2 else None
    with pytest.raises(Exception, match="503"):
        apply_tree("XD-1", make(jira, rules, store, clock))
    assert sorted(jira.refs("XD-1")) == [f"s{n}" for n in range(1, 7)]
    jira.before_bulk = None
    clock.advance(seconds=SETTLE_SECONDS + 1)

    outcome = apply_tree("XD-1", make(jira, rules, store, clock))

    refs = jira.refs("XD-1")
    assert len(refs) == len(set(refs)) == DEFAULT_4_DEPT_ITEMS
    assert len(outcome.created) == DEFAULT_4_DEPT_ITEMS - 6


def test_a_rate_limited_bulk_call_is_retried_without_waiting_for_the_search_index(
    store, rules, clock
) -> None:
    jira = cloud_with_request()
    jira.before_bulk = lambda number: fail_with(rate_limited())(number) if number == 2 else None
    with pytest.raises(TransientGatewayError, match="429"):
        apply_tree("XD-1", make(jira, rules, store, clock))
    jira.before_bulk = None

    # A 429 is answered before Jira creates anything, so no adoption search and no wait.
    outcome = apply_tree("XD-1", make(jira, rules, store, clock))

    refs = jira.refs("XD-1")
    assert len(refs) == len(set(refs)) == DEFAULT_4_DEPT_ITEMS
    assert len(outcome.created) == DEFAULT_4_DEPT_ITEMS - 6
    assert calls_without_setup(jira).get("POST /rest/api/2/search/jql", 0) == 0


def test_a_department_joining_later_adds_only_its_items(store, rules, clock) -> None:
    jira = cloud_with_request(departments=("技术部",))
    context = make(jira, rules, store, clock)
    first = apply_tree("XD-1", context)
    assert all(not ref.endswith("产品部") for ref in first.keys)

    issue = jira.edit("XD-1", customfield_10051=[{"value": "技术部"}, {"value": "产品部"}])
    # Changelog items name custom fields by name; Cloud may add fieldId, Server may not.
    changelog = {
        "id": "1",
        "items": [
            {
                "field": "协作部门",
                "fieldtype": "custom",
                "from": "1",
                "fromString": "技术部",
                "to": "1, 2",
                "toString": "技术部,产品部",
            }
        ],
    }
    router.dispatch(
        parse_event(issue_event(issue, "jira:issue_updated", changelog=changelog)), context
    )

    added = {ref for ref in jira.refs("XD-1")} - set(first.keys)
    assert added == {
        "s1.d2.产品部",
        "s2.d1.产品部",
        "s3.d1.产品部",
        "s3.d2.产品部",
        "s4.d1.产品部",
        "s5.d1.产品部",
    }
    assert len(jira.refs("XD-1")) == len(set(jira.refs("XD-1")))


def test_an_unrelated_edit_of_a_complete_tree_costs_no_call(store, rules, clock) -> None:
    jira = cloud_with_request()
    context = make(jira, rules, store, clock)
    apply_tree("XD-1", context)
    before = sum(jira.calls.values())
    changelog = {"items": [{"field": "summary", "fieldtype": "jira", "fieldId": "summary"}]}
    router.dispatch(
        parse_event(issue_event(jira.issues["XD-1"], "jira:issue_updated", changelog=changelog)),
        context,
    )
    assert sum(jira.calls.values()) == before


def test_an_unknown_department_is_said_once_and_fixing_it_builds_the_tree(
    store, rules, clock
) -> None:
    jira = cloud_with_request(departments=("技术部", "法务部"))
    context = make(jira, rules, store, clock)
    event = parse_event(issue_event(jira.issues["XD-1"]))

    router.dispatch(event, context)
    router.dispatch(event, context)  # redelivered

    assert jira.refs("XD-1") == []
    assert jira.comments["XD-1"] == problem_comments(jira)
    assert len(problem_comments(jira)) == 1
    assert "法务部" in jira.comments["XD-1"][0]
    assert "crossdept apply XD-1" in jira.comments["XD-1"][0]

    issue = jira.edit("XD-1", customfield_10051=[{"value": "技术部"}])
    router.dispatch(
        parse_event(issue_event(issue, "jira:issue_updated", changelog={"items": []})), context
    )
    assert len(jira.refs("XD-1")) > 0
    assert len(problem_comments(jira)) == 1
    assert len(summary_comments(jira)) == 1


def test_a_missing_departments_field_is_a_problem(store, rules, clock) -> None:
    jira = cloud_with_request(departments=None)
    outcome = apply_tree("XD-1", make(jira, rules, store, clock))
    assert outcome.status == "blocked"
    assert "customfield_10051" in jira.comments["XD-1"][0]


def test_an_issue_type_the_project_lacks_is_a_problem(store, rules, clock) -> None:
    jira = cloud_with_request()
    del jira.issue_types_by_project["XD"]["Sub-task"]
    outcome = apply_tree("XD-1", make(jira, rules, store, clock))
    assert outcome.status == "blocked"
    assert jira.refs("XD-1") == []
    assert "Sub-task" in jira.comments["XD-1"][0]
    assert "jira.issue_types.deliverable" in jira.comments["XD-1"][0]


def test_an_unknown_user_is_a_problem_and_nothing_is_created(store, rules, clock) -> None:
    jira = cloud_with_request()
    jira.users.discard(HEADS["财务部"])
    outcome = apply_tree("XD-1", make(jira, rules, store, clock))
    assert outcome.status == "blocked"
    assert jira.refs("XD-1") == []
    assert HEADS["财务部"] in jira.comments["XD-1"][0]
    assert "财务部 负责人" in jira.comments["XD-1"][0]


def test_an_assignee_jira_refuses_is_reported_and_the_rest_is_kept(store, rules, clock) -> None:
    jira = cloud_with_request()
    jira.unassignable.add(CONTACTS["财务部"])
    context = make(jira, rules, store, clock)

    outcome = apply_tree("XD-1", context)

    assert outcome.status == "partial"
    refused = {ref for ref in outcome.plan.by_ref() if ref not in outcome.keys}  # type: ignore[union-attr]
    assert refused == {"s2.d1.财务部", "s3.d1.财务部", "s4.d1.财务部", "s5.d1.财务部"}
    assert any("cannot be assigned" in text for text in problem_comments(jira))

    jira.unassignable.clear()
    issue = jira.edit("XD-1", summary="新品推广")
    router.dispatch(
        parse_event(issue_event(issue, "jira:issue_updated", changelog={"items": []})), context
    )
    refs = jira.refs("XD-1")
    assert len(refs) == len(set(refs)) == DEFAULT_4_DEPT_ITEMS
    assert jira.bulk_calls == 3  # no adoption search was needed for refused items


def test_a_tree_that_does_not_fit_the_due_date_is_refused_with_the_dates(
    store, rules, clock
) -> None:
    jira = cloud_with_request(due="2026-03-20")
    outcome = apply_tree("XD-1", make(jira, rules, store, clock))
    assert outcome.status == "blocked"
    assert jira.refs("XD-1") == []
    comment = jira.comments["XD-1"][0]
    assert "2026-04-07" in comment and "2026-03-20" in comment and "2026-03-02" in comment


def test_an_issue_of_another_type_gets_no_tree(store, rules, clock) -> None:
    jira = cloud_with_request(issue_type="Task")
    router.dispatch(parse_event(issue_event(jira.issues["XD-1"])), make(jira, rules, store, clock))
    assert sum(jira.calls.values()) == 0


def test_data_center_links_stages_with_the_epic_link_field(store, rules, clock) -> None:
    jira = FakeJira(cloud=False)
    jira.add_issue(request_issue(cloud=False))
    dc_rules = data_center_rules(rules)
    outcome = apply_tree("XD-1", make(jira, dc_rules, store, clock))

    assert outcome.status == "complete"
    stage = jira.issues[outcome.keys["s1"]]["fields"]
    assert stage[EPIC_LINK_FIELD] == "XD-1"
    assert "parent" not in stage
    signoff = jira.issues[outcome.keys["s1.d2.技术部"]]["fields"]
    assert signoff["assignee"] == {"name": "engineering.head"}
    assert signoff["parent"] == {"key": outcome.keys["s1"]}
    assert "[~engineering.head]" in signoff["description"]
    assert jira.calls[("GET /rest/api/2/field", 200)] == 1


def test_data_center_crash_resume_searches_by_epic_link(store, rules, clock) -> None:
    jira = FakeJira(cloud=False)
    jira.add_issue(request_issue(cloud=False))
    dc_rules = data_center_rules(rules)
    jira.after_bulk = lambda number: (
        (_ for _ in ()).throw(CrashError("killed")) if number == 1 else None
    )
    with pytest.raises(CrashError):
        apply_tree("XD-1", make(jira, dc_rules, store, clock))
    jira.after_bulk = None
    clock.advance(seconds=SETTLE_SECONDS + 1)
    apply_tree("XD-1", make(jira, dc_rules, store, clock))
    refs = jira.refs("XD-1")
    assert len(refs) == len(set(refs)) == DEFAULT_4_DEPT_ITEMS


def test_epic_create_makes_a_linked_epic_above_the_stages(store, rules, clock) -> None:
    jira = cloud_with_request()
    request = rules.jira.request.model_copy(update={"epic": "create"})
    epic_rules = rules.model_copy(
        update={"jira": rules.jira.model_copy(update={"request": request})}
    )
    outcome = apply_tree("XD-1", make(jira, epic_rules, store, clock))

    epic = outcome.keys["epic"]
    assert jira.links == [(epic, "Relates", "XD-1")]
    assert jira.issues[outcome.keys["s1"]]["fields"]["parent"] == {"key": epic}
    assert jira.bulk_calls == 3


def test_epic_create_crash_adopts_the_epic_through_its_link(store, rules, clock) -> None:
    jira = cloud_with_request()
    request = rules.jira.request.model_copy(update={"epic": "create"})
    epic_rules = rules.model_copy(
        update={"jira": rules.jira.model_copy(update={"request": request})}
    )
    jira.after_bulk = lambda number: (
        (_ for _ in ()).throw(CrashError("killed")) if number == 1 else None
    )
    with pytest.raises(CrashError):
        apply_tree("XD-1", make(jira, epic_rules, store, clock))
    jira.after_bulk = None
    clock.advance(seconds=SETTLE_SECONDS + 1)
    apply_tree("XD-1", make(jira, epic_rules, store, clock))
    assert jira.refs("XD-1").count("epic") == 1
    assert len(jira.refs("XD-1")) == DEFAULT_4_DEPT_ITEMS + 1


def test_english_rules_write_english_summaries(store, clock) -> None:
    jira = cloud_with_request(topic="New product launch")
    outcome = apply_tree("XD-1", make(jira, load_default_rules(language="en"), store, clock))
    assert jira.issues[outcome.keys["s1"]]["fields"]["summary"] == (
        "[XD-1 New product launch] Stage 1: Request and goal alignment"
    )
    assert (
        jira.issues[outcome.keys["s1.d2.技术部"]]["fields"]["summary"]
        == "Goal consensus letter — Engineering"
    )


# -- against the sandbox: the real jira client and gateway, the spec-checked Jira fake ------------

SANDBOX_CLOUD = "https://crossdept-sandbox.atlassian.net"
SANDBOX_DC = "https://jira.sandbox.example.com"
REQUEST_FIELDS = {
    "project": {"key": "XD"},
    "issuetype": {"name": "跨部门协作需求"},
    "summary": "新品推广",
    "customfield_10050": {"value": "市场部"},
    "customfield_10051": [{"value": "技术部"}, {"value": "产品部"}, {"value": "财务部"}],
    "customfield_10015": "2026-03-02",
}


def sandbox_gateways(cloud: bool):  # type: ignore[no-untyped-def]
    from plugin.atlassian.jira_gateway import JiraGateway

    if cloud:
        requester = JiraGateway.connect(SANDBOX_CLOUD, email="requester@example.com", api_token="t")
        bot = JiraGateway.connect(SANDBOX_CLOUD, email="crossdept@example.com", api_token="t")
    else:
        requester = JiraGateway.connect(SANDBOX_DC, pat="sandbox-pat-pm")
        bot = JiraGateway.connect(SANDBOX_DC, pat="sandbox-pat-crossdept")
    return requester, bot


@pytest.mark.parametrize("cloud", [True, False], ids=["cloud", "datacenter"])
def test_sandbox_apply_builds_the_tree_once_and_resumes_after_a_lost_answer(
    cloud: bool, store, rules, clock
) -> None:
    from sandbox.app import installed_sandbox

    seed = "sandbox/seeds/cloud.yaml" if cloud else "sandbox/seeds/datacenter.yaml"
    url = SANDBOX_CLOUD if cloud else SANDBOX_DC
    used_rules = rules
    if not cloud:  # only an Epic can hold the stages on Data Center: the request gets one
        dc_rules = data_center_rules(rules)
        request_rules = dc_rules.jira.request.model_copy(update={"epic": "create"})
        used_rules = dc_rules.model_copy(
            update={"jira": dc_rules.jira.model_copy(update={"request": request_rules})}
        )
    with installed_sandbox(seed, clock=clock, jira_url=url) as sandbox:
        requester, bot = sandbox_gateways(cloud)
        key = requester._call("POST", "/rest/api/2/issue", body={"fields": REQUEST_FIELDS}).json()[
            "key"
        ]
        context = make(bot, used_rules, store, clock)  # type: ignore[arg-type]

        # The sub-task bulk call reaches Jira, but its answer is lost (a 503 after the fact).
        original = sandbox.jira.handle
        bulk_calls = []

        def lose_second_bulk_answer(request):  # type: ignore[no-untyped-def]
            response = original(request)
            if request.method == "POST" and request.path.endswith("/issue/bulk"):
                bulk_calls.append(request.path)
                if len(bulk_calls) == 2:
                    raise ConnectionResetError("connection reset after the issues were created")
            return response

        sandbox.jira.handle = lose_second_bulk_answer  # type: ignore[method-assign]
        with pytest.raises(Exception):  # noqa: B017 - whatever the transport raises
            apply_tree(key, context)
        sandbox.jira.handle = original  # type: ignore[method-assign]
        clock.advance(seconds=SETTLE_SECONDS + 1)
        outcome = apply_tree(key, context)
        again = apply_tree(key, context)

        assert outcome.status == "complete"
        assert again.created == {}
        marks = []
        for issue in sandbox.jira.issues.values():
            mark = getattr(issue, "properties", {}).get(ITEM_PROPERTY)
            if mark and mark.get("request") == key:
                marks.append(mark["ref"])
        assert len(marks) == len(set(marks)) == DEFAULT_4_DEPT_ITEMS + (not cloud)
        record = bot.get_issue_property(key, TREE_PROPERTY)
        assert set(record["items"]) == set(marks)
        first_stage = bot.get_issue(
            record["items"]["s1"], ["parent", "duedate", "assignee", EPIC_LINK_FIELD]
        )
        if cloud:
            assert first_stage["fields"]["parent"]["key"] == key
        else:
            assert first_stage["fields"][EPIC_LINK_FIELD] == record["items"]["epic"]
        assert first_stage["fields"]["duedate"] == "2026-03-05"
        assert sandbox.violations == []


# -- Jira is the truth ------------------------------------------------------------------------


def test_a_stored_tree_jira_does_not_hold_is_dropped_and_the_tree_rebuilt(
    store, rules, clock
) -> None:
    # The same store, a Jira whose XD project was recreated: XD-1 is a new request and the
    # recorded keys are gone (or belong to other issues).
    old = cloud_with_request()
    apply_tree("XD-1", make(old, rules, store, clock))
    assert TreeRecords(store).items("XD-1")
    Notices(store).comment_once(old, "XD-1", "tree", "a problem said to the old XD-1", 0.0)

    new = cloud_with_request(topic="另一个需求")
    new.add_issue({**request_issue("XD-101"), "fields": {"summary": "someone else's issue"}})
    outcome = apply_tree("XD-1", make(new, rules, store, clock))

    assert outcome.status == "complete"
    assert len(outcome.created) == DEFAULT_4_DEPT_ITEMS
    assert "XD-101" in outcome.dropped.values()  # a recorded key now used by another issue
    assert len(outcome.dropped) == DEFAULT_4_DEPT_ITEMS
    assert outcome.deleted == {}
    assert set(outcome.keys.values()) == {issue["key"] for issue in new.children("XD-1")}
    assert new.issues["XD-1"]["properties"][TREE_PROPERTY]["items"] == outcome.keys
    stored = {ref: row.issue_key for ref, row in TreeRecords(store).items("XD-1").items()}
    assert stored == outcome.keys
    # What was said to the old XD-1 is forgotten: the new XD-1 would be told it again.
    assert Notices(store).comment_once(new, "XD-1", "tree", "a problem said to the old XD-1", 1.0)


def test_an_item_a_person_deleted_is_not_recreated_and_is_reported(store, rules, clock) -> None:
    jira = cloud_with_request()
    first = apply_tree("XD-1", make(jira, rules, store, clock))
    gone = first.keys["s6"]  # the retrospective stage, with its sub-task
    jira.delete_issue(gone)

    outcome = apply_tree("XD-1", make(jira, rules, store, clock))

    assert outcome.created == {}
    assert outcome.deleted == {"s6": gone, "s6.d1": first.keys["s6.d1"]}
    assert "s6" not in outcome.keys
    record = jira.issues["XD-1"]["properties"][TREE_PROPERTY]
    assert record["deleted"] == outcome.deleted
    assert gone in summary_comments(jira)[0]
    assert "--recreate-deleted" in summary_comments(jira)[0]

    again = apply_tree("XD-1", make(jira, rules, store, clock))
    assert again.created == {} and again.deleted == outcome.deleted

    rebuilt = apply_tree("XD-1", make(jira, rules, store, clock), recreate_deleted=True)
    assert set(rebuilt.created) == {"s6", "s6.d1"}
    assert "deleted" not in jira.issues["XD-1"]["properties"][TREE_PROPERTY]


def test_the_summary_comment_is_edited_not_repeated_when_the_tree_grows(
    store, rules, clock
) -> None:
    jira = cloud_with_request(departments=("技术部",))
    first = apply_tree("XD-1", make(jira, rules, store, clock))
    assert len(summary_comments(jira)) == 1
    before = summary_comments(jira)[0]
    assert f"{len(first.keys)} 项任务" in before

    jira.edit("XD-1", customfield_10051=[{"value": "技术部"}, {"value": "产品部"}])
    second = apply_tree("XD-1", make(jira, rules, store, clock))
    assert len(second.created) > 0

    assert len(jira.comments["XD-1"]) == 1
    assert f"{len(second.keys)} 项任务" in summary_comments(jira)[0]
    apply_tree("XD-1", make(jira, rules, store, clock))  # nothing changed: no edit
    assert jira.calls_to("PUT /rest/api/2/issue/{key}/comment/{comment}") == 1
    assert jira.calls_to("POST /rest/api/2/issue/{key}/comment") == 1


def test_a_summary_posted_before_a_crash_is_found_not_posted_again(store, rules, clock) -> None:
    jira = cloud_with_request()
    real = jira.set_issue_property

    def die_writing_the_record(key: str, name: str, value: object) -> None:
        raise CrashError("killed before the tree record was written")

    jira.set_issue_property = die_writing_the_record  # type: ignore[method-assign]
    with pytest.raises(CrashError):
        apply_tree("XD-1", make(jira, rules, store, clock))
    assert len(summary_comments(jira)) == 1
    jira.set_issue_property = real  # type: ignore[method-assign]

    outcome = apply_tree("XD-1", make(jira, rules, store, clock))

    assert outcome.created == {}
    assert len(summary_comments(jira)) == 1
    assert jira.issues["XD-1"]["properties"][TREE_PROPERTY]["comment"]["id"] == "1"


def test_a_summary_a_person_deleted_is_written_again_only_when_the_tree_changes(
    store, rules, clock
) -> None:
    jira = cloud_with_request(departments=("技术部",))
    apply_tree("XD-1", make(jira, rules, store, clock))
    jira.delete_comment("XD-1", "1")

    apply_tree("XD-1", make(jira, rules, store, clock))
    assert summary_comments(jira) == []

    jira.edit("XD-1", customfield_10051=[{"value": "技术部"}, {"value": "产品部"}])
    apply_tree("XD-1", make(jira, rules, store, clock))
    assert len(summary_comments(jira)) == 1


def test_the_summary_comment_can_be_turned_off(store, rules, clock) -> None:
    request = rules.jira.request.model_copy(update={"summary_comment": False})
    quiet = rules.model_copy(update={"jira": rules.jira.model_copy(update={"request": request})})
    jira = cloud_with_request()
    apply_tree("XD-1", make(jira, quiet, store, clock))
    assert jira.comments.get("XD-1", []) == []


def test_confirm_items_believes_only_issues_carrying_the_item_marker() -> None:
    def hit(key: str, request: str | None, ref: str) -> dict[str, object]:
        marks = {ITEM_PROPERTY: {"request": request, "ref": ref}} if request else {}
        return {"key": key, "properties": marks}

    recorded = RecordedTree(
        items={"s1": "XD-2", "s2": "XD-3", "s3": "XD-4"}, deleted={"s9": "XD-40"}
    )
    stored = {"s1": "XD-2", "s2": "XD-3", "s4": "XD-50"}
    found = [
        hit("XD-2", "XD-1", "s1"),  # confirmed
        hit("XD-3", None, "s2"),  # exists, but is not our item: dropped, rebuilt
        hit("YY-7", "XD-1", "s4"),  # our s4, moved to another project: confirmed under its key
    ]  # XD-4 is gone: recorded by Jira itself, so a person deleted it

    confirmed = confirm_items("XD-1", recorded, stored, found)

    assert confirmed.keys == {"s1": "XD-2", "s4": "YY-7"}
    assert confirmed.deleted == {"s3": "XD-4", "s9": "XD-40"}
    assert confirmed.dropped == {"s2": "XD-3", "s4": "XD-50"}


def test_an_item_marked_for_another_request_is_not_confirmed() -> None:
    found = [{"key": "XD-2", "properties": {ITEM_PROPERTY: {"request": "XD-9", "ref": "s1"}}}]
    confirmed = confirm_items("XD-1", RecordedTree(), {"s1": "XD-2"}, found)
    assert confirmed.keys == {} and confirmed.dropped == {"s1": "XD-2"}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-CN",
            [
                "h3. 协作任务已建立：XD-1 新品推广",
                "||阶段||任务||负责人||截止日期||",
                "|阶段1 需求发起与目标对齐|{s1}|市场部 需求提出人|",
            ],
        ),
        (
            "en",
            [
                "h3. Collaboration items set up: XD-1 新品推广",
                "||Stage||Item||Owner||Due||",
                "|Stage 1: Request and goal alignment|{s1}|",
            ],
        ),
    ],
)
def test_the_summary_names_each_stage_with_owner_and_due_date(
    store, clock, language: str, expected: list[str]
) -> None:
    rules = load_default_rules(language=language)
    jira = cloud_with_request()
    outcome = apply_tree("XD-1", make(jira, rules, store, clock))
    assert outcome.plan is not None
    text = render_tree_summary(
        rules, "XD-1", "新品推广", outcome.plan, outcome.keys, {}, "https://jira.example.com/x"
    )
    for line in expected:
        assert line.format(s1=outcome.keys["s1"]) in text
    assert text.count("\n|") - text.count("\n||") == 6  # one row per stage, below the header
    stage1 = outcome.plan.by_ref()["s1"]
    assert stage1.due.isoformat() in text
    assert "[" in text and "https://jira.example.com/x]" in text
