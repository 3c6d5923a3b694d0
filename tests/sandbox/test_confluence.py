"""The Confluence fake, driven through the real atlassian-python-api client as crossdept uses it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
import responses
from atlassian import Confluence

from sandbox.confluence import ConfluenceFake
from sandbox.http import SandboxRequest, SandboxResponse
from sandbox.openapi import check_request

SITE = "https://example.atlassian.net"
CROSSDEPT = "557058:00000000-0000-4000-8000-0000000000aa"
USERS = {
    "crossdept": {"accountId": CROSSDEPT, "username": "crossdept", "displayName": "crossdept"},
    "pm": {
        "accountId": "557058:00000000-0000-4000-8000-000000000009",
        "username": "pm",
        "displayName": "Example Project Manager",
    },
}
SPACES = [{"key": "XD", "name": "跨部门协作", "id": "98305"}]
MINUTES_PARENT = "跨部门协作会议纪要"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.moment = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment


class Site:
    """The fake behind `responses`, remembering every request and what the spec check said."""

    def __init__(self, fake: ConfluenceFake) -> None:
        self.fake = fake
        self.calls: list[tuple[str, str, list[str]]] = []

    def callback(self, prepared: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(prepared.url or "")
        query = parse_qs(url.query, keep_blank_values=True)
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        request = SandboxRequest(
            method=prepared.method or "GET",
            path=unquote(url.path),
            query=query,
            headers={"Host": url.netloc, **dict(prepared.headers)},
            body=body,
            user=CROSSDEPT,
        )
        reasons = check_request("confluence", request.method, request.path, query, request.json())
        self.calls.append((request.method, request.path, reasons))
        response = self.fake.handle(request)
        headers = {"Content-Type": "application/json", **response.headers}
        return response.status, headers, response.content()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> ConfluenceFake:
    return ConfluenceFake(SPACES, clock, USERS)


@pytest.fixture
def site(fake: ConfluenceFake) -> Iterator[Site]:
    site = Site(fake)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PUT", "DELETE"):
            mock.add_callback(method, re.compile(re.escape(SITE) + r"/.*"), site.callback)
        yield site
    refused = [(method, path, reasons) for method, path, reasons in site.calls if reasons]
    assert refused == [], "the client sent requests the real Confluence would refuse"


@pytest.fixture
def confluence(site: Site) -> Any:
    # The 5.x client only offers create_page/update_or_create on its Server implementation, which
    # speaks v1 under /wiki on Cloud.
    return Confluence(url=f"{SITE}/wiki", cloud=False, username="crossdept", password="token")


def test_create_page_returns_confluence_shape(confluence: Any, site: Site) -> None:
    page = confluence.create_page("XD", "Kick-off", "<p>Agenda</p>")

    assert isinstance(page["id"], str) and page["id"].isdigit()
    assert page["title"] == "Kick-off"
    assert page["space"]["key"] == "XD"
    assert page["version"]["number"] == 1
    assert page["version"]["by"]["accountId"] == CROSSDEPT
    assert page["body"]["storage"]["value"] == "<p>Agenda</p>"
    assert page["_links"]["base"] == f"{SITE}/wiki"
    assert page["_links"]["webui"].startswith(f"/spaces/XD/pages/{page['id']}/")
    assert [(m, p) for m, p, _ in site.calls] == [("POST", "/wiki/rest/api/content")]


def test_create_page_keeps_the_clients_content_appearance_properties(
    confluence: Any, fake: ConfluenceFake
) -> None:
    confluence.create_page("XD", "Kick-off", "<p>Agenda</p>", full_width=True)

    stored = fake.find_page("XD", "Kick-off")
    assert stored is not None
    assert stored["properties"]["content-appearance-published"] == "full-width"
    page = confluence.get_page_by_id(stored["id"], expand="metadata.properties")
    assert page["metadata"]["properties"]["content-appearance-draft"]["value"] == "full-width"


def test_create_under_a_parent_sets_ancestors(confluence: Any) -> None:
    parent = confluence.create_page("XD", MINUTES_PARENT, "<p>Minutes</p>")
    child = confluence.create_page("XD", "2030-01-02 会议", "<p>x</p>", parent_id=parent["id"])

    page = confluence.get_page_by_id(child["id"], expand="ancestors,space")
    assert [a["title"] for a in page["ancestors"]][-1] == MINUTES_PARENT
    assert page["ancestors"][-1]["id"] == parent["id"]


def test_duplicate_title_in_a_space_is_a_400_even_with_a_lowercase_space_key(
    confluence: Any,
) -> None:
    confluence.create_page("XD", "Kick-off", "<p>one</p>")

    with pytest.raises(requests.HTTPError) as refused:
        confluence.create_page("xd", "Kick-off", "<p>two</p>")

    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["message"] == (
        "A page with this title already exists: A page already exists with the title Kick-off "
        "in the space with key XD"
    )


def test_get_page_by_title_with_expand(confluence: Any) -> None:
    created = confluence.create_page("XD", "Kick-off", "<p>Agenda</p>")

    found = confluence.get_page_by_title("XD", "Kick-off", expand="body.storage,version")

    assert [r["id"] for r in found["results"]] == [created["id"]]
    assert found["results"][0]["body"]["storage"]["value"] == "<p>Agenda</p>"
    assert found["results"][0]["version"]["number"] == 1
    assert confluence.page_exists("XD", "Kick-off") is True
    assert confluence.page_exists("XD", "Nothing here") is False
    assert confluence.get_page_id("XD", "Kick-off") == created["id"]


def test_update_page_bumps_the_version(confluence: Any, clock: Clock) -> None:
    created = confluence.create_page("XD", "Kick-off", "<p>v1</p>")
    clock.moment += timedelta(hours=1)

    updated = confluence.update_page(created["id"], "Kick-off", "<p>v2</p>")

    assert updated["version"]["number"] == 2
    assert updated["version"]["when"] == "2030-01-02T10:00:00.000Z"
    page = confluence.get_page_by_id(created["id"], expand="body.storage,version")
    assert page["body"]["storage"]["value"] == "<p>v2</p>"


def test_update_with_a_stale_version_is_a_409(confluence: Any) -> None:
    created = confluence.create_page("XD", "Kick-off", "<p>v1</p>")
    confluence.update_page(created["id"], "Kick-off", "<p>v2</p>")

    stale = {
        "id": created["id"],
        "type": "page",
        "title": "Kick-off",
        "version": {"number": 2},
        "body": {"storage": {"value": "<p>lost</p>", "representation": "storage"}},
    }
    with pytest.raises(requests.HTTPError) as refused:
        confluence.put(f"rest/api/content/{created['id']}", data=stale)

    assert refused.value.response.status_code == 409
    assert "Current version is: 2" in refused.value.response.json()["message"]


def test_update_or_create_creates_then_updates_under_the_parent(
    confluence: Any, fake: ConfluenceFake
) -> None:
    parent = confluence.create_page("XD", MINUTES_PARENT, "<p>Minutes</p>")

    first = confluence.update_or_create(
        parent_id=parent["id"], title="2030-01-02 会议", body="<p>draft</p>", space="XD"
    )
    second = confluence.update_or_create(
        parent_id=parent["id"], title="2030-01-02 会议", body="<p>final</p>", space="XD"
    )

    assert second["id"] == first["id"]
    stored = fake.find_page("XD", "2030-01-02 会议")
    assert stored is not None
    assert (stored["body"], stored["version"], stored["parentId"]) == (
        "<p>final</p>",
        2,
        parent["id"],
    )


def test_update_or_create_without_parent_finds_the_page_by_title(confluence: Any) -> None:
    first = confluence.update_or_create(title="Notes", body="<p>a</p>", space="XD")
    second = confluence.update_or_create(title="Notes", body="<p>b</p>", space="XD")

    assert second["id"] == first["id"]
    assert second["version"]["number"] == 2


def test_children_of_a_page(confluence: Any) -> None:
    parent = confluence.create_page("XD", MINUTES_PARENT, "<p>Minutes</p>")
    for title in ("A", "B", "C"):
        confluence.create_page("XD", title, "<p/>", parent_id=parent["id"])
    confluence.create_page("XD", "Elsewhere", "<p/>")

    children = list(confluence.get_page_child_by_type(parent["id"], type="page"))
    paged = confluence.get_page_child_by_type(parent["id"], type="page", start=1, limit=1)

    assert [c["title"] for c in children] == ["A", "B", "C"]
    assert [c["title"] for c in paged] == ["B"]


def test_children_follow_next_links_across_pages(confluence: Any, fake: ConfluenceFake) -> None:
    parent_id = fake.add_page("XD", MINUTES_PARENT)
    for number in range(30):
        fake.add_page("XD", f"Meeting {number:02}", "<p/>", parent_id=parent_id)

    children = list(confluence.get_page_child_by_type(parent_id, type="page"))

    assert len(children) == 30


def test_invalid_storage_xml_is_a_400(confluence: Any) -> None:
    with pytest.raises(requests.HTTPError) as refused:
        confluence.create_page("XD", "Broken", "<p>unclosed <b>bold</p>")

    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["message"].startswith(
        "Error parsing xhtml: mismatched tag"
    )


def test_storage_with_macros_mentions_and_html_entities_is_accepted(confluence: Any) -> None:
    body = (
        '<p>Owner:&nbsp;<ac:link><ri:user ri:account-id="557058:x"/></ac:link></p>'
        "<ac:task-list><ac:task><ac:task-status>incomplete</ac:task-status>"
        '<ac:task-body>Draft <time datetime="2030-01-09"/></ac:task-body></ac:task></ac:task-list>'
        '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">XD-1</ac:parameter>'
        "</ac:structured-macro><p><![CDATA[<raw>]]></p>"
    )

    page = confluence.create_page("XD", "Rich", body)

    assert page["body"]["storage"]["value"] == body


def test_cql_forms_beyond_the_clients_are_a_clear_400(confluence: Any) -> None:
    with pytest.raises(requests.HTTPError) as refused:
        confluence.get("rest/api/content/search", params={"cql": 'text ~ "minutes"'})

    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["message"] == 'Could not parse cql : text ~ "minutes"'


def test_cql_title_and_type(confluence: Any) -> None:
    created = confluence.create_page("XD", 'Say "hi"', "<p/>")

    found = confluence.get(
        "rest/api/content/search", params={"cql": 'type=page AND title="Say \\"hi\\"" AND space=xd'}
    )

    assert [r["id"] for r in found["results"]] == [created["id"]]


def test_space_lookup_is_case_insensitive(confluence: Any) -> None:
    assert confluence.get_space("xd")["key"] == "XD"


def test_unknown_page_is_a_404_in_confluence_error_shape(fake: ConfluenceFake) -> None:
    response = fake.handle(SandboxRequest("GET", "/wiki/rest/api/content/1", user=CROSSDEPT))

    assert response.status == 404
    assert response.body["statusCode"] == 404
    assert "ContentId{id=1}" in response.body["message"]


def test_unauthenticated_requests_are_refused(fake: ConfluenceFake) -> None:
    response = fake.handle(SandboxRequest("GET", "/wiki/rest/api/space/XD"))

    assert response.status == 401


def test_data_center_paths_without_wiki(fake: ConfluenceFake) -> None:
    created = fake.handle(
        SandboxRequest(
            "POST",
            "/rest/api/content",
            body=b'{"type": "page", "title": "DC", "space": {"key": "XD"},'
            b' "body": {"storage": {"value": "<p/>", "representation": "storage"}}}',
            user="pm",
        )
    )

    assert created.status == 200
    assert created.body["_links"]["context"] == ""
    assert created.body["version"]["by"]["username"] == "pm"


# ---- v2 (Cloud only) ------------------------------------------------------------------------


@pytest.fixture
def v2(site: Site) -> requests.Session:
    session = requests.Session()
    session.auth = ("crossdept", "token")
    return session


def test_v2_create_find_update_and_children(v2: requests.Session, fake: ConfluenceFake) -> None:
    space = v2.get(f"{SITE}/wiki/api/v2/spaces", params={"keys": "XD"}).json()["results"][0]
    assert (space["id"], space["key"]) == ("98305", "XD")

    created = v2.post(
        f"{SITE}/wiki/api/v2/pages",
        json={
            "spaceId": space["id"],
            "status": "current",
            "title": MINUTES_PARENT,
            "body": {"representation": "storage", "value": "<p>Minutes</p>"},
        },
    )
    assert created.status_code == 200
    page = created.json()
    assert page["parentId"] == space["homepageId"]  # no parentId: under the space homepage
    assert page["version"]["number"] == 1 and page["version"]["authorId"] == CROSSDEPT

    child = v2.post(
        f"{SITE}/wiki/api/v2/pages",
        json={
            "spaceId": "98305",
            "title": "Meeting",
            "parentId": page["id"],
            "body": {"representation": "storage", "value": "<p/>"},
        },
    ).json()

    found = v2.get(
        f"{SITE}/wiki/api/v2/pages", params={"title": "Meeting", "space-id": "98305"}
    ).json()
    assert [p["id"] for p in found["results"]] == [child["id"]]

    plain = v2.get(f"{SITE}/wiki/api/v2/pages/{page['id']}").json()
    with_body = v2.get(
        f"{SITE}/wiki/api/v2/pages/{page['id']}", params={"body-format": "storage"}
    ).json()
    assert plain["body"] == {}
    assert with_body["body"]["storage"]["value"] == "<p>Minutes</p>"

    update = {
        "id": page["id"],
        "status": "current",
        "title": MINUTES_PARENT,
        "body": {"representation": "storage", "value": "<p>v2</p>"},
        "version": {"number": 2},
    }
    assert v2.put(f"{SITE}/wiki/api/v2/pages/{page['id']}", json=update).status_code == 200
    stale = v2.put(f"{SITE}/wiki/api/v2/pages/{page['id']}", json=update)
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["code"] == "CONFLICT"

    children = v2.get(f"{SITE}/wiki/api/v2/pages/{page['id']}/children").json()
    assert [c["title"] for c in children["results"]] == ["Meeting"]


def test_v2_duplicate_title_and_bad_xml_use_the_v2_error_shape(v2: requests.Session) -> None:
    page = {
        "spaceId": "98305",
        "title": "Once",
        "body": {"representation": "storage", "value": "<p/>"},
    }
    assert v2.post(f"{SITE}/wiki/api/v2/pages", json=page).status_code == 200

    duplicate = v2.post(f"{SITE}/wiki/api/v2/pages", json=page)
    broken = v2.post(
        f"{SITE}/wiki/api/v2/pages",
        json={**page, "title": "Twice", "body": {"representation": "storage", "value": "<p>"}},
    )

    assert duplicate.status_code == 400
    assert duplicate.json()["errors"][0]["title"].startswith(
        "A page with this title already exists"
    )
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["status"] == 400


def test_the_permission_check_says_who_may_edit_and_data_center_has_none(clock: Clock) -> None:
    fake = ConfluenceFake([dict(SPACES[0], read_only=["pm"])], clock, USERS)
    home = fake.handle(SandboxRequest("GET", "/wiki/rest/api/space/XD", user=CROSSDEPT))
    page = home.body["_expandable"]["homepage"].rsplit("/", 1)[-1]

    def check(account: str, operation: str, path: str = "/wiki/rest/api") -> SandboxResponse:
        body = {"subject": {"type": "user", "identifier": account}, "operation": operation}
        return fake.handle(
            SandboxRequest(
                "POST",
                f"{path}/content/{page}/permission/check",
                body=json.dumps(body).encode(),
                user=CROSSDEPT,
            )
        )

    assert check(CROSSDEPT, "update").body == {"hasPermission": True, "errors": []}
    pm = USERS["pm"]["accountId"]
    assert check(pm, "update").body["hasPermission"] is False
    assert check(pm, "read").body["hasPermission"] is True
    assert check(CROSSDEPT, "update", path="/rest/api").status == 404


GROUPS = {"市场部": frozenset({"pm"}), "技术部": frozenset()}
PM = USERS["pm"]["accountId"]


def call(fake: ConfluenceFake, method: str, path: str, user: str, body: Any = None) -> Any:
    """One request to the fake as `user` (an account id), on Cloud's paths."""
    raw = json.dumps(body).encode() if body is not None else b""
    request = SandboxRequest(method=method, path=f"/wiki{path}", body=raw, user=user)
    assert check_request("confluence", method, request.path, {}, body) == []
    return fake.handle(request)


