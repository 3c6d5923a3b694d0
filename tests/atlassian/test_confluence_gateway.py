"""The Confluence gateway against the sandbox (Cloud under /wiki, Data Center on its own host)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from plugin.atlassian.confluence_gateway import ConfluenceGateway
from plugin.spine.errors import GatewayError, RefusedError, TransientGatewayError
from sandbox.app import Sandbox, installed_sandbox
from tests.fakes import ManualClock

CLOUD = "https://crossdept-sandbox.atlassian.net"
DC_WIKI = "https://confluence.sandbox.example.com"


@pytest.fixture(params=["cloud", "datacenter"])
def wiki(request: pytest.FixtureRequest) -> Iterator[tuple[ConfluenceGateway, Sandbox]]:
    if request.param == "cloud":
        with installed_sandbox(
            "sandbox/seeds/cloud.yaml", clock=ManualClock(), jira_url=CLOUD
        ) as sandbox:
            yield (
                ConfluenceGateway.connect(
                    f"{CLOUD}/wiki", email="crossdept@example.com", api_token="t"
                ),
                sandbox,
            )
    else:
        with installed_sandbox("sandbox/seeds/datacenter.yaml", clock=ManualClock()) as sandbox:
            yield ConfluenceGateway.connect(DC_WIKI, pat="sandbox-pat-crossdept"), sandbox


def test_a_page_is_created_found_and_updated_as_new_versions(
    wiki: tuple[ConfluenceGateway, Sandbox],
) -> None:
    gateway, sandbox = wiki
    parent = gateway.create_page("XD", "跨部门协作会议纪要", "<p>纪要</p>")
    page = gateway.create_page("XD", "2026-12-01 启动会 会议纪要", "<p>v1</p>", parent_id=parent.id)

    assert page.version == 1 and page.title == "2026-12-01 启动会 会议纪要"
    assert page.url.startswith("http") and page.id in page.url
    assert gateway.find_page("XD", "2026-12-01 启动会 会议纪要") == page
    assert gateway.find_page("XD", "no such page") is None

    updated = gateway.update_page(page, page.title, "<p>v2</p>")
    assert (updated.id, updated.version) == (page.id, 2)
    assert gateway.calls == len([call for call in sandbox.calls if call.api == "confluence"])


def test_a_title_taken_in_the_space_is_refused_with_confluences_reason(
    wiki: tuple[ConfluenceGateway, Sandbox],
) -> None:
    gateway, _sandbox = wiki
    gateway.create_page("XD", "纪要", "<p>one</p>")
    with pytest.raises(RefusedError) as refused:
        gateway.create_page("XD", "纪要", "<p>two</p>")
    assert refused.value.status == 400
    assert "A page with this title already exists" in refused.value.reason()


def test_server_faults_are_transient(wiki: tuple[ConfluenceGateway, Sandbox]) -> None:
    gateway, sandbox = wiki
    sandbox.fail_next(1, 503)
    with pytest.raises(TransientGatewayError) as failed:
        gateway.create_page("XD", "纪要", "<p>one</p>")
    assert failed.value.status == 503
    assert (
        gateway.create_page("XD", "纪要", "<p>one</p>").version == 1
    )  # nothing was created before


def test_connecting_needs_credentials() -> None:
    with pytest.raises(GatewayError, match="personal access token"):
        ConfluenceGateway.connect(DC_WIKI)


def test_a_page_is_created_with_its_properties_in_the_same_call(
    wiki: tuple[ConfluenceGateway, Sandbox],
) -> None:
    gateway, sandbox = wiki
    before = len(sandbox.calls)
    page = gateway.create_page(
        "XD", "纪要", "<p>one</p>", properties={"crossdept.minutes": {"meeting": "XD-7"}}
    )
    assert len(sandbox.calls) == before + 1
    assert gateway.page_property(page.id, "crossdept.minutes") == {"meeting": "XD-7"}
    assert gateway.page_property(page.id, "no.such.property") is None
    assert gateway.get_page(page.id) == page
    assert gateway.get_page("999999") is None


def test_a_property_can_be_added_to_a_page_later(wiki: tuple[ConfluenceGateway, Sandbox]) -> None:
    gateway, _sandbox = wiki
    page = gateway.create_page("XD", "纪要", "<p>one</p>")
    gateway.set_page_property(page.id, "crossdept.minutes", {"meeting": "XD-7"})
    assert gateway.page_property(page.id, "crossdept.minutes") == {"meeting": "XD-7"}


def test_data_center_user_keys_are_confluences_own() -> None:
    with installed_sandbox("sandbox/seeds/datacenter.yaml", clock=ManualClock()) as sandbox:
        gateway = ConfluenceGateway.connect(DC_WIKI, pat="sandbox-pat-crossdept")
        login = sandbox.seed.users[1].login
        key = gateway.user_key(login)
        assert key is not None and key != login and len(key) == 32
        assert key == sandbox.confluence.user_key(login)  # type: ignore[union-attr]
        assert gateway.user_key("nobody-here") is None


def test_a_stale_version_is_transient_and_the_next_attempt_saves(
    wiki: tuple[ConfluenceGateway, Sandbox],
) -> None:
    gateway, sandbox = wiki
    page = gateway.create_page("XD", "纪要", "<p>v1</p>")
    someone_else = gateway.update_page(page, page.title, "<p>someone's edit</p>")
    assert someone_else.version == 2
    # Our copy says version 1; atlassian-python-api re-reads the version, so a 409 only comes
    # from a save racing ours. The sandbox's 409 stands in for that race.
    sandbox.fail_next(1, 409)
    with pytest.raises(TransientGatewayError) as failed:
        gateway.update_page(page, page.title, "<p>v3</p>")
    assert failed.value.status == 409
    assert gateway.update_page(page, page.title, "<p>v3</p>").version == 3


def test_rate_limits_are_transient(
    wiki: tuple[ConfluenceGateway, Sandbox],
) -> None:
    gateway, sandbox = wiki
    sandbox.fail_next(1, 429)
    with pytest.raises(TransientGatewayError) as failed:
        gateway.create_page("XD", "纪要", "<p>one</p>")
    assert failed.value.status == 429


def test_a_parent_page_another_worker_made_a_moment_ago_is_used_not_refused(
    wiki: tuple[ConfluenceGateway, Sandbox],
) -> None:
    from plugin.atlassian.pages import parent_page

    gateway, _sandbox = wiki
    made_meanwhile: list[str] = []
    find = gateway.find_page

    def find_before_the_other_worker(space: str, title: str):  # type: ignore[no-untyped-def]
        found = find(space, title)
        if found is None and not made_meanwhile:  # the other worker creates it right after
            made_meanwhile.append(gateway.create_page(space, title, "").id)
        return found

    gateway.find_page = find_before_the_other_worker  # type: ignore[method-assign]
    parent = parent_page(gateway, "XD", "跨部门协作会议纪要")
    assert parent is not None and [parent.id] == made_meanwhile


def test_a_page_property_counts_only_when_crossdept_sealed_it(
    wiki: tuple[ConfluenceGateway, Sandbox],
) -> None:
    from plugin.atlassian.seals import MarkSeal

    gateway, _sandbox = wiki
    url = gateway._client.url
    # A person with edit rights, writing the property by hand through a plain client.
    if url.startswith(DC_WIKI):
        person = ConfluenceGateway.connect(url, pat="sandbox-pat-pm")
    else:
        person = ConfluenceGateway.connect(url, email="pm@example.com", api_token="t")
    gateway.seal = MarkSeal("test-mark-key-not-in-jira")
    gateway.sealed = frozenset({"crossdept.minutes"})
    mark = {"meeting": "XD-7", "site": "https://example"}
    ours = gateway.create_page(
        "XD", "纪要 XD-7", "<p>x</p>", properties={"crossdept.minutes": mark}
    )
    theirs = person.create_page(
        "XD", "纪要 XD-8", "<p>y</p>", properties={"crossdept.minutes": mark}
    )

    assert gateway.page_property(ours.id, "crossdept.minutes") == mark
    assert gateway.page_property(theirs.id, "crossdept.minutes") is None
    assert person.page_property(ours.id, "crossdept.minutes")["seal"].startswith("v1:")
