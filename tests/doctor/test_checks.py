"""Each check on a right site passes, and on a site wrong in its one way says exactly what, where
in the rules file, and how to fix it. Data in, findings out: no sandbox, no mocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from plugin.atlassian.site_admin import (
    EPIC_NAME_TYPE,
    ScreenField,
    SiteType,
    Webhooks,
    WorkflowGraph,
)
from plugin.doctor.checks import (
    check_calendar,
    check_confluence,
    check_connection,
    check_fields,
    check_group_robots,
    check_issue_types,
    check_people,
    check_permissions,
    check_projects,
    check_webhook,
    check_workflows,
    diagnose,
    jql_covers,
)
from plugin.doctor.findings import Finding, render
from plugin.doctor.needs import RobotNeed, SiteNeeds
from plugin.process.rulesfile import read_yaml
from tests.doctor.conftest import (
    DEPARTMENTS,
    PUBLIC_URL,
    RECEIVER,
    right_facts,
    right_project,
    with_project,
)
from tests.e2e.conftest import CONFIG

JUNE = datetime(2026, 6, 1, tzinfo=UTC)


def failing(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.status != "pass"]


def test_a_right_site_passes_every_check(needs: SiteNeeds) -> None:
    findings = diagnose(needs, right_facts(), now=JUNE, public_url=PUBLIC_URL)
    assert failing(findings) == []
    assert {f.check for f in findings} == {
        "connection", "projects", "permissions", "issue types", "fields", "workflows",
        "people", "webhook", "confluence", "calendar",
    }  # fmt: skip


def test_connection_names_the_site_its_kind_and_the_account() -> None:
    (finding,) = check_connection(right_facts(cloud=False))
    assert finding.subject == (
        "https://example.atlassian.net (Jira Data Center 10.3.4), signed in as crossdept "
        "(crossdept-id)"
    )


def test_a_missing_project_points_at_its_key_in_the_rules(needs: SiteNeeds) -> None:
    facts = replace(right_facts(), projects={"XD": None})
    (finding,) = check_projects(needs, facts)
    assert (finding.status, finding.subject, finding.path) == (
        "fail",
        "XD",
        ("jira", "projects", 0),
    )
    assert check_permissions(needs, facts) == []  # nothing more is said about a missing project


def test_a_missing_permission_says_what_crossdept_cannot_do_and_where_to_grant_it(
    needs: SiteNeeds,
) -> None:
    project = right_project()
    facts = with_project(right_facts(), permissions=dict(project.permissions, LINK_ISSUES=False))
    (finding,) = failing(check_permissions(needs, facts))
    assert finding.subject == "XD: LINK_ISSUES"
    assert finding.detail == "crossdept's account lacks it, so it cannot link issues"
    assert finding.fix.startswith("Project settings → Permissions: grant Link issues")


def test_issue_types_must_exist_at_the_level_the_tree_needs(needs: SiteNeeds) -> None:
    types = dict(right_project().types)
    del types["会议"]
    types["Task"] = SiteType("10003", "Task", -1)
    found = failing(check_issue_types(needs, with_project(right_facts(), types=types)))
    assert [(f.subject, f.path) for f in found] == [
        ("XD: stage type Task", ("jira", "issue_types", "stage")),
        ("XD: meeting type 会议", ("meetings", "issue_type")),
    ]
    assert found[0].detail == "it is a sub-task type; the tree needs a standard type here"
    assert found[1].detail.startswith("the project has no such type (it has")


def test_on_data_center_only_whether_a_type_is_a_sub_task_is_checked(needs: SiteNeeds) -> None:
    levels = {name: -1 if t.level == -1 else None for name, t in right_project().types.items()}
    types = {name: SiteType(t.id, name, levels[name]) for name, t in right_project().types.items()}
    epic_name = {
        "id": "customfield_10102",
        "name": "Epic Name",
        "schema": {"type": "string", "custom": EPIC_NAME_TYPE},
    }
    facts = replace(
        right_facts(cloud=False), fields={**right_facts().fields, "customfield_10102": epic_name}
    )
    screens = dict(right_project().create_screens)
    screens["跨部门协作需求"] = {
        **screens["跨部门协作需求"],
        "customfield_10102": ScreenField("customfield_10102", "Epic Name"),
    }
    assert (
        failing(check_issue_types(needs, with_project(facts, types=types, create_screens=screens)))
        == []
    )

    types["Sub-task"] = SiteType("10005", "Sub-task", None)
    (finding,) = failing(
        check_issue_types(needs, with_project(facts, types=types, create_screens=screens))
    )
    assert finding.subject == "XD: deliverable type Sub-task"


def test_on_data_center_only_the_epic_type_can_be_the_epic(needs: SiteNeeds) -> None:
    """Jira Software's Epic alone has Epic Name, and an Epic Link to anything else is refused."""
    types = {
        name: SiteType(t.id, name, -1 if t.level == -1 else None)
        for name, t in right_project().types.items()
    }
    (finding,) = failing(
        check_issue_types(needs, with_project(right_facts(cloud=False), types=types))
    )
    assert (finding.subject, finding.path) == (
        "XD: request type 跨部门协作需求",
        ("jira", "request", "issue_type"),
    )
    assert finding.fix.startswith("set jira.request.epic: create")


