"""The JQL subset: what it answers, and the clear 400 for everything else."""

from __future__ import annotations

import jira
import pytest
import requests

from sandbox.app import ManualClock, Sandbox
from sandbox.jql import JqlError, parse

from .conftest import CLOUD_URL, PM_ACCOUNT

AUTH = ("crossdept@example.com", "api-token")


def keys(client: jira.JIRA, query: str) -> list[str]:
    return [issue.key for issue in client.search_issues(query, fields="key")]


@pytest.fixture
def populated(cloud_jira: jira.JIRA, clock: ManualClock) -> jira.JIRA:
    """XD-1 request (epic level), XD-2 task under it, XD-3 sub-task of XD-2, XD-4 meeting."""
    request = cloud_jira.create_issue(
        fields={
            "project": {"key": "XD"},
            "issuetype": {"name": "跨部门协作需求"},
            "summary": "新品",
            "customfield_10050": {"value": "市场部"},
            "customfield_10051": [{"value": "技术部"}],
        }
    )
    clock.advance(hours=1)
    task = cloud_jira.create_issue(
        fields={
            "project": {"key": "XD"},
            "issuetype": {"name": "Task"},
            "summary": "评估",
            "parent": {"key": request.key},
            "assignee": {"accountId": PM_ACCOUNT},
            "duedate": "2026-11-24",
            "labels": ["crossdept", "stage-1"],
        }
    )
    clock.advance(hours=1)
    cloud_jira.create_issue(
        fields={
            "project": {"key": "XD"},
            "issuetype": {"name": "Sub-task"},
            "summary": "细项",
            "parent": {"key": task.key},
            "duedate": "2026-11-23",
        }
    )
    clock.advance(hours=1)
    cloud_jira.create_issue(
        fields={
            "project": {"key": "XD"},
            "issuetype": {"name": "会议"},
            "summary": "评审会",
            "customfield_10060": "2026-11-25T14:00:00.000+0800",
        }
    )
    cloud_jira.add_issue_property(task.key, "crossdept", {"stage": "评估", "round": 2})
    cloud_jira.transition_issue(task, "进行中")
    return cloud_jira


def test_equality_lists_and_junctions(populated: jira.JIRA) -> None:
    assert keys(populated, "project = XD ORDER BY key ASC") == ["XD-1", "XD-2", "XD-3", "XD-4"]
    assert keys(populated, "issuetype in (Task, 会议) ORDER BY key") == ["XD-2", "XD-4"]
    assert keys(populated, "issuetype not in (Task, 会议) AND key != XD-3") == ["XD-1"]
    assert keys(
        populated, "(status = 进行中 OR issuetype = 会议) AND project = XD ORDER BY key DESC"
    ) == ["XD-4", "XD-2"]
    assert keys(populated, "statusCategory = 'In Progress'") == ["XD-2"]
    assert keys(populated, "statusCategory != Done ORDER BY key") == [
        "XD-1",
        "XD-2",
        "XD-3",
        "XD-4",
    ]


def test_people_dates_and_empties(populated: jira.JIRA) -> None:
    assert keys(populated, f"assignee = '{PM_ACCOUNT}'") == ["XD-2"]
    assert keys(populated, "assignee = currentUser()") == []
    assert keys(populated, "reporter = currentUser() AND assignee is EMPTY ORDER BY key") == [
        "XD-1",
        "XD-3",
        "XD-4",
    ]
    assert keys(populated, "assignee != currentUser()") == ["XD-2"]  # != never matches empty fields
    assert keys(populated, "duedate < '2026-11-24' ") == ["XD-3"]
    assert keys(populated, "duedate <= 2026-11-24 ORDER BY duedate ASC") == ["XD-3", "XD-2"]
    assert keys(populated, "duedate is not EMPTY ORDER BY duedate DESC") == ["XD-2", "XD-3"]
    assert keys(populated, "created >= -90m ORDER BY created") == ["XD-3", "XD-4"]
    assert keys(populated, "updated < '2026-11-22 11:00'") == ["XD-1"]


def test_parent_labels_custom_fields_and_properties(populated: jira.JIRA) -> None:
    assert keys(populated, "parent = XD-1") == ["XD-2"]
    assert keys(populated, "parent in (XD-1, XD-2) ORDER BY key") == ["XD-2", "XD-3"]
    assert keys(populated, "labels = stage-1") == ["XD-2"]
    assert keys(populated, "labels not in (stage-1)") == []
    assert keys(populated, "需求部门 = 市场部") == ["XD-1"]
    assert keys(populated, "cf[10051] in (技术部, 财务部)") == ["XD-1"]
    assert keys(populated, "customfield_10050 is EMPTY AND issuetype = Task") == ["XD-2"]
    assert keys(populated, "会议时间 > '2026-11-25 13:00'") == ["XD-4"]
    assert keys(populated, "issue.property[crossdept].stage = 评估") == ["XD-2"]
    assert keys(populated, "issue.property[crossdept].round >= 2") == ["XD-2"]
    assert keys(populated, "issue.property[crossdept].stage is EMPTY AND issuetype = Task") == []


