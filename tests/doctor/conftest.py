"""A right site for the shipped rules, as doctor's survey would read it, to break one fact at a
time."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from plugin.atlassian.ports import Page
from plugin.atlassian.site_admin import (
    ScreenField,
    SiteProject,
    SiteType,
    Webhooks,
    WorkflowGraph,
)
from plugin.composition import load_rules
from plugin.doctor.needs import PERMISSIONS, WEBHOOK_EVENTS, SiteNeeds, site_needs
from plugin.doctor.survey import SiteFacts
from tests.e2e.conftest import CONFIG

DEPARTMENTS = ("市场部", "技术部", "产品部", "财务部")
RECEIVER = "https://crossdept.example.com/webhooks/jira"
PUBLIC_URL = "https://crossdept.example.com"


def screen(*fields: ScreenField) -> dict[str, ScreenField]:
    return {f.id: f for f in fields}


def right_project() -> SiteProject:
    task_screen = screen(ScreenField("duedate", "Due date"), ScreenField("assignee", "Assignee"))
    edit_screen = screen(ScreenField("labels", "Labels"), ScreenField("duedate", "Due date"))
    return SiteProject(
        key="XD",
        id="10000",
        types={
            "跨部门协作需求": SiteType("10001", "跨部门协作需求", 1),
            "Task": SiteType("10003", "Task", 0),
            "会议": SiteType("10004", "会议", 0),
            "Sub-task": SiteType("10005", "Sub-task", -1),
        },
        permissions={key: True for key in PERMISSIONS},
        statuses={
            "跨部门协作需求": {"未开始": "new", "进行中": "indeterminate", "已完成": "done"},
            "Task": {"未开始": "new", "进行中": "indeterminate", "已完成": "done"},
            "Sub-task": {"未开始": "new", "进行中": "indeterminate", "已完成": "done"},
            "会议": {"待召开": "new", "已召开": "indeterminate", "已完成": "done"},
        },
        create_screens={
            "跨部门协作需求": screen(
                ScreenField("customfield_10050", "需求部门", DEPARTMENTS),
                ScreenField("customfield_10051", "协作部门", DEPARTMENTS),
                ScreenField("customfield_10015", "Start date"),
                ScreenField("duedate", "Due date"),
                ScreenField("customfield_10062", "决策人"),
            ),
            "Task": task_screen,
            "Sub-task": task_screen,
            "会议": screen(
                ScreenField("customfield_10060", "会议时间"),
                ScreenField("customfield_10061", "参会人"),
                ScreenField("customfield_10063", "组织者"),
            ),
        },
        edit_screens={"Task": edit_screen, "Sub-task": edit_screen},
        workflows={"Task": WORK_FLOW, "Sub-task": WORK_FLOW},
    )


WORK_FLOW = WorkflowGraph(
    {"未开始": "new", "进行中": "indeterminate", "已完成": "done"},
    ((None, "进行中"), (("进行中",), "已完成"), (("进行中", "已完成"), "未开始")),
)


def field(fid: str, name: str, **schema: Any) -> tuple[str, dict[str, Any]]:
    return fid, {"id": fid, "name": name, "schema": schema}


RIGHT_FIELDS = dict(
    [
        field("customfield_10050", "需求部门", type="option"),
        field("customfield_10051", "协作部门", type="array", items="option"),
        field("customfield_10015", "Start date", type="date"),
        field("customfield_10060", "会议时间", type="datetime"),
        field("customfield_10061", "参会人", type="array", items="user"),
        field("customfield_10062", "决策人", type="array", items="user"),
        field("customfield_10063", "组织者", type="user"),
        field("duedate", "Due date", type="date"),
        field("assignee", "Assignee", type="user"),
        field("labels", "Labels", type="array", items="string"),
    ]
)


def right_facts(*, cloud: bool = True) -> SiteFacts:
    return SiteFacts(
        address="https://example.atlassian.net",
        cloud=cloud,
        version="1001.0.0" if cloud else "10.3.4",
        account="crossdept-id",
        account_name="crossdept",
        fields=RIGHT_FIELDS,
        projects={"XD": right_project()},
        missing_people=frozenset(),
        webhooks=Webhooks(
            (
                {
                    "name": "crossdept",
                    "url": RECEIVER,
                    "events": list(WEBHOOK_EVENTS),
                    "filters": {"issue-related-events-section": "project = XD"},
                    "enabled": True,
                },
            )
        ),
        space=True,
        pages={
            "跨部门协作会议纪要": Page("1", "跨部门协作会议纪要", 1, ""),
            "项目进度跟踪": Page("2", "项目进度跟踪", 1, ""),
        },
        may_edit={"跨部门协作会议纪要": True, "项目进度跟踪": True},
        groups=frozenset({"市场部", "技术部", "产品部", "财务部", "confluence-users"}),
    )


def with_project(facts: SiteFacts, **changes: Any) -> SiteFacts:
    project = facts.projects["XD"]
    assert project is not None
    return replace(facts, projects={"XD": replace(project, **changes)})


@pytest.fixture(scope="session")
def needs() -> SiteNeeds:
    return site_needs(load_rules(CONFIG / "rules.yaml"))
