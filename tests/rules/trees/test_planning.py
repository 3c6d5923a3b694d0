"""Planning is pure: a request and the rules in, the tree (or the problems to fix) out."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.process.calendar import WorkCalendar
from plugin.process.config import Rules
from plugin.rules.trees.planning import (
    check_request,
    is_request,
    plan_tree,
    read_request,
    render_tree,
    tree_to_json,
)
from plugin.spine.errors import RequestProblemError
from tests.fakes import HEADS, PM, REQUESTER, load_default_rules, request_issue


@pytest.fixture
def rules() -> Rules:
    return load_default_rules()


def plan(rules: Rules, **request: object):  # type: ignore[no-untyped-def]
    snapshot = read_request(request_issue(**request), rules)  # type: ignore[arg-type]
    return plan_tree(snapshot, rules, WorkCalendar.from_rules(rules.calendar))


def test_the_default_tree_has_a_task_per_stage_and_fans_out_per_department(rules) -> None:
    tree = plan(rules)
    assert [item.ref for item in tree.level("stage")] == ["s1", "s2", "s3", "s4", "s5", "s6"]
    signoffs = [item for item in tree.items if item.ref.startswith("s1.d2.")]
    assert [item.department for item in signoffs] == ["市场部", "技术部", "产品部", "财务部"]
    assert [item.owner.account for item in signoffs] == [
        HEADS[d] for d in ("市场部", "技术部", "产品部", "财务部")
    ]
    assert all(item.issue_type == "Sub-task" for item in tree.level("deliverable"))
    assert len(tree.items) == 35


def test_refs_are_stable_across_plans(rules) -> None:
    assert [i.ref for i in plan(rules).items] == [i.ref for i in plan(rules).items]


def test_stages_run_in_order_and_no_child_is_due_after_its_parent(rules) -> None:
    tree = plan(rules)
    stages = tree.level("stage")
    dues = [stage.due for stage in stages]
    assert dues == sorted(dues) and len(set(dues)) == len(dues)
    # From Monday 2026-03-02: T+3, T+6, T+10, T+15, T+20, then 5 more across 清明 (04-04..06).
    assert [d.isoformat() for d in dues] == [
        "2026-03-05",
        "2026-03-10",
        "2026-03-16",
        "2026-03-23",
        "2026-03-30",
        "2026-04-07",
    ]
    by_ref = tree.by_ref()
    for item in tree.level("deliverable"):
        parent = by_ref[item.parent]
        assert item.due <= parent.due
        previous = by_ref.get(f"s{item.stage - 1}")
        if previous is not None:
            assert item.due > previous.due


def test_due_dates_skip_chinas_golden_week(rules) -> None:
    tree = plan(rules, start="2025-09-29")
    # 09-29 + 3 working days: 09-30, (10-01..10-08 off), 10-09, 10-10.
    assert tree.by_ref()["s1"].due == date(2025, 10, 10)
    # Stage 2: 10-11 is an adjusted working Saturday.
    assert tree.by_ref()["s2"].due == date(2025, 10, 14)


def test_without_a_start_the_created_date_counts(rules) -> None:
    tree = plan(rules, start=None, created="2026-03-09T10:00:00.000+0800")
    assert tree.by_ref()["s1"].due == date(2026, 3, 12)


def test_owners_follow_the_roles(rules) -> None:
    by_ref = plan(rules).by_ref()
    assert by_ref["s1"].owner.account == REQUESTER
    assert by_ref["s4"].owner.account == PM
    assert by_ref["s2.d1.技术部"].owner.role == "contact"


DIRECTOR, COO = "557058:director", "557058:coo"


def test_without_decision_makers_the_requester_accepts_and_no_approval_items_are_made(
    rules,
) -> None:
    by_ref = plan(rules).by_ref()
    assert by_ref["s5"].owner.account == REQUESTER
    assert not [ref for ref in by_ref if ref.startswith(("s3.d3", "s5.d2"))]


def test_decision_makers_named_on_the_request_own_the_acceptance_and_decide_jointly(
    rules,
) -> None:
    tree = plan(rules, deciders=[DIRECTOR, COO])
    by_ref = tree.by_ref()
    assert (by_ref["s5"].owner.account, by_ref["s5"].owner.role) == (DIRECTOR, "decision_maker")
    approvals = [item for item in tree.items if item.ref.startswith("s3.d3.")]
    acceptances = [item for item in tree.items if item.ref.startswith("s5.d2.")]
    assert [item.owner.account for item in approvals] == [DIRECTOR, COO]
    assert [item.owner.account for item in acceptances] == [DIRECTOR, COO]
    assert [item.summary for item in approvals] == [
        "《决策层审批意见》 — 决策人 1/2",
        "《决策层审批意见》 — 决策人 2/2",
    ]
    assert all(item.due <= by_ref["s3"].due and item.parent == "s3" for item in approvals)
    text = acceptances[1].description
    assert f"[~accountid:{COO}]" in text and "决策人" in text and "全部确认才算通过" in text
    assert len(tree.items) == 35 + 4


def test_the_rules_decision_makers_stand_in_when_the_request_names_none(rules) -> None:
    rules = rules.model_copy(update={"decision_makers": [DIRECTOR]})
    assert plan(rules).by_ref()["s5"].owner.account == DIRECTOR
    assert plan(rules, deciders=[COO]).by_ref()["s5"].owner.account == COO  # the request's own


def test_supporting_departments_are_recorded_apart_from_the_one_owner(rules) -> None:
    by_ref = plan(rules).by_ref()
    # The requester's stage: the request's other departments support it, never the lead one.
    assert by_ref["s1"].supporting == ("技术部", "产品部", "财务部")
    assert "*配合部门：* 技术部、产品部、财务部" in by_ref["s1"].description
    assert by_ref["s4.d2"].supporting == ("技术部", "产品部", "财务部")  # the PM's tracker
    # A department's own work and its sign-off have no supporting departments.
    assert by_ref["s4.d1.技术部"].supporting == ()
    assert "*配合部门：*" not in by_ref["s1.d2.技术部"].description
    # Only departments taking part: a request without 财务部 has no 财务部 support.
    assert plan(rules, departments=["技术部"]).by_ref()["s1"].supporting == ("技术部",)


def test_a_listed_supporting_department_supports_only_where_it_takes_part(rules) -> None:
    stage = rules.stages[0].model_copy(update={"supporting": ["财务部", "市场部"]})
    rules = rules.model_copy(update={"stages": [stage, *rules.stages[1:]]})
    assert plan(rules).by_ref()["s1"].supporting == ("财务部",)  # 市场部 leads it
    assert plan(rules, departments=["技术部"]).by_ref()["s1"].supporting == ()


def test_summaries_and_descriptions_are_written_for_people(rules) -> None:
    by_ref = plan(rules).by_ref()
    assert by_ref["s1"].summary == "【XD-1 新品推广】阶段1 需求发起与目标对齐"
    assert by_ref["s1.d2.技术部"].summary == "《合作目标共识函》 — 技术部"
    text = by_ref["s1.d2.技术部"].description
    assert "[~accountid:" + HEADS["技术部"] + "]" in text
    assert "技术部 负责人" in text and "2026-03-05" in text and "签字" in text
    assert "30–60 分钟" in by_ref["s1"].description


def test_english(rules) -> None:
    english = load_default_rules(language="en")
    by_ref = plan(english, topic="New product launch").by_ref()
    assert by_ref["s1"].summary == "[XD-1 New product launch] Stage 1: Request and goal alignment"
    assert "Kickoff meeting, 30–60 minutes" in by_ref["s1"].description


def test_every_problem_is_named_at_once(rules) -> None:
    snapshot = read_request(request_issue(requesting=None, departments=("法务部",)), rules)
    problems = check_request(snapshot, rules)
    assert len(problems) == 2
    assert "需求部门" in problems[0] and "法务部" in problems[1]
    with pytest.raises(RequestProblemError):
        plan_tree(snapshot, rules, WorkCalendar.from_rules(rules.calendar))


def test_a_request_due_too_early_is_refused_naming_the_dates(rules) -> None:
    with pytest.raises(RequestProblemError) as refused:
        plan(rules, due="2026-04-06")
    assert "2026-04-07" in refused.value.problems[0]
    assert plan(rules, due="2026-04-07").by_ref()["s6"].due == date(2026, 4, 7)


def test_a_bad_date_is_a_problem_not_a_crash(rules) -> None:
    with pytest.raises(RequestProblemError) as refused:
        plan(rules, start="next week")
    assert "customfield_10015" in refused.value.problems[0]


def test_is_request_checks_project_and_type(rules) -> None:
    assert is_request(read_request(request_issue(), rules), rules)
    assert not is_request(read_request(request_issue(issue_type="Task"), rules), rules)
    assert not is_request(read_request(request_issue(key="OTHER-1"), rules), rules)


def test_json_and_human_forms(rules) -> None:
    tree = plan(rules)
    data = tree_to_json(tree)
    assert data["request"] == "XD-1"
    first = data["issues"][0]
    assert set(first) == {
        "ref",
        "parent",
        "issuetype",
        "summary",
        "assignee",
        "duedate",
        "stage",
        "department",
        "supporting",
    }
    assert first["parent"] == "XD-1"
    signoff = next(issue for issue in data["issues"] if issue["ref"] == "s1.d2.技术部")
    assert signoff == {
        "ref": "s1.d2.技术部",
        "parent": "s1",
        "issuetype": "Sub-task",
        "summary": "《合作目标共识函》 — 技术部",
        "assignee": HEADS["技术部"],
        "duedate": "2026-03-05",
        "stage": 1,
        "department": "技术部",
        "supporting": [],
    }
    text = render_tree(tree, rules)
    assert text.splitlines()[0] == "XD-1"
    assert (
        "    s1.d2.技术部  《合作目标共识函》 — 技术部  [Sub-task; 技术部 负责人; 2026-03-05]"
        in text
    )
