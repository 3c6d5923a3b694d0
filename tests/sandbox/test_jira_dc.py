"""The Data Center flavour: usernames, PATs, Epic Link / Epic Name, the classic search."""

from __future__ import annotations

import jira
import pytest
import requests

from sandbox.app import Sandbox

from .conftest import DC_URL

API = DC_URL + "/rest/api/2"
BEARER = {"Authorization": "Bearer sandbox-pat-pm"}


def epic_link_refusal(dc_jira: jira.JIRA, key: str) -> dict[str, str]:
    """The field errors Data Center answers to a Task created with an Epic Link to `key`."""
    with pytest.raises(jira.JIRAError) as refused:
        dc_jira.create_issue(
            fields={
                "project": {"key": "XD"},
                "issuetype": {"name": "Task"},
                "summary": "x",
                "customfield_10101": key,
            }
        )
    errors: dict[str, str] = refused.value.response.json()["errors"]
    return errors


def test_server_info_is_not_cloud_and_users_have_names_and_keys(dc_jira: jira.JIRA) -> None:
    assert not dc_jira._is_cloud
    me = dc_jira.myself()
    assert me["name"] == "crossdept"
    assert me["key"].startswith("JIRAUSER")
    assert "accountId" not in me


def test_epic_fields_are_found_by_their_schema(dc_jira: jira.JIRA) -> None:
    by_custom = {f["schema"].get("custom"): f["id"] for f in dc_jira.fields() if f["custom"]}
    assert by_custom["com.pyxis.greenhopper.jira:gh-epic-link"] == "customfield_10101"
    assert by_custom["com.pyxis.greenhopper.jira:gh-epic-label"] == "customfield_10102"


def test_epic_needs_epic_name_and_children_use_epic_link(dc_jira: jira.JIRA, dc: Sandbox) -> None:
    with pytest.raises(jira.JIRAError) as refused:
        dc_jira.create_issue(
            fields={"project": {"key": "XD"}, "issuetype": {"name": "Epic"}, "summary": "E"}
        )
    assert refused.value.response.json()["errors"] == {
        "customfield_10102": "Epic Name is required."
    }
    epic = dc_jira.create_issue(
        fields={
            "project": {"key": "XD"},
            "issuetype": {"name": "Epic"},
            "summary": "E",
            "customfield_10102": "E",
        }
    )
    child = dc_jira.create_issue(
        fields={
            "project": {"key": "XD"},
            "issuetype": {"name": "Task"},
            "summary": "child",
            "customfield_10101": epic.key,
            "assignee": {"name": "engineering.contact"},
        }
    )
    assert child.raw["fields"]["customfield_10101"] == epic.key
    assert child.raw["fields"]["assignee"]["name"] == "engineering.contact"
    with pytest.raises(jira.JIRAError) as refused:
        dc_jira.create_issue(
            fields={
                "project": {"key": "XD"},
                "issuetype": {"name": "Task"},
                "summary": "x",
                "parent": {"key": epic.key},
            }
        )
    assert "parent" in refused.value.response.json()["errors"]
    assert epic_link_refusal(dc_jira, child.key) == {
        "customfield_10101": f"The issue {child.key} is not an epic."
    }
    found = dc_jira.search_issues(f'"Epic Link" = {epic.key}')
    assert [i.key for i in found] == [child.key]
    assert [i.key for i in dc_jira.search_issues(f"cf[10101] = {epic.key}")] == [child.key]


def test_edit_changelog_names_the_epic_link_custom_field(dc_jira: jira.JIRA, dc: Sandbox) -> None:
    epic = dc_jira.create_issue(
        fields={
            "project": {"key": "XD"},
            "issuetype": {"name": "Epic"},
            "summary": "E",
            "customfield_10102": "E",
        }
    )
    task = dc_jira.create_issue(
        fields={"project": {"key": "XD"}, "issuetype": {"name": "Task"}, "summary": "t"}
    )
    dc.outbox.pending.clear()
    task.update(fields={"customfield_10101": epic.key})
    event = dc.outbox.pending[0].payload()
    assert event["user"]["name"] == "crossdept"
    assert event["changelog"]["items"] == [
        {
            "field": "Epic Link",
            "fieldtype": "custom",
            "fieldId": "customfield_10101",
            "from": None,
            "fromString": None,
            "to": str(epic.id),
            "toString": epic.key,
        }
    ]


