"""GET /board: the goal board, read-only, behind CROSSDEPT_BOARD_TOKEN (off without one).

The token comes as `Authorization: Bearer …`, or once as `?token=…`, which is then kept in an
HttpOnly cookie and taken out of the address (so it does not stay in browser history or logs).
Figures are counted by the store over the item mirror: a view makes no Jira call.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, redirect, request
from flask.typing import ResponseReturnValue

from plugin.process.config import Rules
from plugin.rules.reports.board import Board
from plugin.rules.reports.board_page import LANGUAGES, render_board_page
from plugin.rules.reports.board_sources import MirrorNotBuiltError, read_board, request_keys
from plugin.rules.reports.config import report_rules
from plugin.rules.reports.snapshots import latest_assessment
from plugin.spine.context import Context
from webhooks.web.receiver import edge

bp = Blueprint("board", __name__)
COOKIE = "crossdept_board"
COOKIE_SECONDS = 12 * 3600  # a working day; then the board asks for its token again
DELAYED_SHOWN = 200  # the latest delayed items listed; the rest are counted and said


class BoardView:
    """The board's data for the web edge, read through a Context (rules, store, clock)."""

    def __init__(self, context: Callable[[], Context], issue_base: str) -> None:
        self._context = context
        self._issue_base = issue_base.rstrip("/")

    def context(self) -> Context:
        """A Context for one page (rules, Jira, store)."""
        return self._context()

    def issue_url(self, key: str) -> str:
        """Where a person opens an issue."""
        return f"{self._issue_base}/browse/{key}"


def default_view() -> BoardView:
    """The view `serve` uses: the service's own Jira, store and rules, built on first use."""
    from webhooks.service import Service

    settings = edge().settings
    service = Service(settings)
    return BoardView(lambda: service.context_for("board"), settings.jira_url or "")


def _view() -> BoardView:
    view = current_app.extensions.get("crossdept.board")
    if view is None:
        view = current_app.extensions["crossdept.board"] = default_view()
    assert isinstance(view, BoardView)
    return view


def current_board() -> Board | None:
    """The whole board now, for /metrics; None until the mirror has first read Jira."""
    try:
        return read_board(_view().context(), delayed_shown=0)
    except MirrorNotBuiltError:
        return None


def _refuse(reason: str) -> tuple[Response, int]:
    response = jsonify({"status": "unauthorized", "reason": reason})
    response.headers["WWW-Authenticate"] = 'Bearer realm="crossdept board"'
    return response, 401


@bp.get("/board")
def show_board() -> ResponseReturnValue:
    """The board page; 401 without the right token, 400 for a date that is not one."""
    configured = edge().settings.board_token
    if configured is None:
        return _refuse("the board is off: set CROSSDEPT_BOARD_TOKEN to turn it on")
    header = request.headers.get("Authorization", "")
    given = (
        request.args.get("token")
        or (header[7:] if header.startswith("Bearer ") else "")
        or request.cookies.get(COOKIE, "")
    )
    if not hmac.compare_digest(given.encode(), configured.get_secret_value().encode()):
        return _refuse("a valid board token is needed (Authorization: Bearer, or ?token=)")
    if "token" in request.args:
        kept = {k: v for k, v in request.args.items() if k != "token"}
        answer = redirect(request.path + ("?" + urlencode(kept) if kept else ""), code=303)
        answer.set_cookie(
            COOKIE,
            given,
            max_age=COOKIE_SECONDS,
            httponly=True,
            samesite="Strict",
            secure=request.is_secure,  # https, told by a trusted proxy (CROSSDEPT_TRUSTED_PROXIES)
            path="/board",
        )
        return answer
    since_text = request.args.get("since") or ""
    try:
        since = date.fromisoformat(since_text) if since_text else None
    except ValueError:
        response = jsonify(
            {
                "status": "error",
                "reason": f"since must be a date like 2026-03-02, not {since_text!r}",
            }
        )
        return response, 400
    view = _view()
    context = view.context()
    rules = context.rules
    language = request.args.get("lang") or rules.language
    if language not in LANGUAGES:
        language = rules.language
    chosen = request.args.get("request") or None
    try:
        board = read_board(context, since=since, request=chosen, delayed_shown=DELAYED_SHOWN)
    except MirrorNotBuiltError as error:
        return jsonify({"status": "unavailable", "reason": str(error)}), 503
    assessment = report_rules(rules).assessment
    trend, stars = latest_assessment(context.store, assessment) if assessment else ([], ())
    page = render_board_page(
        board,
        language=language,
        issue_url=view.issue_url,
        request_keys=request_keys(context),
        chosen_request=chosen,
        department_name=lambda key: _department_name(rules, key, language),
        assessment=assessment,
        trend=trend,
        stars=stars,
    )
    return Response(
        page, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"}
    )


def _department_name(rules: Rules, key: str, language: str) -> str:
    department = rules.departments.get(key)
    return department.name_en if language == "en" and department and department.name_en else key
