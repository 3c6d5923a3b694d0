"""A site wrong in every way `crossdept doctor` checks, made from a shipped seed: what tests and
`crossdept sandbox --broken` start from to see each finding once."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from sandbox.seed import PROJECT_PERMISSIONS

# Where the broken site's webhook points: the address the tests give crossdept as its own.
BROKEN_SITE_RECEIVER = "https://crossdept.example.com/webhooks/jira"

# What is wrong, one line each, as doctor should find it.
BREAKAGES = (
    "crossdept's account lacks Transition issues in XD",
    "XD has no Task type (the stage type)",
    "协作部门 lacks the option 财务部",
    "Start date is a text field, not a date",
    "the meeting workflow calls its held status 已开会, not 已召开",
    "the work workflow has no way back from 进行中 to 未开始 (the stage gate cannot revert)",
    "the Finance head (finance.head) has left: inactive",
    "the webhook to crossdept sends no comment events",
    "there is no Confluence space XD",
)


def broken_seed(source: Path | Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a seed (a path or a parsed mapping) with every breakage in BREAKAGES."""
    if isinstance(source, Mapping):
        data: dict[str, Any] = copy.deepcopy(dict(source))
    else:
        data = YAML(typ="safe").load(source.read_text(encoding="utf-8"))
    data["permissions"] = {
        "crossdept": [p for p in PROJECT_PERMISSIONS if p != "TRANSITION_ISSUES"]
    }
    for project in data["projects"]:
        project["issue_types"] = [t for t in project["issue_types"] if t["name"] != "Task"]
    for field in data["fields"]:
        if field["name"] == "协作部门":
            field["options"] = [o for o in field["options"] if o != "财务部"]
        if field["name"] == "Start date":
            field["type"] = "text"
    for status in data["workflows"]["会议流程"]["statuses"]:
        if status["name"] == "已召开":
            status["name"] = "已开会"
    for transition in data["workflows"]["会议流程"]["transitions"]:
        transition["to"] = "已开会" if transition["to"] == "已召开" else transition["to"]
        if isinstance(transition.get("from"), list):
            transition["from"] = ["已开会" if s == "已召开" else s for s in transition["from"]]
    data["workflows"]["协作流程"]["transitions"] = [
        t for t in data["workflows"]["协作流程"]["transitions"] if t["to"] != "未开始"
    ]
    for user in data["users"]:
        if user["login"] == "finance.head":
            user["active"] = False
    data["registered_webhooks"] = [
        {
            "name": "crossdept",
            "url": BROKEN_SITE_RECEIVER,
            "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"],
            "jql": "project = XD",
        }
    ]
    data["confluence"] = {"spaces": []}
    return data
