"""The Flask application factory, and the one place mapping crossdept's errors to HTTP answers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify, request
from pydantic import SecretStr
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from plugin.spine import metrics
from plugin.spine.errors import (
    EventError,
    PayloadError,
    PayloadTooLargeError,
    SettingsError,
    SignatureError,
    StaleDeliveryError,
)
from plugin.spine.inbox import Inbox
from webhooks.settings import Settings
from webhooks.web import board, health, receiver
from webhooks.web.receiver import Edge, delivery_header

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/jira"


def create_app(
    settings: Settings,
    *,
    inbox: Inbox | None = None,
    jira_check: Callable[[], None] | None = None,
) -> Flask:
    """Build the web edge from checked settings; `inbox` defaults to the one the settings describe.
    With `jira_check` (log in to Jira, raising GatewayError if that fails), /healthz reports
    whether Jira answers."""
    problem = settings.webhook_problem()
    if problem:
        raise SettingsError(problem)
    app = Flask(__name__)
    # Werkzeug stops reading a body without Content-Length (chunked) at this many bytes; one byte
    # over our limit lets the receiver tell "too large" (413) from a body that merely ends there.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes + 1
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if inbox is None:
        inbox = _open_inbox(settings)
    app.extensions["crossdept"] = Edge(
        settings=settings,
        inbox=inbox,
        secret=_plain(settings.webhook_secret),
        shared_token=_plain(settings.shared_token),
        jira=health.Reachability(jira_check) if jira_check is not None else None,
    )
    if settings.trusted_proxies:
        app.wsgi_app = FromTrustedProxy(  # type: ignore[method-assign]
            app.wsgi_app, settings.trusted_proxies
        )
    app.before_request(_refuse_oversized_headers)
    app.register_blueprint(receiver.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(board.bp)
    app.register_error_handler(EventError, _answer_event_error)
    app.register_error_handler(HTTPException, _answer_http_error)
    app.register_error_handler(Exception, _answer_our_bug)
    return app


class FromTrustedProxy:
    """Believe X-Forwarded-Proto, -For and -Host only on requests from the configured proxy.

    Behind a TLS-terminating proxy the app sees plain HTTP; the proxy's headers say what the
    browser used (so the board's cookie is Secure). Anyone else could send the same headers,
    so they count only when the request comes from an address in CROSSDEPT_TRUSTED_PROXIES.
    """

    def __init__(self, app: WSGIApplication, addresses: frozenset[str]) -> None:
        self.app = app
        self.addresses = addresses
        self.behind_proxy = ProxyFix(app, x_for=1, x_proto=1, x_host=1)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REMOTE_ADDR") in self.addresses:
            return self.behind_proxy(environ, start_response)
        return self.app(environ, start_response)


def _open_inbox(settings: Settings) -> Inbox:
    from webhooks.service import Service

    service = Service(settings)
    service.create_tables()
    return service.inbox


def _plain(secret: SecretStr | None) -> bytes | None:
    return secret.get_secret_value().encode() if secret is not None else None


# Header limits the app answers itself, in JSON. The web server (gunicorn, see `crossdept web`)
# is set wider, so only requests far beyond these meet its own plain answer.
MAX_HEADER_BYTES = 8192
MAX_HEADERS = 100


def _refuse_oversized_headers() -> tuple[Response, int] | None:
    """Refuse too many or too large headers with 431 and a JSON reason, like every other refusal."""
    headers = list(request.headers.items())
    if len(headers) > MAX_HEADERS:
        reason = f"the request has {len(headers)} headers; at most {MAX_HEADERS} are accepted"
        return _reject(reason, "headers", 431)
    for name, value in headers:
        size = len(name) + len(value)
        if size > MAX_HEADER_BYTES:
            reason = (
                f"the {name[:100]} header is {size} bytes; at most {MAX_HEADER_BYTES} are accepted"
            )
            return _reject(reason, "headers", 431)
    return None


_REASON_CODES: dict[type[EventError], str] = {
    SignatureError: "signature",
    PayloadTooLargeError: "too_large",
    PayloadError: "payload",
    StaleDeliveryError: "stale",
}


def _reject(reason: str, code: str, status: int) -> tuple[Response, int]:
    metrics.observe_delivery("rejected", code)
    log.info(
        "delivery rejected",
        extra={"delivery": delivery_header(), "issue": None, "status": status, "reason": reason},
    )
    return jsonify({"status": "rejected", "reason": reason}), status


def _answer_event_error(error: EventError) -> tuple[Response, int]:
    """A client's mistake: a 4xx with a reason Jira's admin can act on."""
    code = next((c for kind, c in _REASON_CODES.items() if isinstance(error, kind)), "other")
    return _reject(error.reason, code, error.status)


def _answer_http_error(error: HTTPException) -> tuple[Response, int]:
    """Werkzeug's own 4xx (unknown path, wrong method, oversize body) as JSON, not HTML."""
    status = error.code or 500
    if isinstance(error, RequestEntityTooLarge) and request.path == WEBHOOK_PATH:
        return _reject("the body is over the size limit", "too_large", status)
    response = jsonify({"status": "error", "reason": error.description or error.name})
    if status == 405 and error.get_response().headers.get("Allow"):
        response.headers["Allow"] = error.get_response().headers["Allow"]
    return response, status


def _answer_our_bug(error: Exception) -> tuple[Response, int]:
    """Anything else is crossdept's bug or a broken store: log it whole, tell the client little.

    Jira retries a 5xx, so a delivery that hit a passing fault is sent again, not lost.
    """
    log.exception(
        "request failed", extra={"delivery": delivery_header(), "issue": None, "path": request.path}
    )
    return jsonify({"status": "error", "reason": "internal error; see the service log"}), 500