def test_assignee_must_be_given_by_name_on_data_center(dc: Sandbox) -> None:
    body = {
        "fields": {
            "project": {"key": "XD"},
            "issuetype": {"name": "Task"},
            "summary": "t",
            "assignee": {"name": "ghost"},
        }
    }
    response = requests.post(f"{API}/issue", json=body, headers=BEARER)
    assert response.status_code == 400
    assert response.json()["errors"] == {"assignee": "User 'ghost' does not exist."}


def test_classic_search_pages_with_start_at(dc_jira: jira.JIRA) -> None:
    for n in range(3):
        dc_jira.create_issue(
            fields={"project": {"key": "XD"}, "issuetype": {"name": "Task"}, "summary": f"#{n}"}
        )
    page = dc_jira.search_issues("project = XD ORDER BY key ASC", startAt=1, maxResults=1)
    assert [i.key for i in page] == ["XD-2"]
    assert page.total == 3


def test_pat_acts_as_its_user_and_users_are_found_by_username(dc: Sandbox) -> None:
    requests.post(
        f"{API}/issue",
        json={"fields": {"project": {"key": "XD"}, "issuetype": {"name": "Task"}, "summary": "t"}},
        headers=BEARER,
    )
    issue = requests.get(f"{API}/issue/XD-1", headers=BEARER).json()
    assert issue["fields"]["reporter"]["name"] == "pm"
    user = requests.get(f"{API}/user", params={"username": "finance.head"}, headers=BEARER).json()
    assert user["displayName"] == "Example Finance Head (财务部负责人)"
    assert (
        requests.get(
            f"{API}/search/jql", params={"jql": "project = XD"}, headers=BEARER
        ).status_code
        == 404
    )
    # Cloud's bulk user lookup does not exist on Data Center.
    assert (
        requests.get(f"{API}/user/bulk", params={"accountId": "pm"}, headers=BEARER).status_code
        == 404
    )
    # Both are calls DC's contract lacks: reported, then cleared for the teardown's check.
    assert [v.path for v in dc.violations] == ["/rest/api/2/search/jql", "/rest/api/2/user/bulk"]
    dc.violations.clear()


def new_task(**extra: object) -> dict[str, str]:
    """A Task the project manager files over REST; the created issue's id, key and self."""
    fields = {"project": {"key": "XD"}, "issuetype": {"name": "Task"}, "summary": "T"}
    created: dict[str, str] = requests.post(
        f"{API}/issue", json={"fields": fields, **extra}, headers=BEARER
    ).json()
    return created


def test_search_with_validate_query_false_turns_unknown_keys_into_warnings(dc: Sandbox) -> None:
    made = new_task()
    query = {"jql": f"key in ({made['key']}, XD-999)", "fields": ["summary"]}

    strict = requests.post(f"{API}/search", json=query, headers=BEARER)
    warned = requests.post(f"{API}/search", json={**query, "validateQuery": False}, headers=BEARER)

    assert strict.status_code == 400
    assert "An issue with key 'XD-999' does not exist" in strict.json()["errorMessages"][0]
    assert warned.status_code == 200
    assert [issue["key"] for issue in warned.json()["issues"]] == [made["key"]]
    assert warned.json()["warningMessages"] == [
        "An issue with key 'XD-999' does not exist for field 'key'."
    ]
    fetch = requests.post(
        f"{API}/issue/bulkfetch", json={"issueIdsOrKeys": ["XD-1"]}, headers=BEARER
    )
    assert (
        fetch.status_code == 405
    )  # Data Center has no bulk fetch: only GET/PUT/DELETE issue/{key}
    assert [v.path for v in dc.violations] == ["/rest/api/2/issue/bulkfetch"]
    dc.violations.clear()


def test_search_refuses_cloud_parameters_in_data_centers_own_words(dc: Sandbox) -> None:
    """DC's SearchRequestBean: validateQuery is a Boolean and there is no `properties`.

    Captured refusals: github.com/ljay79/jira-tools/issues/12 (validateQuery 'strict', properties)
    and github.com/floralvikings/jira-connector/issues/219 (an unrecognized field).
    """
    query = {"jql": "project = XD", "fields": ["summary"]}

    as_string = requests.post(
        f"{API}/search", json={**query, "validateQuery": "warn"}, headers=BEARER
    )
    with_properties = requests.post(
        f"{API}/search", json={**query, "properties": ["crossdept.item"]}, headers=BEARER
    )

    assert as_string.status_code == 400
    assert as_string.json() == {
        "errorMessages": [
            "Can not construct instance of java.lang.Boolean from String value 'warn': only "
            '"true" or "false" recognized (through reference chain: '
            'com.atlassian.jira.rest.v2.search.SearchRequestBean["validateQuery"])'
        ],
        "errors": {},
    }
    assert with_properties.status_code == 400
    assert with_properties.json()["errorMessages"] == [
        'Unrecognized field "properties" (Class com.atlassian.jira.rest.v2.search.SearchRequestBean),'
        " not marked as ignorable (through reference chain: "
        'com.atlassian.jira.rest.v2.search.SearchRequestBean["properties"])'
    ]
    assert len(dc.violations) == 2
    dc.violations.clear()