def test_post_search_and_pagination_tokens(populated: jira.JIRA, cloud: Sandbox) -> None:
    first = populated.enhanced_search_issues(
        "project = XD ORDER BY key", maxResults=2, fields="summary"
    )
    assert [i.key for i in first] == ["XD-1", "XD-2"]
    rest = populated.enhanced_search_issues(
        "project = XD ORDER BY key",
        maxResults=2,
        nextPageToken=first.nextPageToken,
        fields="summary",
    )
    assert [i.key for i in rest] == ["XD-3", "XD-4"]
    everything = populated.enhanced_search_issues("project = XD", maxResults=0, fields="key")
    assert len(everything) == 4
    posted = requests.post(
        f"{CLOUD_URL}/rest/api/2/search/jql",
        json={"jql": "parent = XD-1", "fields": ["summary"], "properties": ["crossdept"]},
        auth=AUTH,
    ).json()
    assert [(i["key"], i["properties"]) for i in posted["issues"]] == [
        ("XD-2", {"crossdept": {"stage": "评估", "round": 2}})
    ]


def test_jira_python_post_search_sends_nulls_the_api_description_refuses(
    populated: jira.JIRA, cloud: Sandbox
) -> None:
    # jira 3.10.5 posts "expand": null and "properties": null; search with GET instead.
    with pytest.raises(jira.JIRAError):
        populated.enhanced_search_issues("project = XD", use_post=True)
    assert {v.path for v in cloud.violations} == {"/rest/api/2/search/jql"}
    cloud.violations.clear()


def test_linked_issues_are_found_either_way_round_and_by_link_type(populated: jira.JIRA) -> None:
    for kind, inward, outward in (("Relates", "XD-4", "XD-1"), ("Blocks", "XD-1", "XD-3")):
        linked = requests.post(
            f"{CLOUD_URL}/rest/api/2/issueLink",
            json={
                "type": {"name": kind},
                "inwardIssue": {"key": inward},
                "outwardIssue": {"key": outward},
            },
            auth=AUTH,
        )
        assert linked.status_code == 201, linked.text
    assert keys(populated, "issue in linkedIssues(XD-1) ORDER BY key") == ["XD-3", "XD-4"]
    assert keys(populated, 'issue in linkedIssues("XD-1", "Relates")') == ["XD-4"]
    assert keys(populated, "issue in linkedIssues(XD-3, blocks)") == ["XD-1"]  # by its words
    assert keys(populated, "issue in linkedIssues(XD-1) OR key = XD-2 ORDER BY key") == [
        "XD-2",
        "XD-3",
        "XD-4",
    ]
    assert keys(populated, "issue not in linkedIssues(XD-1) ORDER BY key") == ["XD-1", "XD-2"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("summary ~ 评估", "text-search operator '~'"),
        ("NOT status = 进行中", "does not support NOT"),
        ("status WAS 进行中", "history operator 'WAS'"),
        ("assignee in membersOf(jira-users)", "does not support the function 'membersOf'"),
        ("issue in linkedIssues()", "expected between '1' and '2' arguments but received '0'"),
        ("issue in linkedIssues(XD-99)", "Issue 'XD-99' could not be found in function"),
        ("issue = linkedIssues(XD-1)", "is used with IN or NOT IN"),
        ("issue in linkedIssues(XD-1, Mirrors)", "link type 'Mirrors' could not be found"),
        ("assignee in membersOf()", "does not support the function 'membersOf'"),
        ("duedate < startOfDay()", "does not support the function 'startOfDay'"),
        ("sprint = 1", "does not support searching the field 'sprint'"),
        ("project = ", "Expecting either a value, list or function but got the end of the query"),
        ("project XD", "Expecting operator but got 'XD'"),
        ("status = 进行中 AND", "Expecting a field name but got the end of the query"),
        ("labels < a", "The operator '<' is not supported by the 'labels' field."),
    ],
)
def test_unsupported_jql_is_a_clear_400(cloud: Sandbox, query: str, message: str) -> None:
    response = requests.get(f"{CLOUD_URL}/rest/api/2/search/jql", params={"jql": query}, auth=AUTH)
    assert response.status_code == 400
    [error] = response.json()["errorMessages"]
    assert message in error


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "nosuchfield = 1",
            "Field 'nosuchfield' does not exist or you do not have permission to view it.",
        ),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("需求部门 = 人事部", "The option '人事部' for field '需求部门' does not exist."),
        ("parent = XD-99", "An issue with key 'XD-99' does not exist for field 'parent'."),
        ("order by key", "Unbounded JQL queries are not allowed here."),
    ],
)
def test_unknown_fields_and_values_are_refused_even_with_no_issues(
    cloud: Sandbox, query: str, message: str
) -> None:
    response = requests.get(f"{CLOUD_URL}/rest/api/2/search/jql", params={"jql": query}, auth=AUTH)
    assert response.status_code == 400
    assert message in response.json()["errorMessages"][0]


def test_parser_reads_quoted_fields_and_order_by() -> None:
    query = parse('"Epic Link" = "XD-1" order by duedate asc, key desc')
    assert query.order_by[0].field == "duedate"
    assert query.order_by[1].descending
    with pytest.raises(JqlError):
        parse('summary = "unterminated')