def test_restricted_pages_are_hidden_from_outsiders_and_read_only_to_viewers(clock: Clock) -> None:
    from plugin.atlassian.confluence_gateway import ConfluenceGateway
    from plugin.atlassian.ports import PageRestriction

    outsider = "557058:outsider"
    users = {**USERS, "outsider": {"accountId": outsider, "displayName": "Outsider"}}
    fake = ConfluenceFake(SPACES, clock, users, {**GROUPS, "产品部": frozenset({"outsider"})})
    page = fake.add_page("XD", "周报")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        site = Site(fake)
        for method in ("GET", "PUT"):
            mock.add_callback(method, re.compile(re.escape(SITE) + r"/.*"), site.callback)
        gateway = ConfluenceGateway.connect(f"{SITE}/wiki", email="crossdept", api_token="t")
        assert gateway.group_names() == {"市场部", "技术部", "产品部"}
        restriction = PageRestriction(("市场部", "技术部"), ("市场部",), (CROSSDEPT,))
        gateway.restrict_page(page, restriction)
    assert [reasons for _m, _p, reasons in site.calls if reasons] == []

    assert fake.restrictions("XD", "周报") == {
        "read": {"groups": ["市场部", "技术部"], "people": ["crossdept"]},
        "update": {"groups": ["市场部"], "people": ["crossdept"]},
    }
    assert call(fake, "GET", f"/rest/api/content/{page}", outsider).status == 404
    assert call(fake, "GET", f"/rest/api/content/{page}", PM).status == 200
    titled = call(fake, "GET", "/rest/api/content", outsider)
    assert titled.status == 200 and "周报" not in json.dumps(titled.body, ensure_ascii=False)


