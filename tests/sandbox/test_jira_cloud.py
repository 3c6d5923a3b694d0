"""The Cloud flavour driven by the real jira.JIRA client through `responses`."""

from __future__ import annotations

import json

import jira
import pytest
import requests

from sandbox.app import Sandbox

from .conftest import CLOUD_URL, CROSSDEPT_ACCOUNT, PM_ACCOUNT

API = CLOUD_URL + "/rest/api/2"
AUTH = ("crossdept@example.com", "api-token")


def task(summary: str = "准备预算", **extra: object) -> dict[str, object]:
    return {"project": {"key": "XD"}, "issuetype": {"name": "Task"}, "summary": summary, **extra}


def test_server_info_says_cloud_so_the_client_uses_account_ids(cloud_jira: jira.JIRA) -> None:
    assert cloud_jira._is_cloud
    assert cloud_jira.myself()["accountId"] == CROSSDEPT_ACCOUNT


def test_created_issue_reads_back_with_jira_shaped_fields(cloud_jira: jira.JIRA) -> None:
    issue = cloud_jira.create_issue(
        fields=task(
            duedate="2026-11-30",
            assignee={"accountId": PM_ACCOUNT},
            customfield_10050={"value": "市场部"},
            customfield_10051=[{"value": "技术部"}, {"value": "财务部"}],
            customfield_10060="2026-11-25T14:00:00.000+0800",
            labels=["crossdept"],
        )
    )
    raw = issue.raw
    assert raw["key"] == "XD-1"
    fields = raw["fields"]
    assert fields["status"]["name"] == "未开始"
    assert fields["status"]["statusCategory"]["key"] == "new"
    assert fields["assignee"]["accountId"] == PM_ACCOUNT
    assert fields["assignee"]["accountType"] == "atlassian"
    assert "name" not in fields["assignee"]
    assert fields["reporter"]["accountId"] == CROSSDEPT_ACCOUNT
    assert fields["created"] == "2026-11-22T10:04:41.747+0800"
    assert fields["customfield_10050"]["value"] == "市场部"
    assert [o["value"] for o in fields["customfield_10051"]] == ["技术部", "财务部"]
    assert fields["customfield_10060"] == "2026-11-25T14:00:00.000+0800"
    assert fields["issuetype"]["hierarchyLevel"] == 0


def test_field_validation_answers_400_with_per_field_errors(cloud_jira: jira.JIRA) -> None:
    with pytest.raises(jira.JIRAError) as refused:
        cloud_jira.create_issue(
            fields={
                "project": {"key": "XD"},
                "issuetype": {"name": "Task"},
                "duedate": "2026/11/30",
                "assignee": {"accountId": "557058:nobody"},
                "customfield_10050": {"value": "人事部"},
            }
        )
    assert refused.value.status_code == 400
    errors = refused.value.response.json()["errors"]
    assert errors == {
        "summary": "You must specify a summary of the issue.",
        "duedate": "Error parsing date string: 2026/11/30",
        "assignee": "User '557058:nobody' does not exist.",
        "customfield_10050": "Option value '人事部' is not valid",
    }


def test_unknown_issue_type_and_sub_task_without_parent_are_refused(cloud: Sandbox) -> None:
    response = requests.post(
        f"{API}/issue", json={"fields": task(issuetype={"name": "Bug"})}, auth=AUTH
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"issuetype": "Specify a valid issue type"}
    response = requests.post(
        f"{API}/issue", json={"fields": task(issuetype={"name": "Sub-task"})}, auth=AUTH
    )
    assert response.json()["errors"]["parent"].startswith("Issue type is a sub-task")


