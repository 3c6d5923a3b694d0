"""GET /board: off without a token, 401 with a wrong one, the figures for the right one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from plugin.process.asks import Asks
from plugin.rules.reports.mirror import rebuild
from plugin.spine.context import Context
from plugin.spine.store import Store
from tests.fakes import HEADS, FakeJira, load_default_rules
from webhooks.settings import Settings
from webhooks.web.board import BoardView

TOKEN = "board-token-0123456789abcdef"
NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def board_item(key: str, ref: str, department: str, due: str, *, resolved: str | None = None):  # type: ignore[no-untyped-def]
    status = (
        {"name": "Done", "statusCategory": {"key": "done"}}
        if resolved
        else {"name": "To Do", "statusCategory": {"key": "new"}}
    )
    return {
        "key": key,
        "fields": {
            "project": {"key": "XD"},
            "issuetype": {"name": "Sub-task"},
            "summary": f"<交付物> {key}",
            "assignee": {"accountId": HEADS[department], "displayName": f"{department}负责人"},
            "duedate": due,
            "status": status,
            "resolutiondate": resolved,
        },
        "properties": {"crossdept.item": {"request": "XD-1", "ref": ref, "department": department}},
    }


def seed_board(store: Store) -> FakeJira:
    """Four items of request XD-1 (on time, late, delayed, not due) and three answered asks."""
    jira = FakeJira()
    done_early, done_late = "2026-03-09T10:00:00.000+0800", "2026-03-12T10:00:00.000+0800"
    jira.add_issue(board_item("XD-2", "s1.d1", "技术部", "2026-03-10", resolved=done_early))
    jira.add_issue(board_item("XD-3", "s1.d2.技术部", "技术部", "2026-03-10", resolved=done_late))
    jira.add_issue(board_item("XD-4", "s2.d1", "技术部", "2026-03-11"))
    jira.add_issue(board_item("XD-5", "s2.d2", "市场部", "2026-03-30"))
    asks = Asks(store)
    for number, hours in enumerate((2.0, 4.0, 30.0)):
        asks.open(
            issue="XD-4",
            asked="x",
            asked_by=None,
            source="mention",
            source_id=str(number),
            asked_at=NOW.timestamp() - 90000,
            next_due=None,
            department="技术部",
        )
        asks.answer("XD-4", "x", NOW.timestamp(), lambda _a, _b, h=hours: h)
    return jira


@pytest.fixture
def board_client(
    make_settings: Callable[..., Settings], make_app: Callable[[Settings], Flask], store: Store
) -> Callable[..., FlaskClient]:
    def build(token: str | None = TOKEN, **more: str) -> FlaskClient:
        settings = make_settings(CROSSDEPT_BOARD_TOKEN=token, **more)
        app = make_app(settings)
        jira = seed_board(store)
        rules = load_default_rules()
        context = Context(rules=rules, jira=jira, store=store, clock=lambda: NOW)
        rebuild(context)  # what the worker does within a minute of starting
        app.extensions["crossdept.board"] = BoardView(
            lambda: context, "https://example.atlassian.net"
        )
        return app.test_client()

    return build


def test_the_board_is_off_without_a_token(board_client: Callable[..., FlaskClient]) -> None:
    answer = board_client(token=None).get("/board")
    assert answer.status_code == 401
    assert answer.get_json()["reason"].startswith("the board is off")


def test_a_wrong_or_missing_token_is_refused(board_client: Callable[..., FlaskClient]) -> None:
    client = board_client()
    assert client.get("/board").status_code == 401
    assert client.get("/board", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/board?token=nope").status_code == 401


def test_a_token_in_the_address_becomes_a_cookie_and_leaves_the_address(
    board_client: Callable[..., FlaskClient],
) -> None:
    client = board_client()
    first = client.get(f"/board?token={TOKEN}&lang=en")
    assert first.status_code == 303 and first.headers["Location"] == "/board?lang=en"
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Max-Age=43200" in cookie and "Expires=" in cookie  # a working day, not for ever
    assert client.get("/board?lang=en").status_code == 200


PROXIED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


@pytest.mark.parametrize(
    ("trusted", "remote", "secure"),
    [
        ("127.0.0.1", "127.0.0.1", True),  # the TLS proxy says the browser used https
        ("127.0.0.1", "198.51.100.9", False),  # anyone else saying so is not believed
        (None, "127.0.0.1", False),  # no proxy configured: the header means nothing
    ],
)
def test_the_cookie_is_secure_behind_the_configured_tls_proxy_only(
    board_client: Callable[..., FlaskClient], trusted: str | None, remote: str, secure: bool
) -> None:
    client = board_client(CROSSDEPT_TRUSTED_PROXIES=trusted)
    answer = client.get(
        f"/board?token={TOKEN}", headers=PROXIED, environ_base={"REMOTE_ADDR": remote}
    )
    assert answer.status_code == 303
    assert ("Secure" in answer.headers["Set-Cookie"].split("; ")) is secure


def test_the_page_shows_the_figures(board_client: Callable[..., FlaskClient]) -> None:
    page = (
        board_client()
        .get("/board?lang=en", headers={"Authorization": f"Bearer {TOKEN}"})
        .get_data(as_text=True)
    )
    assert "<h1>Cross-department goal board</h1>" in page
    engineering = page.split("<td>Engineering</td>", 1)[1].split("</tr>", 1)[0]
    cells = [cell.split("</td>")[0] for cell in engineering.split("<td>")[1:]]
    # items, on time, late, not started, in progress, delayed, rate, asks, answered, median, p90,
    # escalated, supporting: the late item is delayed and nothing else, so the columns add up to
    # the items
    assert cells == ["3", "1", "1", "0", "0", "1", "33%", "3", "3", "4.0 h", "24.8 h", "0", "0"]
    assert '<a href="https://example.atlassian.net/browse/XD-4">XD-4</a>' in page
    assert "&lt;交付物&gt; XD-4" in page  # summaries are escaped
    assert "<td>技术部负责人</td>" in page  # the owner by name, not account id
    assert "<script" not in page and "//cdn" not in page and 'src="http' not in page
    assert 'name="viewport"' in page


def test_filters_and_the_chinese_page(board_client: Callable[..., FlaskClient]) -> None:
    client = board_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    page = client.get("/board?since=2026-03-11", headers=auth).get_data(as_text=True)
    assert "跨部门协作目标看板" in page and "按时完成率" in page
    engineering = page.split("<td>技术部</td>", 1)[1].split("</tr>", 1)[0]
    assert engineering.startswith("<td>1</td>")  # only XD-4 is due from the 11th
    bad = client.get("/board?since=next-week", headers=auth)
    assert bad.status_code == 400 and "since must be a date" in bad.get_json()["reason"]


def test_metrics_export_the_board_figures_when_the_board_is_on(
    board_client: Callable[..., FlaskClient],
) -> None:
    text = board_client().get("/metrics").get_data(as_text=True)
    assert 'crossdept_department_items{department="技术部",state="delayed"} 1.0' in text
    assert 'crossdept_department_on_time_ratio{department="技术部"} 0.333' in text
    assert 'crossdept_department_on_time_ratio{department="产品部"}' not in text  # unknown
    off = board_client(token=None).get("/metrics").get_data(as_text=True)
    assert "crossdept_department_items" not in off


def test_a_board_view_and_a_scrape_ask_jira_nothing(
    make_settings: Callable[..., Settings],
    make_app: Callable[[Settings], Flask],
    store: Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(make_settings(CROSSDEPT_BOARD_TOKEN=TOKEN))
    jira = seed_board(store)
    context = Context(rules=load_default_rules(), jira=jira, store=store, clock=lambda: NOW)
    app.extensions["crossdept.board"] = BoardView(lambda: context, "https://example.atlassian.net")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}

    waiting = client.get("/board", headers=auth)  # the mirror has not read Jira yet
    assert waiting.status_code == 503 and "mirror" in waiting.get_json()["reason"]
    assert "crossdept_department_items" not in client.get("/metrics").get_data(as_text=True)
    assert "unavailable" not in caplog.text  # not built yet is no failure to log at every scrape

    rebuild(context)
    calls = sum(jira.calls.values())
    for _ in range(3):
        assert client.get("/board", headers=auth).status_code == 200
        assert "crossdept_department_items" in client.get("/metrics").get_data(as_text=True)
    assert sum(jira.calls.values()) == calls
