"""The sandbox over real sockets: a threaded werkzeug server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import jira

from sandbox.app import Sandbox
from sandbox.server import SandboxServer
from sandbox.webhooks import sign

from .conftest import CLOUD_SEED


def test_the_jira_client_reads_an_issue_over_http() -> None:
    sandbox = Sandbox.from_seed(CLOUD_SEED)
    with SandboxServer(sandbox, "127.0.0.1", 0) as server:
        client = jira.JIRA(
            server.url, basic_auth=("crossdept@example.com", "t"), max_retries=0, timeout=5
        )
        created = client.create_issue(
            fields={
                "project": {"key": "XD"},
                "issuetype": {"name": "Task"},
                "summary": "经由套接字",
            }
        )
        read = client.issue(created.key)
        assert read.fields.summary == "经由套接字"
        assert read.self.startswith(server.url)
    assert not sandbox.violations


def test_the_pump_posts_signed_webhooks_to_the_receiver() -> None:
    received: list[tuple[str, bytes]] = []
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["X-Hub-Signature"], body))
            self.send_response(204)
            self.end_headers()
            arrived.set()

        def log_message(self, *args: object) -> None:
            pass

    receiver = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        sandbox = Sandbox.from_seed(CLOUD_SEED, webhook_secret="pump-secret")
        url = f"http://127.0.0.1:{receiver.server_port}/webhooks/jira"
        with SandboxServer(sandbox, "127.0.0.1", 0, webhook_url=url, pump_interval=0.05) as server:
            client = jira.JIRA(
                server.url, basic_auth=("crossdept@example.com", "t"), max_retries=0, timeout=5
            )
            client.create_issue(
                fields={"project": {"key": "XD"}, "issuetype": {"name": "Task"}, "summary": "推送"},
                prefetch=False,
            )
            assert arrived.wait(5)
    finally:
        receiver.shutdown()
        receiver.server_close()
    signature, body = received[0]
    assert signature == sign("pump-secret", body)
    assert json.loads(body)["webhookEvent"] == "jira:issue_created"


def test_callers_wait_out_the_latency_side_by_side_as_on_a_real_jira() -> None:
    import time
    from concurrent.futures import ThreadPoolExecutor

    import requests

    sandbox = Sandbox.from_seed(CLOUD_SEED)
    sandbox.bad_day.latency_ms = 300
    with SandboxServer(sandbox, "127.0.0.1", 0) as server:
        url = f"{server.url}/rest/api/2/serverInfo"
        began = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            statuses = list(
                pool.map(lambda _n: requests.get(url, timeout=10).status_code, range(4))
            )
        took = time.monotonic() - began
    assert statuses == [200] * 4
    assert 0.3 <= took < 1.1  # one after another, four calls would take at least 1.2 s