def test_epic_children_use_parent_on_cloud_and_hierarchy_is_enforced(cloud_jira: jira.JIRA) -> None:
    request = cloud_jira.create_issue(
        fields={
            "project": {"key": "XD"},
            "issuetype": {"name": "跨部门协作需求"},
            "summary": "新品发布",
        }
    )
    child = cloud_jira.create_issue(fields=task(parent={"key": request.key}))
    assert child.raw["fields"]["parent"]["key"] == request.key
    sub = cloud_jira.create_issue(
        fields={
            "project": {"key": "XD"},
            "issuetype": {"name": "Sub-task"},
            "summary": "s",
            "parent": {"key": child.key},
        }
    )
    assert [s["key"] for s in cloud_jira.issue(child.key).raw["fields"]["subtasks"]] == [sub.key]
    with pytest.raises(jira.JIRAError) as refused:
        cloud_jira.create_issue(fields=task(parent={"key": child.key}))
    assert refused.value.response.json()["errors"]["parent"] == (
        "Given parent work item does not belong to appropriate hierarchy."
    )


def test_sub_task_parent_must_be_in_the_same_project() -> None:
    from pathlib import Path

    import responses
    from ruamel.yaml import YAML

    seed = YAML(typ="safe").load(
        Path(__file__).resolve().parents[2].joinpath("sandbox/seeds/cloud.yaml").read_text()
    )
    other = dict(seed["projects"][0], key="OPS", id="10100", name="Operations")
    seed["projects"].append(other)
    sandbox = Sandbox.from_seed(seed)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sandbox.install(rsps, jira_url=CLOUD_URL)
        ops = requests.post(
            f"{API}/issue", json={"fields": dict(task(), project={"key": "OPS"})}, auth=AUTH
        ).json()
        response = requests.post(
            f"{API}/issue",
            json={"fields": task(issuetype={"name": "Sub-task"}, parent={"key": ops["key"]})},
            auth=AUTH,
        )
    assert response.status_code == 400
    assert (
        response.json()["errors"]["parent"]
        == "Sub-tasks must be created in the same project as the parent."
    )


