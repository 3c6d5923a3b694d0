"""The Jira gateway against recorded-shape HTTP answers: auth, deployment, counting, error mapping."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import date

import pytest
import requests
import responses

from plugin.atlassian.jira_gateway import BULK_LIMIT, JiraGateway, issue_payload
from plugin.atlassian.marks import MarkBook, issue_marks
from plugin.atlassian.ports import NewIssue
from plugin.atlassian.queries import Children, Items
from plugin.spine.errors import RefusedError, TransientGatewayError
from plugin.spine.store import Store

URL = "https://example.atlassian.net"
DC_URL = "https://jira.example.com/jira"
TOKEN = "api-token-that-must-not-leak"
PAT = "pat-that-must-not-leak"


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def cloud(
    http: responses.RequestsMock, observed: list[tuple[str, str, int]] | None = None
) -> JiraGateway:
    http.get(
        f"{URL}/rest/api/2/serverInfo",
        json={"deploymentType": "Cloud", "versionNumbers": [1001, 0, 0]},
    )
    record = observed.append if observed is not None else None
    return JiraGateway.connect(
        URL,
        email="bot@example.com",
        api_token=TOKEN,
        observer=(lambda e, m, s: record((e, m, s))) if record else None,
    )


EPIC_LINK = {
    "id": "customfield_10101",
    "name": "Epic Link",
    "schema": {"custom": "com.pyxis.greenhopper.jira:gh-epic-link"},
}


def data_center(http: responses.RequestsMock) -> JiraGateway:
    http.get(
        f"{DC_URL}/rest/api/2/serverInfo",
        json={"deploymentType": "Server", "versionNumbers": [10, 3, 1]},
    )
    return JiraGateway.connect(DC_URL, pat=PAT)


def test_cloud_uses_basic_auth_and_is_detected(http: responses.RequestsMock) -> None:
    observed: list[tuple[str, str, int]] = []
    gateway = cloud(http, observed)
    assert gateway.is_cloud
    assert http.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert observed == [("GET /rest/api/2/serverInfo", "GET", 200)]
    assert gateway.calls[("GET /rest/api/2/serverInfo", 200)] == 1
    assert gateway.user_payload("557058:x") == {"accountId": "557058:x"}


def test_data_center_uses_a_bearer_token_and_usernames(http: responses.RequestsMock) -> None:
    gateway = data_center(http)
    assert not gateway.is_cloud
    assert http.calls[0].request.headers["Authorization"] == f"Bearer {PAT}"
    assert gateway.user_payload("engineering.head") == {"name": "engineering.head"}


def test_connect_without_credentials_is_refused() -> None:
    with pytest.raises(Exception, match="API token"):
        JiraGateway.connect(URL)


def test_429_is_transient_with_retry_after_and_does_not_sleep(http: responses.RequestsMock) -> None:
    gateway = cloud(http)
    http.get(
        f"{URL}/rest/api/2/myself",
        status=429,
        headers={"Retry-After": "7", "RateLimit-Reason": "jira-burst-based"},
    )
    started = time.monotonic()
    with pytest.raises(TransientGatewayError) as caught:
        gateway.myself()
    assert caught.value.retry_after == 7
    assert time.monotonic() - started < 1
    assert gateway.calls[("GET /rest/api/2/myself", 429)] == 1


def test_with_a_budget_a_short_429_is_sent_again_after_its_wait_and_a_long_one_is_not(
    http: responses.RequestsMock, sqlite_store: Store
) -> None:
    from plugin.spine.budget import RequestBudget

    gateway = cloud(http)
    slept: list[float] = []
    gateway.budget = RequestBudget(sqlite_store, URL, None, sleep=slept.append)
    http.get(f"{URL}/rest/api/2/myself", status=429, headers={"Retry-After": "1"})
    http.get(f"{URL}/rest/api/2/myself", json={"accountId": "557058:bot"})
    assert gateway.myself() == "557058:bot"  # Jira did nothing the first time: safe to resend
    assert slept and slept[-1] == pytest.approx(1, abs=0.1)

    http.get(f"{URL}/rest/api/2/field", status=429, headers={"Retry-After": "7"})
    with pytest.raises(TransientGatewayError) as caught:
        gateway.fields()  # too long to wait in a worker: the queue runs the job again later
    assert caught.value.retry_after == 7
    assert gateway.calls[("GET /rest/api/2/field", 429)] == 1


def test_5xx_and_connection_errors_are_transient(http: responses.RequestsMock) -> None:
    gateway = cloud(http)
    http.get(f"{URL}/rest/api/2/field", status=503)
    with pytest.raises(TransientGatewayError) as caught:
        gateway.fields()
    assert caught.value.retry_after is None
    http.get(f"{URL}/rest/api/2/field", body=requests.ConnectionError("reset"))
    with pytest.raises(TransientGatewayError):
        gateway.fields()
    assert gateway.calls[("GET /rest/api/2/field", 0)] == 1


def test_4xx_is_refused_with_jiras_reasons_and_no_secret_in_logs(
    http: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway = cloud(http)
    http.post(
        f"{URL}/rest/api/2/issue/XD-1/comment",
        status=403,
        json={"errorMessages": ["You do not have permission"], "errors": {}},
    )
    with pytest.raises(RefusedError) as caught:
        gateway.add_comment("XD-1", "hello")
    assert caught.value.status == 403
    assert caught.value.messages == ["You do not have permission"]
    assert TOKEN not in caplog.text
    assert http.calls[-1].request.headers["Authorization"][6:] not in caplog.text
    assert "You do not have permission" in caplog.text


def test_bulk_create_maps_partial_success_by_input_index(http: responses.RequestsMock) -> None:
    gateway = cloud(http)
    http.post(
        f"{URL}/rest/api/2/issue/bulk",
        status=201,
        json={
            "issues": [
                {"id": "10010", "key": "XD-10", "self": "x"},
                {"id": "10012", "key": "XD-12", "self": "x"},
            ],
            "errors": [
                {
                    "failedElementNumber": 1,
                    "status": 400,
                    "elementErrors": {
                        "errorMessages": [],
                        "errors": {"assignee": "User 'x' cannot be assigned issues."},
                    },
                }
            ],
        },
    )
    updates = [{"fields": {"summary": str(n)}} for n in range(3)]
    result = gateway.create_bulk(updates)
    assert {i: c.key for i, c in result.created.items()} == {0: "XD-10", 2: "XD-12"}
    assert result.refused[1].errors == {"assignee": "User 'x' cannot be assigned issues."}
    sent = json.loads(http.calls[-1].request.body)
    assert sent == {"issueUpdates": updates}
    assert gateway.calls_to("POST /rest/api/2/issue/bulk") == 1


def test_bulk_create_all_refused_is_a_400_with_per_item_errors(
    http: responses.RequestsMock,
) -> None:
    gateway = cloud(http)
    http.post(
        f"{URL}/rest/api/2/issue/bulk",
        status=400,
        json={
            "issues": [],
            "errors": [
                {
                    "failedElementNumber": 0,
                    "status": 400,
                    "elementErrors": {"errors": {"issuetype": "bad"}},
                },
            ],
        },
    )
    result = gateway.create_bulk([{"fields": {}}])
    assert result.created == {}
    assert result.refused[0].reason() == "issuetype: bad"


def test_bulk_create_refuses_more_than_fifty() -> None:
    gateway = JiraGateway.__new__(JiraGateway)
    with pytest.raises(ValueError):
        gateway.create_bulk([{"fields": {}}] * (BULK_LIMIT + 1))


def test_fields_are_read_once_per_process(http: responses.RequestsMock) -> None:
    gateway = data_center(http)
    http.get(
        f"{DC_URL}/rest/api/2/field",
        json=[
            {
                "id": "customfield_10101",
                "name": "Epic Link",
                "schema": {"custom": "com.pyxis.greenhopper.jira:gh-epic-link"},
            },
            {"id": "summary", "name": "Summary", "schema": {"type": "string"}},
        ],
    )
    assert gateway.field_by_type("com.pyxis.greenhopper.jira:gh-epic-link") == "customfield_10101"
    assert gateway.field_names()["Epic Link"] == "customfield_10101"
    assert gateway.calls_to("GET /rest/api/2/field") == 1


def test_missing_users_cloud_asks_once_in_bulk(http: responses.RequestsMock) -> None:
    gateway = cloud(http)
    http.get(
        f"{URL}/rest/api/2/user/bulk",
        match=[
            responses.matchers.query_param_matcher({"maxResults": "200", "accountId": ["a", "b"]})
        ],
        json={"values": [{"accountId": "a"}], "isLast": True},
    )
    assert gateway.missing_users(["a", "b", "a"]) == ["b"]
    http.get(f"{URL}/rest/api/2/user/bulk", json={"values": [], "isLast": True})
    assert gateway.missing_users(["a", "b"]) == ["b"]  # "a" is remembered, "b" asked again


def test_missing_users_data_center_asks_each_username(http: responses.RequestsMock) -> None:
    gateway = data_center(http)
    http.get(f"{DC_URL}/rest/api/2/user?username=pm", json={"name": "pm"})
    http.get(f"{DC_URL}/rest/api/2/user?username=ghost", status=404, json={"errorMessages": ["no"]})
    assert gateway.missing_users(["pm", "ghost"]) == ["ghost"]


def test_missing_users_remembers_who_was_found_before_a_lookup_failed(
    http: responses.RequestsMock,
) -> None:
    gateway = data_center(http)
    http.get(f"{DC_URL}/rest/api/2/user?username=pm", json={"name": "pm"})
    http.get(f"{DC_URL}/rest/api/2/user?username=head", status=429, headers={"Retry-After": "1"})
    with pytest.raises(TransientGatewayError):
        gateway.missing_users(["pm", "head"])
    http.get(f"{DC_URL}/rest/api/2/user?username=head", json={"name": "head"})
    assert gateway.missing_users(["pm", "head"]) == []  # only "head" is asked again
    assert gateway.calls_to("GET /rest/api/2/user") == 3


def test_search_pages_cloud_with_next_page_token(http: responses.RequestsMock) -> None:
    gateway = cloud(http)
    http.post(
        f"{URL}/rest/api/2/search/jql",
        json={"issues": [{"key": "XD-2"}], "nextPageToken": "t1", "isLast": False},
    )
    http.post(f"{URL}/rest/api/2/search/jql", json={"issues": [{"key": "XD-3"}], "isLast": True})
    found = gateway.search_issues("parent = XD-1", properties=["crossdept.item"])
    assert [issue["key"] for issue in found] == ["XD-2", "XD-3"]
    assert json.loads(http.calls[-1].request.body)["nextPageToken"] == "t1"


def test_search_pages_data_center_with_start_at(http: responses.RequestsMock) -> None:
    gateway = data_center(http)
    http.post(f"{DC_URL}/rest/api/2/search", json={"issues": [{"key": "XD-2"}], "total": 2})
    http.post(f"{DC_URL}/rest/api/2/search", json={"issues": [{"key": "XD-3"}], "total": 2})
    found = gateway.search_issues("parent = XD-1")
    assert [issue["key"] for issue in found] == ["XD-2", "XD-3"]


def test_issue_property_round_trip_and_absent(http: responses.RequestsMock) -> None:
    gateway = cloud(http)
    http.put(f"{URL}/rest/api/2/issue/XD-1/properties/crossdept.tree", status=201)
    http.get(
        f"{URL}/rest/api/2/issue/XD-1/properties/crossdept.tree",
        json={"key": "crossdept.tree", "value": {"a": 1}},
    )
    http.get(
        f"{URL}/rest/api/2/issue/XD-2/properties/crossdept.tree",
        status=404,
        json={"errorMessages": []},
    )
    gateway.set_issue_property("XD-1", "crossdept.tree", {"a": 1})
    assert json.loads(http.calls[1].request.body) == {"a": 1}
    assert gateway.get_issue_property("XD-1", "crossdept.tree") == {"a": 1}
    assert gateway.get_issue_property("XD-2", "crossdept.tree") is None


def test_get_issue_asks_only_for_the_named_fields_and_properties(
    http: responses.RequestsMock,
) -> None:
    gateway = cloud(http)
    http.get(
        f"{URL}/rest/api/2/issue/XD-1",
        match=[
            responses.matchers.query_param_matcher(
                {"fields": "summary,duedate", "properties": "crossdept.tree"}
            )
        ],
        json={"key": "XD-1", "fields": {"summary": "x"}},
    )
    assert gateway.get_issue("XD-1", ["summary", "duedate"], ["crossdept.tree"])["key"] == "XD-1"
    assert gateway.calls_to("GET /rest/api/2/issue/{key}") == 1


def test_missing_users_falls_back_to_one_by_one_without_the_bulk_endpoint(
    http: responses.RequestsMock,
) -> None:
    gateway = cloud(http)
    http.get(
        f"{URL}/rest/api/2/user/bulk", status=404, json={"errorMessages": ["no such resource"]}
    )
    http.get(f"{URL}/rest/api/2/user?accountId=a", json={"accountId": "a"})
    http.get(f"{URL}/rest/api/2/user?accountId=b", status=404, json={"errorMessages": ["no"]})
    assert gateway.missing_users(["a", "b"]) == ["b"]


def test_read_issues_cloud_bulk_fetches_a_hundred_at_a_time(http: responses.RequestsMock) -> None:
    gateway = cloud(http)
    keys = [f"XD-{n}" for n in range(1, 151)]
    http.post(
        f"{URL}/rest/api/2/issue/bulkfetch",
        json={"issues": [{"key": "XD-1", "properties": {}}], "issueErrors": []},
    )
    http.post(f"{URL}/rest/api/2/issue/bulkfetch", json={"issues": [], "issueErrors": []})

    found = gateway.read_issues(keys, fields=["summary"], properties=["crossdept.item"])

    assert [issue["key"] for issue in found] == ["XD-1"]
    bodies = [json.loads(call.request.body) for call in http.calls[1:]]
    assert [len(body["issueIdsOrKeys"]) for body in bodies] == [100, 50]
    assert bodies[0]["properties"] == ["crossdept.item"] and bodies[0]["fields"] == ["summary"]


def test_read_issues_data_center_searches_keys_with_unknown_ones_as_warnings(
    http: responses.RequestsMock,
) -> None:
    gateway = data_center(http)
    http.post(
        f"{DC_URL}/rest/api/2/search",
        json={"issues": [{"id": "10002", "key": "XD-2"}], "total": 1, "warningMessages": ["…"]},
    )
    mark = {"request": "XD-1", "ref": "s1"}
    http.get(
        f"{DC_URL}/rest/api/2/issue/10002",
        json={"id": "10002", "key": "XD-2", "properties": {"crossdept.item": mark}},
    )

    found = gateway.read_issues(["XD-2", "XD-9"], properties=["crossdept.item"])

    assert found == [{"id": "10002", "key": "XD-2", "properties": {"crossdept.item": mark}}]
    body = json.loads(http.calls[1].request.body)
    assert body["jql"] == 'key in ("XD-2", "XD-9")'
    # DC's SearchRequestBean: validateQuery is a Boolean, and there is no `properties`.
    assert body["validateQuery"] is False
    assert "properties" not in body
    assert "properties=crossdept.item" in http.calls[2].request.url


def test_an_issue_deleted_between_the_search_and_its_read_is_left_out(
    http: responses.RequestsMock,
) -> None:
    gateway = data_center(http)
    http.post(
        f"{DC_URL}/rest/api/2/search",
        json={"issues": [{"id": "10002", "key": "XD-2"}, {"id": "10003", "key": "XD-3"}]},
    )
    http.get(f"{DC_URL}/rest/api/2/issue/10002", status=404, json={"errorMessages": ["gone"]})
    http.get(f"{DC_URL}/rest/api/2/issue/10003", json={"id": "10003", "key": "XD-3"})

    found = gateway.read_issues(["XD-2", "XD-3"], properties=["crossdept.item"])

    assert [issue["key"] for issue in found] == ["XD-3"]


def test_data_center_search_takes_marks_from_the_book_not_from_jira(
    http: responses.RequestsMock, sqlite_store: Store
) -> None:
    gateway = data_center(http)
    sqlite_store.create_all([issue_marks])
    gateway.marks = MarkBook(sqlite_store)
    gateway.remembered = frozenset({"crossdept.item"})
    http.post(
        f"{DC_URL}/rest/api/2/issue/bulk",
        status=201,
        json={"issues": [{"id": "10005", "key": "XD-5"}], "errors": []},
    )
    gateway.create_issues([new_issue("subtask")])
    http.post(
        f"{DC_URL}/rest/api/2/search",
        json={
            "issues": [{"id": "10005", "key": "XD-5"}, {"id": "10006", "key": "XD-6"}],
            "total": 2,
        },
    )
    http.get(f"{DC_URL}/rest/api/2/issue/10006", json={"id": "10006", "key": "XD-6"})

    first = gateway.search_issues("project = XD", properties=["crossdept.item"])
    second = gateway.search_issues("project = XD", properties=["crossdept.item"])

    mark = {"request": "XD-1", "ref": "s1"}
    assert [issue.get("properties") for issue in first] == [{"crossdept.item": mark}, {}]
    assert second == first
    # XD-5 was created by crossdept, XD-6 read once (it has no mark); the second search reads none.
    assert gateway.calls_to("GET /rest/api/2/issue/{key}") == 1
    assert gateway.calls_to("POST /rest/api/2/search") == 2


def new_issue(placement: str, parent: str = "XD-2") -> NewIssue:
    return NewIssue(
        project="XD",
        issue_type_id="10003",
        summary="阶段1",
        description="d",
        due=date(2026, 3, 5),
        assignee="alice",
        parent=parent,
        placement=placement,  # type: ignore[arg-type]
        properties={"crossdept.item": {"request": "XD-1", "ref": "s1"}},
    )


def test_payloads_place_issues_as_cloud_and_data_center_want() -> None:
    sub = issue_payload(new_issue("subtask"), cloud=True)
    assert sub["fields"]["parent"] == {"key": "XD-2"}
    assert sub["fields"]["assignee"] == {"accountId": "alice"}
    assert sub["fields"]["duedate"] == "2026-03-05"
    assert sub["properties"] == [
        {"key": "crossdept.item", "value": {"request": "XD-1", "ref": "s1"}}
    ]

    cloud_child = issue_payload(new_issue("epic_child"), cloud=True)
    assert cloud_child["fields"]["parent"] == {"key": "XD-2"}
    dc_child = issue_payload(
        new_issue("epic_child"), cloud=False, epic_link_field="customfield_10101"
    )
    assert dc_child["fields"]["customfield_10101"] == "XD-2" and "parent" not in dc_child["fields"]
    assert dc_child["fields"]["assignee"] == {"name": "alice"}
    with pytest.raises(ValueError, match="Epic Link"):
        issue_payload(new_issue("epic_child"), cloud=False)

    epic = issue_payload(
        new_issue("linked_epic", "XD-1"), cloud=False, epic_name_field="customfield_10102"
    )
    assert epic["fields"]["customfield_10102"] == "阶段1"
    assert epic["update"]["issuelinks"][0]["add"]["outwardIssue"] == {"key": "XD-1"}
    assert "parent" not in epic["fields"]


def test_children_are_found_by_parent_epic_link_or_link(http: responses.RequestsMock) -> None:
    gateway = data_center(http)
    http.get(f"{DC_URL}/rest/api/2/field", json=[EPIC_LINK])
    for _ in range(3):
        http.post(f"{DC_URL}/rest/api/2/search", json={"issues": [], "total": 0})

    gateway.search(Children(("XD-2", "XD-3"), "subtask"), properties=["crossdept.item"])
    gateway.search(Children(("XD-1",), "epic_child"))
    gateway.search(Children(("XD-1",), "linked_epic"))

    queries = [
        json.loads(call.request.body)["jql"] for call in http.calls if call.request.method == "POST"
    ]
    assert queries == [
        'parent in ("XD-2", "XD-3")',
        'cf[10101] in ("XD-1")',
        'issue in linkedIssues("XD-1")',
    ]


def test_the_sweep_search_is_one_paged_jql_query_with_the_mark(
    http: responses.RequestsMock,
) -> None:
    gateway = cloud(http)
    http.post(f"{URL}/rest/api/2/search/jql", json={"issues": [], "isLast": True})
    http.post(f"{URL}/rest/api/2/search/jql", json={"issues": [], "isLast": True})

    gateway.search(
        Items(("XD",), ("Task", "Sub-task"), open_due_by=date(2026, 3, 12), or_label="延期")
    )
    gateway.search(Items(("XD",), ("Task",), open_due_by=date(2026, 3, 12), or_status="延期"))

    queries = [json.loads(call.request.body) for call in http.calls[1:]]
    assert queries[0]["jql"] == (
        'project in ("XD") AND issuetype in ("Task", "Sub-task") AND '
        '((statusCategory != Done AND duedate <= "2026-03-12") OR labels = "延期")'
    )
    assert queries[1]["jql"].endswith('OR status = "延期")')
    assert queries[0]["maxResults"] == 100


def test_keys_go_into_jql_as_quoted_literals_that_no_value_can_end(
    http: responses.RequestsMock,
) -> None:
    gateway = cloud(http)
    http.post(f"{URL}/rest/api/2/search/jql", json={"issues": [], "isLast": True})
    http.post(f"{URL}/rest/api/2/search/jql", json={"issues": [], "isLast": True})
    forged = 'XD-1") OR project = "HR'

    gateway.search(Children((forged, "XD-2"), "subtask"))
    gateway.search(Children((forged,), "linked_epic"))

    queries = [json.loads(call.request.body)["jql"] for call in http.calls[1:]]
    assert queries == [
        'parent in ("XD-1\\") OR project = \\"HR", "XD-2")',
        'issue in linkedIssues("XD-1\\") OR project = \\"HR")',
    ]
    url = gateway.tree_url(["XD-2", forged])
    assert "key+in+%28%22XD-2%22%2C+%22XD-1%5C%22%29" in url.replace("%20", "+")
