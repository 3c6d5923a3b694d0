"""Serve a Sandbox over real HTTP with werkzeug's threaded server (demo and socket-level tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from sandbox.app import Sandbox
from sandbox.webhooks import WebhookPump, http_deliverer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


class SandboxWsgi:
    """A WSGI application that hands every request to the sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.lock = threading.Lock()  # the fakes are not thread-safe; serialise requests

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data()
        latency_ms = self.sandbox.bad_day.latency_ms
        if latency_ms:
            time.sleep(latency_ms / 1000)  # outside the lock: Jira answers callers side by side
        with self.lock:
            answer = self.sandbox.handle(
                request.method, request.url, dict(request.headers), body, delay=False
            )
        response = Response(answer.content(), status=answer.status, headers=answer.headers)
        return response(environ, start_response)


def make_sandbox_server(sandbox: Sandbox, host: str, port: int) -> BaseWSGIServer:
    """Bind a threaded server and point the sandbox's URLs at it (port 0 picks a free port)."""
    server = make_server(host, port, SandboxWsgi(sandbox), threaded=True)
    base = f"http://{host}:{server.server_port}"
    sandbox.set_urls(base, base + "/wiki" if sandbox.seed.is_cloud else base)
    return server


class SandboxServer:
    """A server running in a background thread, with an optional webhook pump; stop() ends both."""

    def __init__(
        self,
        sandbox: Sandbox,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        webhook_url: str | Sequence[str] | None = None,
        pump_interval: float = 0.5,
    ) -> None:
        self.sandbox = sandbox
        self.server = make_sandbox_server(sandbox, host, port)
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="sandbox-http", daemon=True
        )
        self.pump = (
            WebhookPump(sandbox.outbox, http_deliverer(webhook_url), interval=pump_interval)
            if webhook_url
            else None
        )

    @property
    def lock(self) -> threading.Lock:
        """Held while a request is answered: hold it to read the sandbox's state consistently."""
        app = self.server.app
        assert isinstance(app, SandboxWsgi)
        return app.lock

    @property
    def url(self) -> str:
        """The base URL clients use."""
        return self.sandbox.jira_url

    def start(self) -> SandboxServer:
        """Start serving (and pumping webhooks) in background threads."""
        self.thread.start()
        if self.pump is not None:
            self.pump.start()
        return self

    def stop(self) -> None:
        """Stop the pump and the server and wait for their threads."""
        if self.pump is not None:
            self.pump.stop()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(
    sandbox: Sandbox, host: str, port: int, *, webhook_url: str | Sequence[str] | None = None
) -> None:
    """Serve until interrupted (Ctrl-C), pumping webhooks to `webhook_url` (or URLs) if given."""
    running = SandboxServer(sandbox, host, port, webhook_url=webhook_url)
    if running.pump is not None:
        running.pump.start()
    try:
        running.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if running.pump is not None:
            running.pump.stop()
        running.server.server_close()