def test_bulk_create_reports_partial_failures_like_jira(
    cloud_jira: jira.JIRA, cloud: Sandbox
) -> None:
    results = cloud_jira.create_issues(
        [task("一"), task("二", duedate="tomorrow"), task("三")], prefetch=False
    )
    assert [r["status"] for r in results] == ["Success", "Error", "Success"]
    assert results[1]["error"] == {"duedate": "Error parsing date string: tomorrow"}
    response = requests.post(
        f"{API}/issue/bulk",
        json={"issueUpdates": [{"fields": task(duedate="x")}, {"fields": task(duedate="y")}]},
        auth=AUTH,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["issues"] == []
    assert [e["failedElementNumber"] for e in body["errors"]] == [0, 1]
    assert body["errors"][0]["status"] == 400
    assert body["errors"][0]["elementErrors"]["errors"] == {
        "duedate": "Error parsing date string: x"
    }


def test_bulk_create_takes_at_most_fifty(cloud: Sandbox) -> None:
    fifty = [{"fields": task(f"#{n}")} for n in range(50)]
    assert (
        requests.post(f"{API}/issue/bulk", json={"issueUpdates": fifty}, auth=AUTH).status_code
        == 201
    )
    too_many = fifty + [{"fields": task("#51")}]
    response = requests.post(f"{API}/issue/bulk", json={"issueUpdates": too_many}, auth=AUTH)
    assert response.status_code == 400
    assert len(cloud.jira.issues) == 50


def test_edit_records_a_changelog_and_queues_jira_issue_updated(
    cloud_jira: jira.JIRA, cloud: Sandbox
) -> None:
    issue = cloud_jira.create_issue(fields=task(duedate="2026-11-30"))
    cloud.outbox.pending.clear()
    issue.update(fields={"duedate": "2026-12-01", "assignee": {"accountId": PM_ACCOUNT}})
    [delivery] = cloud.outbox.pending
    event = delivery.payload()
    assert event["webhookEvent"] == "jira:issue_updated"
    assert event["issue_event_type_name"] == "issue_updated"
    assert event["user"]["accountId"] == CROSSDEPT_ACCOUNT
    items = {item["fieldId"]: item for item in event["changelog"]["items"]}
    assert items["duedate"]["from"] == "2026-11-30"
    assert items["duedate"]["to"] == "2026-12-01"
    assert items["assignee"]["to"] == PM_ACCOUNT
    assert items["assignee"]["toString"] == "Example Project Manager (项目经理)"
    history = cloud_jira.issue(issue.key, expand="changelog").raw["changelog"]["histories"]
    assert history[-1]["items"] == event["changelog"]["items"]


def test_assigning_alone_is_an_issue_assigned_event(cloud_jira: jira.JIRA, cloud: Sandbox) -> None:
    issue = cloud_jira.create_issue(fields=task())
    cloud.outbox.pending.clear()
    cloud_jira.assign_issue(issue.key, PM_ACCOUNT)
    assert cloud.outbox.pending[0].payload()["issue_event_type_name"] == "issue_assigned"
    assert cloud_jira.issue(issue.key).fields.assignee.accountId == PM_ACCOUNT


def test_transitions_follow_the_seed_workflow(cloud_jira: jira.JIRA, cloud: Sandbox) -> None:
    issue = cloud_jira.create_issue(fields=task())
    assert [t["name"] for t in cloud_jira.transitions(issue)] == ["进行中"]
    with pytest.raises(jira.JIRAError) as refused:
        cloud_jira.transition_issue(issue, "999")
    assert refused.value.status_code == 400
    assert "Transition id '999' is not valid for this issue." in refused.value.text
    cloud_jira.transition_issue(issue, "进行中")
    cloud_jira.transition_issue(issue, "已完成")
    done = cloud_jira.issue(issue.key)
    assert done.fields.status.statusCategory.key == "done"
    assert done.fields.resolution.name == "Done"
    last = cloud.outbox.pending[-1].payload()
    assert last["issue_event_type_name"] == "issue_generic"
    assert [i["field"] for i in last["changelog"]["items"]] == ["resolution", "status"]
    cloud_jira.transition_issue(issue, "进行中")  # any status may go back to 进行中
    assert cloud_jira.issue(issue.key).fields.resolution is None


def test_comments_add_edit_delete_and_their_webhooks(cloud_jira: jira.JIRA, cloud: Sandbox) -> None:
    issue = cloud_jira.create_issue(fields=task())
    cloud.outbox.pending.clear()
    comment = cloud_jira.add_comment(
        issue, "请 [~accountid:557058:00000000-0000-4000-8000-000000000009] 确认"
    )
    comment.update(body="已确认")
    assert [c.body for c in cloud_jira.comments(issue)] == ["已确认"]
    comment.delete()
    assert cloud_jira.comments(issue) == []
    events = [(d.event, d.payload().get("issue_event_type_name")) for d in cloud.outbox.pending]
    assert events == [
        ("comment_created", None),
        ("jira:issue_updated", "issue_commented"),
        ("comment_updated", None),
        ("jira:issue_updated", "issue_comment_edited"),
        ("comment_deleted", None),
        ("jira:issue_updated", "issue_comment_deleted"),
    ]
    created = cloud.outbox.pending[0].payload()
    assert set(created["issue"]["fields"]) == {
        "summary",
        "issuetype",
        "project",
        "assignee",
        "priority",
        "status",
    }
    assert created["comment"]["author"]["accountId"] == CROSSDEPT_ACCOUNT
    assert "user" not in created


def test_issue_properties_round_trip_and_limits(cloud_jira: jira.JIRA, cloud: Sandbox) -> None:
    issue = cloud_jira.create_issue(fields=task())
    cloud_jira.add_issue_property(issue.key, "crossdept", {"stage": "评审", "tree": 1})
    assert cloud_jira.issue_property(issue.key, "crossdept").value.stage == "评审"
    assert [p.key for p in cloud_jira.issue_properties(issue.key)] == ["crossdept"]
    got = cloud_jira.issue(issue.key, properties="crossdept").raw["properties"]
    assert got == {"crossdept": {"stage": "评审", "tree": 1}}
    too_long_key = requests.put(
        f"{API}/issue/{issue.key}/properties/{'k' * 256}", json={"a": 1}, auth=AUTH
    )
    assert too_long_key.status_code == 400
    too_big = requests.put(
        f"{API}/issue/{issue.key}/properties/big", json={"a": "x" * 32768}, auth=AUTH
    )
    assert too_big.status_code == 400
    assert (
        requests.delete(f"{API}/issue/{issue.key}/properties/crossdept", auth=AUTH).status_code
        == 204
    )
    assert (
        requests.get(f"{API}/issue/{issue.key}/properties/crossdept", auth=AUTH).status_code == 404
    )


def test_links_remote_links_and_notify(cloud_jira: jira.JIRA, cloud: Sandbox) -> None:
    first = cloud_jira.create_issue(fields=task("一"))
    second = cloud_jira.create_issue(fields=task("二"))
    # jira-python sends "comment": null without one, which the API description refuses.
    cloud_jira.create_issue_link("Blocks", first.key, second.key, comment={"body": "阻塞"})
    links = cloud_jira.issue(first.key).raw["fields"]["issuelinks"]
    assert links[0]["outwardIssue"]["key"] == second.key
    cloud_jira.add_simple_link(
        first.key, {"url": "https://wiki.example.com/x/1", "title": "会议纪要"}
    )
    assert cloud_jira.remote_links(first.key)[0].object.title == "会议纪要"
    body = {"subject": "逾期", "textBody": "请处理", "to": {"users": [{"accountId": PM_ACCOUNT}]}}
    response = requests.post(
        f"{API}/issue/{first.key}/notify",
        data=json.dumps(body),
        auth=AUTH,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 204
    assert cloud.jira.notifications[0].body["subject"] == "逾期"


def test_user_lookups_speak_account_ids(cloud_jira: jira.JIRA) -> None:
    assert cloud_jira.user(PM_ACCOUNT).displayName == "Example Project Manager (项目经理)"
    found = cloud_jira.search_users(query="Example Finance")
    assert {u.accountId for u in found} == {
        "557058:00000000-0000-4000-8000-000000000007",
        "557058:00000000-0000-4000-8000-000000000008",
    }


def test_bulk_user_lookup_returns_the_known_accounts_in_one_page(cloud: Sandbox) -> None:
    unknown = "557058:ffffffff-0000-4000-8000-000000000000"
    response = requests.get(
        f"{API}/user/bulk",
        params=[("maxResults", "200"), ("accountId", PM_ACCOUNT), ("accountId", unknown)],
        auth=AUTH,
    )
    assert response.status_code == 200
    page = response.json()
    assert [u["accountId"] for u in page["values"]] == [PM_ACCOUNT]
    assert page["isLast"] is True and page["total"] == 1


def test_legacy_search_is_gone_on_cloud(cloud: Sandbox) -> None:
    response = requests.get(f"{API}/search", params={"jql": "project = XD"}, auth=AUTH)
    assert response.status_code == 410


def test_bulk_fetch_reads_many_issues_and_names_the_missing_ones(cloud: Sandbox) -> None:
    made = [
        requests.post(f"{API}/issue", json={"fields": task(f"#{n}")}, auth=AUTH).json()
        for n in range(3)
    ]
    requests.put(
        f"{API}/issue/{made[1]['key']}/properties/crossdept.item", json={"ref": "s1"}, auth=AUTH
    )
    wanted = [made[2]["key"], "XD-999", made[1]["key"].lower(), made[0]["id"]]

    response = requests.post(
        f"{API}/issue/bulkfetch",
        json={"issueIdsOrKeys": wanted, "fields": ["summary"], "properties": ["crossdept.item"]},
        auth=AUTH,
    )

    assert response.status_code == 200
    answer = response.json()
    assert [issue["key"] for issue in answer["issues"]] == [m["key"] for m in made]  # by id
    assert answer["issues"][1]["properties"] == {"crossdept.item": {"ref": "s1"}}
    assert answer["issues"][0]["fields"] == {"summary": "#0"}
    assert [error["id"] for error in answer["issueErrors"]] == ["XD-999"]
    too_many = {"issueIdsOrKeys": [f"XD-{n}" for n in range(101)]}
    assert requests.post(f"{API}/issue/bulkfetch", json=too_many, auth=AUTH).status_code == 400
