"""One sandbox answers both Jira and Confluence: Cloud under /wiki, Data Center on its own host."""

from __future__ import annotations

from atlassian import Confluence

from sandbox.app import Sandbox

from .conftest import CLOUD_URL


def test_cloud_confluence_lives_under_wiki_on_the_jira_site(cloud: Sandbox) -> None:
    wiki = Confluence(url=CLOUD_URL + "/wiki", username="pm@example.com", password="t", cloud=False)
    page = wiki.create_page("XD", "跨部门协作会议纪要", "<p>纪要</p>")
    assert page["title"] == "跨部门协作会议纪要"
    assert cloud.calls[-1].api == "confluence"
    assert cloud.route(CLOUD_URL + "/rest/api/2/myself") == ("jira", "/rest/api/2/myself")


def test_data_center_confluence_has_its_own_base_url(dc: Sandbox) -> None:
    wiki = Confluence(url="https://confluence.sandbox.example.com", token="sandbox-pat-pm")
    page = wiki.create_page("XD", "跨部门协作会议纪要", "<p>纪要</p>")
    assert page["title"] == "跨部门协作会议纪要"
    assert dc.route("https://confluence.sandbox.example.com/rest/api/content") == (
        "confluence",
        "/rest/api/content",
    )


def test_a_shared_base_url_is_split_by_path(dc: Sandbox) -> None:
    dc.set_urls("http://127.0.0.1:8990", "http://127.0.0.1:8990")
    assert dc.route("http://127.0.0.1:8990/rest/api/2/issue/XD-1") == (
        "jira",
        "/rest/api/2/issue/XD-1",
    )
    assert dc.route("http://127.0.0.1:8990/rest/api/content/1") == (
        "confluence",
        "/rest/api/content/1",
    )
