"""A worker killed with SIGKILL mid-job loses nothing: a restarted worker does the job, once.

The worker runs as a real process (`crossdept worker`) on a temporary SQLite data directory,
with a router (selected by `--router`) whose handler blocks until a file appears.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from plugin.spine.context import Context
from plugin.spine.deliveries import Deliveries, DeliveryState
from plugin.spine.events import JiraEvent
from plugin.spine.inbox import Inbox
from plugin.spine.queue import make_queue
from plugin.spine.routing import Router
from plugin.spine.store import Store
from tests.fakes import ALL_TABLES

REPO = Path(__file__).resolve().parent.parent
SAMPLE = (
    REPO / "tests" / "samples" / "jira_issue_created__mattermost_mattermost-plugin-jira__1.json"
)
# Read by the router below, inside the worker process; not a crossdept setting.
TEST_DIR_VARIABLE = "CRASHTEST_DIR"
LEASE_S = 2.0


def build_blocking_router() -> Router:
    """A router whose handler notes it started, waits for `go`, then records its one effect."""
    directory = Path(os.environ[TEST_DIR_VARIABLE])
    router = Router()

    def block_then_record(event: JiraEvent, context: Context) -> None:
        with open(directory / "started", "a") as started:
            started.write(f"{context.delivery_key}\n")
        deadline = time.monotonic() + 120
        while not (directory / "go").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the test never said go")
            time.sleep(0.05)
        with open(directory / "effects", "a") as effects:
            effects.write(f"{context.delivery_key} {event.issue_key}\n")

    router.add(block_then_record, "jira:issue_created")
    return router


class ServerInfo(BaseHTTPRequestHandler):
    """Just enough Jira for the gateway to connect: GET /rest/api/2/serverInfo."""

    def do_GET(self) -> None:
        if self.path.startswith("/rest/api/2/serverInfo"):
            body = json.dumps({"deploymentType": "Cloud", "versionNumbers": [1001, 0, 0]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def jira_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ServerInfo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_job_interrupted_by_sigkill_is_done_exactly_once_after_a_restart(
    tmp_path: Path, jira_url: str, request: pytest.FixtureRequest
) -> None:
    data_dir = tmp_path / "data"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CROSSDEPT_")},
        "PYTHONPATH": str(REPO),
        TEST_DIR_VARIABLE: str(tmp_path),
        "CROSSDEPT_DATA_DIR": str(data_dir),
        "CROSSDEPT_RULES": str(REPO / "config" / "rules.yaml"),
        "CROSSDEPT_JIRA_URL": jira_url,
        "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
        "CROSSDEPT_JIRA_EMAIL": "bot@example.com",
        "CROSSDEPT_JIRA_API_TOKEN": "not-a-real-token",
        "CROSSDEPT_JIRA_ACCOUNT_ID": "crossdept-bot",
    }
    command = [
        sys.executable,
        "-c",
        "from webhooks.cli import main; main()",
        "worker",
        "--concurrency=1",
        f"--lease-seconds={LEASE_S}",
        f"--router={__name__}:build_blocking_router",
    ]
    data_dir.mkdir()
    store = Store(f"sqlite:///{data_dir}/crossdept.db")
    store.create_all(ALL_TABLES)
    deliveries = Deliveries(store)
    inbox = Inbox(store, make_queue(f"sqlite:///{data_dir}/queue.db"))
    assert inbox.accept("delivery-1", "jira:issue_created", "KT-22", SAMPLE.read_bytes())
    [delivery] = deliveries.recent()

    log = (tmp_path / "worker.log").open("ab")
    request.addfinalizer(log.close)

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            command, env=environment, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log
        )

    first = start()
    try:
        wait_for(lambda: len(lines(tmp_path / "started")) == 1, 60, "the first worker to start")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert deliveries.get(delivery.id).state is DeliveryState.RUNNING  # type: ignore[union-attr]
    assert lines(tmp_path / "effects") == []

    (tmp_path / "go").touch()
    time.sleep(LEASE_S + 0.5)  # the dead worker's lease runs out; a restart then recovers it
    second = start()
    try:
        wait_for(
            lambda: deliveries.get(delivery.id).state is DeliveryState.DONE,  # type: ignore[union-attr]
            90,
            f"the restarted worker to finish (log: {tmp_path / 'worker.log'})",
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()

    assert lines(tmp_path / "effects") == ["delivery-1 KT-22"]
    assert lines(tmp_path / "started") == ["delivery-1", "delivery-1"]
    finished = deliveries.get(delivery.id)
    assert finished is not None
    assert (finished.state, finished.attempts, finished.last_error) == (DeliveryState.DONE, 2, None)