def test_a_field_must_exist_with_the_right_type(needs: SiteNeeds) -> None:
    fields = dict(right_facts().fields)
    del fields["customfield_10060"]
    fields["customfield_10015"] = {
        "id": "customfield_10015",
        "name": "Start date",
        "schema": {"type": "string"},
    }
    found = failing(check_fields(needs, replace(right_facts(), fields=fields)))
    assert [(f.subject, f.detail, f.path) for f in found] == [
        (
            "start date field customfield_10015 (Start date)",
            "it is of type string; crossdept needs a date picker",
            ("jira", "request", "fields", "start"),
        ),
        ("meeting start field customfield_10060", "no such field", ("meetings", "fields", "start")),
    ]


def test_a_field_off_the_create_screen_cannot_be_set_by_crossdept(needs: SiteNeeds) -> None:
    screens = dict(right_project().create_screens)
    screens["Sub-task"] = {"assignee": ScreenField("assignee", "Assignee")}
    (finding,) = failing(check_fields(needs, with_project(right_facts(), create_screens=screens)))
    assert (
        finding.subject
        == "XD: deliverable due date field duedate (Due date) on the Sub-task create screen"
    )
    assert finding.fix.startswith("Project settings → Issue types → Sub-task")


def test_labels_must_be_on_the_edit_screen_where_an_issue_can_show_it(needs: SiteNeeds) -> None:
    screens = dict(right_project().edit_screens)
    screens["Task"] = {"duedate": ScreenField("duedate", "Due date")}
    screens["Sub-task"] = None
    found = failing(check_fields(needs, with_project(right_facts(), edit_screens=screens)))
    assert [(f.status, f.subject) for f in found] == [
        ("fail", "XD: stage labels field labels (Labels) on the Task edit screen"),
        ("warn", "XD: deliverable labels field labels (Labels) on the Sub-task edit screen"),
    ]
    assert found[1].detail.startswith("not checked: XD has no Sub-task issue yet")


def test_a_missing_department_option_is_added_by_setup_on_cloud_and_by_hand_on_data_center(
    needs: SiteNeeds,
) -> None:
    screens = dict(right_project().create_screens)
    request = dict(screens["跨部门协作需求"])
    request["customfield_10051"] = ScreenField(
        "customfield_10051", "协作部门", DEPARTMENTS[:3] + ("法务部",)
    )
    screens["跨部门协作需求"] = request
    cloud = failing(check_fields(needs, with_project(right_facts(), create_screens=screens)))
    (finding,) = cloud
    assert finding.status == "fail" and finding.by_setup
    assert finding.detail.startswith("the options lack 财务部")
    assert finding.path == ("departments", "财务部")
    assert finding.fix == "crossdept setup --apply"
    data_center = failing(
        check_fields(needs, with_project(right_facts(cloud=False), create_screens=screens))
    )
    assert not data_center[0].by_setup and "Edit options: add 财务部" in data_center[0].fix

    request["customfield_10051"] = ScreenField(
        "customfield_10051", "协作部门", DEPARTMENTS + ("法务部",)
    )
    (extra,) = failing(check_fields(needs, with_project(right_facts(), create_screens=screens)))
    assert extra.status == "warn" and "法务部" in extra.detail


def test_a_status_named_differently_lists_what_the_workflow_has(needs: SiteNeeds) -> None:
    statuses = dict(right_project().statuses)
    statuses["会议"] = {"待召开": "new", "已开会": "indeterminate", "已完成": "done"}
    (finding,) = failing(check_workflows(needs, with_project(right_facts(), statuses=statuses)))
    assert finding.subject == "XD: held status 已召开 for 会议"
    assert finding.detail == "the 会议 workflow has 待召开, 已开会, 已完成"
    assert finding.path == ("meetings", "held_status")


def test_a_done_category_status_counts_as_finished_whatever_its_name(needs: SiteNeeds) -> None:
    statuses = dict(right_project().statuses)
    statuses["Task"] = {"Open": "new", "Closed": "done"}
    assert failing(check_workflows(needs, with_project(right_facts(), statuses=statuses))) == []
    statuses["Task"] = {"Open": "new", "Working": "indeterminate"}
    (finding,) = failing(check_workflows(needs, with_project(right_facts(), statuses=statuses)))
    assert finding.subject == "XD: finished status 已完成 / Done for Task"


