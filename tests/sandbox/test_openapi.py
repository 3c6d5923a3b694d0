"""Request checking against the official specs: what crossdept's clients send passes, mistakes don't."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
import responses
from jira import JIRA

from sandbox.openapi import check_request, to_json_schema

JIRA_URL = "https://example.atlassian.net"
ACCOUNT = "557058:00000000-0000-4000-8000-000000000001"
ADF = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": []}]}


class CannedJira:
    """Minimal answers that keep the jira client going, recording each request and its check."""

    def __init__(self, deployment: str) -> None:
        self.deployment = deployment
        self.calls: list[tuple[str, str, list[str]]] = []

    def callback(self, prepared: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        url = urlsplit(prepared.url or "")
        path = unquote(url.path)
        query = parse_qs(url.query, keep_blank_values=True)
        body = json.loads(prepared.body) if prepared.body else None
        method = prepared.method or "GET"
        self.calls.append((method, path, check_request("jira", method, path, query, body)))
        status, answer = self.answer(method, path, body)
        text = "" if answer is None else json.dumps(answer)
        return status, {"Content-Type": "application/json"}, text

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        user = {
            "accountId": ACCOUNT,
            "name": "marketing.head",
            "displayName": "Example Marketing Head",
            "self": f"{JIRA_URL}/rest/api/2/user?accountId={ACCOUNT}",
        }
        issue = {"id": "10001", "key": "XD-1", "self": f"{JIRA_URL}/rest/api/2/issue/10001"}
        if path.endswith("/serverInfo"):
            return 200, {"deploymentType": self.deployment, "versionNumbers": [9, 12, 0]}
        if path.endswith("/user/search"):
            return 200, [user]
        if path.endswith("/transitions") and method == "GET":
            return 200, {"transitions": [{"id": "21", "name": "进行中"}]}
        if path.endswith("/transitions") or path.endswith("/assignee") or "/properties/" in path:
            return 204, None
        if path.endswith("/issue/bulk"):
            return 201, {"issues": [issue] * len(body["issueUpdates"]), "errors": []}
        if path.endswith("/search/jql") or path.endswith("/search"):
            return 200, {"issues": [], "isLast": True, "startAt": 0, "maxResults": 50, "total": 0}
        if path.endswith("/comment"):
            return 201, {"id": "100", "body": "x", "self": f"{issue['self']}/comment/100"}
        if path.endswith("/issue") and method == "POST":
            return 201, issue
        if "/rest/agile/" in path:
            return 204, None
        return 200, {**issue, "fields": {"summary": "s"}}


@pytest.fixture(params=["Cloud", "Server"])
def canned(request: pytest.FixtureRequest) -> Iterator[CannedJira]:
    canned = CannedJira(request.param)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PUT", "DELETE"):
            mock.add_callback(method, re.compile(re.escape(JIRA_URL) + r"/.*"), canned.callback)
        yield canned


def test_what_the_jira_client_sends_passes(canned: CannedJira) -> None:
    jira = JIRA(JIRA_URL, basic_auth=("crossdept@example.com", "token"))
    fields = {
        "project": {"key": "XD"},
        "issuetype": {"id": "10002"},
        "summary": "对接需求",
        "description": "h1. 背景\n[~accountid:557058:x] please *review*",
        "duedate": "2030-01-09",
        "customfield_10050": {"value": "市场部"},
        "customfield_10051": [{"value": "技术部"}],
        "customfield_10061": [{"accountId": ACCOUNT}],
        "parent": {"key": "XD-1"},
        "labels": ["crossdept"],
    }

    jira.create_issue(fields=fields, prefetch=False)
    jira.create_issues([fields, {**fields, "summary": "second"}], prefetch=False)
    jira.add_comment("XD-1", "Reminder: [~accountid:557058:x] please answer")
    jira.transition_issue("XD-1", "21")
    jira.transition_issue("XD-1", "进行中", comment="started")
    jira.assign_issue("XD-1", "marketing.head")
    jira.add_issue_property("XD-1", "crossdept", {"stage": "kickoff", "version": 1})
    list(jira.search_issues('project = XD AND status = "未开始"', maxResults=20))
    jira.issue("XD-1", fields="summary,status")
    jira._session.post(
        f"{JIRA_URL}/rest/agile/1.0/epic/XD-1/issue", data=json.dumps({"issues": ["XD-2"]})
    )

    sent = {(method, re.sub(r"XD-\d+", "KEY", path)) for method, path, _ in canned.calls}
    assert ("POST", "/rest/api/2/issue/bulk") in sent
    assert ("PUT", "/rest/api/latest/issue/KEY/assignee") in sent
    refused = [call for call in canned.calls if call[2]]
    assert refused == []


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "reason"),
    [
        pytest.param(
            "GET",
            "/rest/api/2/foo",
            {},
            None,
            "no such operation in the Jira REST API: GET /rest/api/2/foo",
            id="unknown path",
        ),
        pytest.param(
            "DELETE",
            "/rest/api/2/issue/XD-1/transitions",
            {},
            None,
            "method not allowed in the Jira REST API: DELETE /rest/api/2/issue/XD-1/transitions "
            "(allowed: GET, POST)",
            id="wrong method",
        ),
        pytest.param(
            "POST",
            "/rest/api/2/issue",
            {},
            None,
            "POST /rest/api/2/issue: a request body is required",
            id="missing body",
        ),
        pytest.param(
            "POST",
            "/rest/api/2/issueLink",
            {},
            {"type": {"name": "Blocks"}, "inwardIssue": {"key": "XD-1"}},
            "POST /rest/api/2/issueLink: body: 'outwardIssue' is a required property",
            id="missing required field",
        ),
        pytest.param(
            "POST",
            "/rest/api/2/issue",
            {},
            {"fields": ["summary"]},
            "POST /rest/api/2/issue: body.fields: ['summary'] is not of type 'object'",
            id="wrong type",
        ),
        pytest.param(
            "POST",
            "/rest/api/2/issue/bulk",
            {},
            {"issueUpdates": {"fields": {}}},
            "POST /rest/api/2/issue/bulk: body.issueUpdates: {'fields': {}} is not of type 'array'",
            id="bulk create with an object",
        ),
        pytest.param(
            "PUT",
            "/rest/api/2/issue/XD-1/properties/crossdept",
            {},
            None,
            "PUT /rest/api/2/issue/XD-1/properties/crossdept: a request body is required",
            id="property without a value",
        ),
        pytest.param(
            "PUT",
            "/rest/api/2/issue/XD-1/assignee",
            {},
            {"accountId": ACCOUNT, "user": "x"},
            "PUT /rest/api/2/issue/XD-1/assignee: body: Additional properties are not allowed "
            "('user' was unexpected)",
            id="unknown property where the schema forbids them",
        ),
        pytest.param(
            "GET",
            "/rest/api/2/user/picker",
            {},
            None,
            "GET /rest/api/2/user/picker: missing required query parameter 'query'",
            id="missing required query parameter",
        ),
        pytest.param(
            "GET",
            "/rest/api/2/search/jql",
            {"jql": ["project = XD"], "maxResults": ["all"]},
            None,
            "GET /rest/api/2/search/jql: query parameter 'maxResults': 'all' is not of type integer",
            id="query parameter of the wrong type",
        ),
        pytest.param(
            "POST",
            "/rest/api/3/issue/XD-1/comment",
            {},
            {"body": "plain text"},
            "POST /rest/api/3/issue/XD-1/comment: body.body: API v3 takes an Atlassian Document "
            'Format document here ({"type": "doc", "version": 1, "content": [...]}), not a string',
            id="wiki markup sent to v3",
        ),
        pytest.param(
            "PUT",
            "/rest/api/latest/issue/XD-1",
            {},
            {"fields": {"description": ADF}},
            "PUT /rest/api/latest/issue/XD-1: body.fields.description: API /rest/api/latest takes a "
            "wiki-markup string here, not an ADF document",
            id="ADF sent to a wiki-markup API",
        ),
        pytest.param(
            "POST",
            "/rest/agile/1.0/epic/XD-1/issue",
            {},
            {"issue": "XD-2"},
            "POST /rest/agile/1.0/epic/XD-1/issue: body: 'issues' is a required property",
            id="allow-listed Jira Software operation, malformed",
        ),
    ],
)
def test_jira_mistakes_are_flagged_with_the_reason(
    method: str, path: str, query: dict[str, list[str]], body: Any, reason: str
) -> None:
    assert reason in check_request("jira", method, path, query, body)


def test_v3_accepts_adf_and_v2_accepts_wiki_markup_in_the_same_positions() -> None:
    transition = {
        "transition": {"id": "21"},
        "update": {"comment": [{"add": {"body": ADF}}]},
        "fields": {"description": ADF},
    }
    wiki = {
        "transition": {"id": 21},
        "update": {"comment": [{"add": {"body": "done"}}]},
        "fields": {"description": "h1. done"},
    }

    assert check_request("jira", "POST", "/rest/api/3/issue/XD-1/transitions", {}, transition) == []
    assert check_request("jira", "POST", "/rest/api/2/issue/XD-1/transitions", {}, wiki) == []
    assert check_request("jira", "POST", "/rest/api/2/issue/XD-1/transitions", {}, transition)
    assert check_request("jira", "POST", "/rest/api/3/issue/XD-1/transitions", {}, wiki)


def test_issue_and_search_reads_pass() -> None:
    assert (
        check_request("jira", "GET", "/rest/api/2/issue/XD-1", {"expand": ["changelog"]}, None)
        == []
    )
    assert check_request("jira", "GET", "/rest/api/2/search", {"jql": ["project = XD"]}, None) == []
    assert (
        check_request("jira", "POST", "/rest/api/3/issue/XD-1/notify", {}, {"subject": "s"}) == []
    )


def test_confluence_v1_client_shapes_pass_on_cloud_and_data_center_paths() -> None:
    create = {
        "type": "page",
        "title": "会议纪要",
        "status": "current",
        "space": {"key": "XD"},
        "body": {"storage": {"value": "<p>x</p>", "representation": "storage"}},
        "metadata": {"properties": {"content-appearance-published": {"value": "fixed-width"}}},
        "ancestors": [{"type": "page", "id": "65538"}],
    }
    update = {
        "id": "65539",
        "type": "page",
        "title": "会议纪要",
        "version": {"number": 2, "minorEdit": False},
        "body": {"storage": {"value": "<p>y</p>", "representation": "storage"}},
    }
    cql = {"cql": ['parent=65538 AND space="XD"']}

    for root in ("/wiki/rest/api", "/rest/api"):
        assert check_request("confluence", "POST", f"{root}/content/", {}, create) == []
        assert (
            check_request(
                "confluence", "PUT", f"{root}/content/65539", {"status": ["current"]}, update
            )
            == []
        )
        assert check_request("confluence", "GET", f"{root}/content/search", cql, {}) == []
        assert (
            check_request("confluence", "GET", f"{root}/content/65538/child/page", {}, None) == []
        )
        assert (
            check_request(
                "confluence", "GET", f"{root}/content", {"spaceKey": ["XD"], "title": ["t"]}, None
            )
            == []
        )


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "reason"),
    [
        pytest.param(
            "POST",
            "/wiki/rest/api/content",
            {},
            {"title": "t", "space": {"key": "XD"}},
            "POST /wiki/rest/api/content: body: 'type' is a required property",
            id="v1 missing type",
        ),
        pytest.param(
            "PUT",
            "/wiki/rest/api/content/1",
            {},
            {"type": "page", "title": "t", "version": {"number": "two"}},
            "PUT /wiki/rest/api/content/1: body.version.number: 'two' is not of type 'integer'",
            id="v1 version number of the wrong type",
        ),
        pytest.param(
            "PATCH",
            "/wiki/rest/api/content/1",
            {},
            {},
            "method not allowed in the Confluence REST API v1: PATCH /wiki/rest/api/content/1 "
            "(allowed: DELETE, GET, PUT)",
            id="v1 wrong method",
        ),
        pytest.param(
            "GET",
            "/wiki/rest/api/content/search",
            {},
            None,
            "GET /wiki/rest/api/content/search: missing required query parameter 'cql'",
            id="v1 missing cql",
        ),
        pytest.param(
            "GET",
            "/wiki/rest/api/page/1",
            {},
            None,
            "no such operation in the Confluence REST API v1: GET /wiki/rest/api/page/1",
            id="v1 unknown path",
        ),
        pytest.param(
            "POST",
            "/wiki/api/v2/pages",
            {},
            {"title": "t"},
            "POST /wiki/api/v2/pages: body: 'spaceId' is a required property",
            id="v2 missing spaceId",
        ),
        pytest.param(
            "GET",
            "/wiki/api/v2/pages/XD-home",
            {},
            None,
            "GET /wiki/api/v2/pages/XD-home: path parameter 'id': 'XD-home' is not of type integer",
            id="v2 page id that is not a number",
        ),
        pytest.param(
            "GET",
            "/wiki/api/v2/pages/1",
            {"body-format": ["html"]},
            None,
            "GET /wiki/api/v2/pages/1: query parameter 'body-format': 'html' is not one of storage, "
            "atlas_doc_format, view, export_view, anonymous_export_view, styled_view, editor",
            id="v2 query enum",
        ),
        pytest.param(
            "PUT",
            "/wiki/api/v2/pages/1",
            {},
            {"id": "1", "status": "current", "title": "t", "body": {}},
            "PUT /wiki/api/v2/pages/1: body: 'version' is a required property",
            id="v2 update without version",
        ),
    ],
)
def test_confluence_mistakes_are_flagged_with_the_reason(
    method: str, path: str, query: dict[str, list[str]], body: Any, reason: str
) -> None:
    assert reason in check_request("confluence", method, path, query, body)


def test_confluence_v2_page_create_passes() -> None:
    body = {
        "spaceId": "98305",
        "status": "current",
        "title": "t",
        "parentId": "65538",
        "body": {"representation": "storage", "value": "<p/>"},
    }

    assert (
        check_request("confluence", "POST", "/wiki/api/v2/pages", {"root-level": ["false"]}, body)
        == []
    )
    assert (
        check_request("confluence", "GET", "/wiki/api/v2/spaces", {"keys": ["XD,OPS"]}, None) == []
    )
    assert check_request("confluence", "GET", "/wiki/api/v2/pages/65539/children", {}, None) == []


def test_nullable_becomes_a_null_type_and_read_only_fields_are_not_required() -> None:
    schema = {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "name": {"type": "string", "nullable": True},
            "parent": {"$ref": "#/components/schemas/Parent"},
            "either": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
        },
    }

    converted = to_json_schema(schema, "urn:test")

    assert converted["required"] == ["name"]
    assert converted["properties"]["name"]["type"] == ["string", "null"]
    assert converted["properties"]["parent"] == {"$ref": "urn:test#/components/schemas/Parent"}
    assert "anyOf" in converted["properties"]["either"]


def test_checking_is_fast_enough_for_tests() -> None:
    started = time.perf_counter()
    for _ in range(200):
        check_request("jira", "POST", "/rest/api/2/issue", {}, {"fields": {"summary": "s"}})
        check_request(
            "confluence", "GET", "/wiki/rest/api/content/1", {"expand": ["version"]}, None
        )
    assert time.perf_counter() - started < 2.0