def test_a_restriction_naming_an_unknown_group_or_locking_out_its_author_is_refused(
    clock: Clock,
) -> None:
    fake = ConfluenceFake(SPACES, clock, USERS, GROUPS)
    page = fake.add_page("XD", "纪要")
    path = f"/rest/api/content/{page}/restriction"

    def restrict(groups: list[str], users: list[str]) -> Any:
        body = [
            {
                "operation": "update",
                "restrictions": {
                    "group": [{"type": "group", "name": name} for name in groups],
                    "user": [{"type": "known", "accountId": account} for account in users],
                },
            }
        ]
        return call(fake, "PUT", path, CROSSDEPT, body)

    unknown = restrict(["法务部"], [CROSSDEPT])
    assert unknown.status == 400 and "法务部" in json.dumps(unknown.body, ensure_ascii=False)
    locked_out = restrict(["技术部"], [])  # crossdept is in no group: it could not edit again
    assert locked_out.status == 400 and "your own access" in json.dumps(locked_out.body)
    assert fake.restrictions("XD", "纪要") == {}  # nothing changed
    assert restrict(["市场部"], [CROSSDEPT]).status == 200
    # The PM (in 市场部) may edit; with the edit restricted to 技术部 and crossdept, not any more.
    assert restrict(["技术部"], [CROSSDEPT]).status == 200
    edit = {"version": {"number": 2}, "title": "纪要", "type": "page"}
    assert call(fake, "PUT", f"/rest/api/content/{page}", PM, edit).status == 403