def test_the_stage_gate_needs_a_way_back_from_each_in_progress_status(needs: SiteNeeds) -> None:
    one_way = WorkflowGraph(
        {"未开始": "new", "进行中": "indeterminate", "审核中": "indeterminate", "已完成": "done"},
        (
            (None, "进行中"),
            (("进行中",), "审核中"),
            (("审核中",), "已完成"),
            (("审核中",), "未开始"),
        ),
    )
    facts = with_project(right_facts(), workflows={"Task": one_way, "Sub-task": one_way})
    found = failing(check_workflows(needs, facts))
    assert [f.subject for f in found] == [
        "XD: the stage gate's way back in the Task workflow",
        "XD: the stage gate's way back in the Sub-task workflow",
    ]
    assert found[0].detail.startswith("no transition from 进行中 back to 未开始")
    assert found[0].path == ("ownership", "stage_gate")
    assert found[0].fix.endswith("or set ownership.stage_gate: warn")

    unknown = failing(check_workflows(needs, with_project(right_facts(cloud=False), workflows={})))
    assert [f.status for f in unknown] == ["warn", "warn"]
    assert (
        failing(
            check_workflows(
                replace(needs, way_back=None), with_project(right_facts(), workflows={})
            )
        )
        == []
    )


def test_a_head_who_left_is_named_with_the_department_left_without_a_head(needs: SiteNeeds) -> None:
    head = "557058:00000000-0000-4000-8000-000000000007"
    facts = replace(right_facts(), missing_people=frozenset({head}))
    (finding,) = failing(check_people(needs, facts))
    assert finding.subject == f"head of 财务部: {head}"
    assert finding.detail.endswith(
        "财务部 is left without a head (sign-offs and escalations reach no one)"
    )
    assert finding.path == ("departments", "财务部", "head")


def test_the_webhook_must_exist_send_every_event_and_cover_the_projects(needs: SiteNeeds) -> None:
    none = check_webhook(needs, replace(right_facts(), webhooks=Webhooks()), PUBLIC_URL)
    assert [(f.status, f.fix, f.by_setup) for f in none] == [
        ("fail", "crossdept setup --apply", True)
    ]
    unset = check_webhook(needs, replace(right_facts(), webhooks=Webhooks()), None)
    assert unset[0].fix.startswith("set CROSSDEPT_PUBLIC_URL") and not unset[0].by_setup

    hook = dict(right_facts().webhooks.registered[0])
    partial = dict(hook, events=["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"])
    (finding,) = check_webhook(
        needs, replace(right_facts(), webhooks=Webhooks((partial,))), PUBLIC_URL
    )
    assert finding.detail == "does not send comment_created, comment_updated, comment_deleted"

    other = dict(hook, filters={"issue-related-events-section": "project = OPS"})
    (finding,) = check_webhook(
        needs, replace(right_facts(), webhooks=Webhooks((other,))), PUBLIC_URL
    )
    assert finding.detail == "its JQL (project = OPS) leaves out XD"
    assert finding.fix.endswith("set its JQL to project = XD")

    off = dict(hook, enabled=False)
    assert (
        check_webhook(needs, replace(right_facts(), webhooks=Webhooks((off,))), PUBLIC_URL)[
            0
        ].detail
        == "disabled"
    )


def test_a_token_in_the_webhook_address_is_never_shown(needs: SiteNeeds) -> None:
    hook = dict(right_facts().webhooks.registered[0], url=RECEIVER + "?token=very-secret-token")
    (finding,) = check_webhook(
        needs, replace(right_facts(), webhooks=Webhooks((hook,))), PUBLIC_URL
    )
    assert finding.status == "pass" and "very-secret-token" not in finding.subject


def test_webhooks_an_account_cannot_read_are_a_warning_with_the_check_by_hand(
    needs: SiteNeeds,
) -> None:
    facts = replace(right_facts(), webhooks=Webhooks(unreadable="HTTP 403"))
    (finding,) = check_webhook(needs, facts, PUBLIC_URL)
    assert finding.status == "warn"
    assert f"one webhook to {RECEIVER}" in finding.fix and "JQL project = XD" in finding.fix


def test_webhook_jql_coverage() -> None:
    assert jql_covers("", "XD")
    assert jql_covers("project = XD", "XD")
    assert jql_covers('project in (OPS, "XD") AND issuetype != Bug', "XD")
    assert not jql_covers("project = XDX", "XD")
    assert not jql_covers("labels = XD", "XD")