def test_search_returns_no_properties_even_when_a_query_string_asks(dc: Sandbox) -> None:
    made = new_task(
        properties=[{"key": "crossdept.item", "value": {"request": "XD-9", "ref": "r"}}]
    )
    found = requests.get(
        f"{API}/search",
        params={"jql": f"key = {made['key']}", "properties": "crossdept.item"},
        headers=BEARER,
    ).json()
    single = requests.get(
        f"{API}/issue/{made['key']}", params={"properties": "crossdept.item"}, headers=BEARER
    ).json()

    assert "properties" not in found["issues"][0]  # JAX-RS ignores a parameter DC lacks
    assert single["properties"] == {"crossdept.item": {"request": "XD-9", "ref": "r"}}


def test_comment_webhooks_carry_no_issue_and_the_companion_carries_it(dc: Sandbox) -> None:
    made = new_task()
    dc.outbox.pending.clear()
    requests.post(f"{API}/issue/{made['key']}/comment", json={"body": "hi"}, headers=BEARER)

    sent = {d.event: d.payload() for d in dc.outbox.pending}
    comment = sent["comment_created"]
    companion = sent["jira:issue_updated"]
    assert "issue" not in comment
    assert comment["comment"]["self"].endswith(f"/rest/api/2/issue/{made['id']}/comment/10000")
    assert comment["comment"]["author"]["name"] == "pm"
    assert "accountId" not in comment["comment"]["author"]
    assert companion["issue_event_type_name"] == "issue_commented"
    assert companion["issue"]["key"] == made["key"]
    assert companion["comment"]["id"] == comment["comment"]["id"]
    assert "changelog" not in companion


def test_only_the_epic_type_is_an_epic_and_shows_epic_name(dc_jira: jira.JIRA) -> None:
    """Data Center has no epic level of its own: an Epic Link to the request type is refused,
    and Epic Name is on the Epic's create screen alone."""
    request = dc_jira.create_issue(
        fields={"project": {"key": "XD"}, "issuetype": {"name": "跨部门协作需求"}, "summary": "R"}
    )
    assert epic_link_refusal(dc_jira, request.key) == {
        "customfield_10101": f"The issue {request.key} is not an epic."
    }
    screens = {
        kind["name"]: {
            f["fieldId"]
            for f in dc_jira._get_json(f"issue/createmeta/XD/issuetypes/{kind['id']}")["values"]
        }
        for kind in dc_jira._get_json("issue/createmeta/XD/issuetypes")["values"]
    }
    assert [name for name, fields in screens.items() if "customfield_10102" in fields] == ["Epic"]


def test_an_issue_is_created_with_a_link_in_its_update(dc_jira: jira.JIRA, dc: Sandbox) -> None:
    request = dc_jira.create_issue(
        fields={"project": {"key": "XD"}, "issuetype": {"name": "跨部门协作需求"}, "summary": "R"}
    )
    link = {"add": {"type": {"name": "Relates"}, "outwardIssue": {"key": request.key}}}
    epic_fields = {
        "project": {"key": "XD"},
        "issuetype": {"name": "Epic"},
        "summary": "E",
        "customfield_10102": "E",
    }
    created = requests.post(
        f"{API}/issue",
        json={"fields": epic_fields, "update": {"issuelinks": [link]}},
        headers=BEARER,
    )
    assert created.status_code == 201
    epic = created.json()["key"]
    (linked,) = dc_jira.issue(epic).raw["fields"]["issuelinks"]
    assert linked["outwardIssue"]["key"] == request.key
    assert [i.key for i in dc_jira.search_issues(f"issue in linkedIssues({request.key})")] == [epic]
    refused = requests.post(
        f"{API}/issue",
        json={
            "fields": {"project": {"key": "XD"}, "issuetype": {"name": "Task"}, "summary": "T"},
            "update": {"issuelinks": [{"set": []}]},
        },
        headers=BEARER,
    )
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "issuelinks": "Operation 'set' is not supported for field 'issuelinks'."
    }