def test_confluence_space_pages_and_edit_rights(needs: SiteNeeds) -> None:
    assert [f.status for f in check_confluence(needs, replace(right_facts(), space=False))] == [
        "fail"
    ]
    no_page = replace(right_facts(), pages={"项目进度跟踪": right_facts().pages["项目进度跟踪"]})
    (missing,) = failing(check_confluence(needs, no_page))
    assert (missing.subject, missing.path, missing.by_setup) == (
        "page 跨部门协作会议纪要 in XD", ("confluence", "parent_page"), True,
    )  # fmt: skip
    refused = replace(right_facts(), may_edit={"跨部门协作会议纪要": False, "项目进度跟踪": None})
    assert [(f.status, f.detail) for f in failing(check_confluence(needs, refused))] == [
        ("fail", "crossdept's account may not edit it"),
        (
            "warn",
            "this Confluence cannot say whether crossdept may edit it (no permission check resource)",
        ),
    ]
    unset = check_confluence(needs, replace(right_facts(), space=None))
    assert unset[0].status == "warn" and "CROSSDEPT_CONFLUENCE_URL" in unset[0].detail


def test_a_department_group_the_site_lacks_leaves_its_requests_pages_open(needs: SiteNeeds) -> None:
    passed = [f.subject for f in check_confluence(needs, right_facts()) if "group" in f.subject]
    assert passed == [f"group {name} ({name}) in Confluence" for name in DEPARTMENTS]
    lacking = replace(right_facts(), groups=frozenset({"市场部", "技术部", "产品部"}))
    (missing,) = failing(check_confluence(needs, lacking))
    assert (missing.status, missing.subject, missing.path) == (
        "warn", "group 财务部 (财务部) in Confluence", ("confluence", "groups", "财务部"),
    )  # fmt: skip
    assert "not restricted" in missing.detail


def test_the_calendar_must_know_this_year_and_in_december_next_year(needs: SiteNeeds) -> None:
    assert failing(check_calendar(needs, datetime(2026, 6, 1, tzinfo=UTC))) == []
    (december,) = failing(check_calendar(needs, datetime(2026, 12, 2, tzinfo=UTC)))
    assert (december.status, december.subject, december.path) == (
        "warn",
        "CN 2027",
        ("calendar", "holidays"),
    )
    (next_year,) = failing(check_calendar(needs, datetime(2027, 1, 4, tzinfo=UTC)))
    assert next_year.status == "fail"
    listed = replace(needs, extra_days=frozenset({2027}))
    assert failing(check_calendar(listed, datetime(2027, 1, 4, tzinfo=UTC))) == []
    assert (
        failing(check_calendar(replace(needs, holidays="US"), datetime(2027, 12, 1, tzinfo=UTC)))
        == []
    )
    assert (
        failing(check_calendar(replace(needs, holidays=None), datetime(2040, 1, 1, tzinfo=UTC)))
        == []
    )


def test_the_answer_names_file_line_and_fix_and_ends_with_the_counts(needs: SiteNeeds) -> None:
    path = CONFIG / "rules.yaml"
    _data, lines = read_yaml(path.read_text(encoding="utf-8"), "config/rules.yaml")
    facts = replace(right_facts(), projects={"XD": None})
    text = render(
        diagnose(needs, facts, now=JUNE, public_url=PUBLIC_URL), "config/rules.yaml", lines
    )
    line = lines.key_line(("jira", "projects", 0))
    assert f"      in config/rules.yaml:{line} jira.projects[0]\n" in text
    assert "FAIL  projects: XD: no such project, or crossdept's account may not browse it\n" in text
    assert text.splitlines()[-1].endswith(", 1 failed")


def test_a_group_robot_whose_address_is_not_in_the_environment_fails(needs: SiteNeeds) -> None:
    robots = (
        RobotNeed(
            "技术部群",
            ("CROSSDEPT_ROBOT_TECH_URL", "CROSSDEPT_ROBOT_TECH_SECRET"),
            ("notify", "channels", "技术部群"),
        ),
        RobotNeed("市场部群", ("CROSSDEPT_ROBOT_MKT_URL",), ("notify", "channels", "市场部群")),
    )
    found = check_group_robots(
        replace(needs, robots=robots),
        frozenset({"CROSSDEPT_ROBOT_TECH_URL", "CROSSDEPT_ROBOT_MKT_URL"}),
    )
    assert [(f.subject, f.status) for f in found] == [("技术部群", "fail"), ("市场部群", "pass")]
    assert "CROSSDEPT_ROBOT_TECH_SECRET not set" in found[0].detail
    assert found[0].path == ("notify", "channels", "技术部群")
    assert "crossdept notify test 技术部群" in found[0].fix
