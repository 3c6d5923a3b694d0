"""A Jira that loses its data under a running service (a sandbox restarted on the same address, as a
restored backup or a recreated project does): crossdept believes only what Jira holds. And the same
store pointed at a different Jira refuses to start, naming both."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

from demo.harness import config_file
from demo.processes import (
    free_port,
    seed_user,
    service_environment,
    service_process,
    wait_healthy,
)
from plugin.atlassian.jira_gateway import JiraGateway
from sandbox.app import Sandbox, assert_no_violations
from sandbox.seed import SEEDS, load_seed
from sandbox.server import SandboxServer
from tests.rules.trees.test_trees import REQUEST_FIELDS

FULL_TREE = 35
CLI = "from webhooks.cli import main; main()"


def _post_to(url: str, answers: list[str]) -> Callable[[dict[str, str], bytes], int]:
    def post(headers: dict[str, str], body: bytes) -> int:
        response = requests.post(url, data=body, headers=headers, timeout=10)
        answers.append(response.json().get("status", str(response.status_code)))
        return response.status_code

    return post


def _file_request(server: SandboxServer) -> tuple[JiraGateway, str]:
    requester = JiraGateway.connect(server.url, email="requester@example.com", api_token="t")
    created = requester._call("POST", "/rest/api/2/issue", body={"fields": REQUEST_FIELDS})
    return requester, str(created.json()["key"])


def _wait_for_tree(
    sandbox: Sandbox, requester: JiraGateway, key: str, post: Callable[[dict[str, str], bytes], int]
) -> dict[str, str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sandbox.deliver_webhooks(post)
        record = requester.get_issue_property(key, "crossdept.tree") or {}
        if len(record.get("items") or {}) == FULL_TREE:
            return dict(record["items"])
        time.sleep(0.2)
    raise AssertionError(f"no tree for {key} within 60 s")


def test_a_jira_restarted_empty_gets_new_trees_and_another_jira_is_refused(
    tmp_path: Path,
) -> None:
    seed = load_seed(SEEDS["cloud"])
    secret = secrets.token_hex(32)
    jira_port, service_port = free_port(), free_port()
    data = tmp_path / "data"
    data.mkdir()
    log = tmp_path / "service.log"
    first = Sandbox(seed, webhook_secret=secret)
    server = SandboxServer(first, "127.0.0.1", jira_port).start()
    environment = service_environment(
        seed,
        seed_user(seed, "crossdept"),
        sandbox_url=server.url,
        webhook_secret=secret,
        rules_path=config_file("rules.yaml"),
        data_dir=data,
    )
    service_url = f"http://127.0.0.1:{service_port}"
    answers: list[str] = []
    post = _post_to(service_url + "/webhooks/jira", answers)
    with service_process(environment, service_port, log, tmp_path) as service:
        wait_healthy(service_url, service, 60)
        requester, key = _file_request(server)
        assert key == "XD-1"
        _wait_for_tree(first, requester, key, post)
        server.stop()

        # The same address, an empty Jira: XD-1 is a new request, XD-2… do not exist.
        second = Sandbox(seed, webhook_secret=secret)
        server = SandboxServer(second, "127.0.0.1", jira_port).start()
        try:
            requester, key = _file_request(server)
            assert key == "XD-1"  # keys of a fresh Jira start at 1, like a recreated project
            before = len(answers)
            items = _wait_for_tree(second, requester, key, post)
            assert answers[before] == "accepted"  # a new identifier: not taken for a redelivery

            held = requester.search_issues("project = XD", fields=["summary"], limit=1000)
            assert len(held) == 1 + FULL_TREE
            assert set(items.values()) == {issue["key"] for issue in held} - {key}

            applied = subprocess.run(
                [sys.executable, "-c", CLI, "apply", key],
                env=environment,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert applied.returncode == 0, applied.stderr
            assert applied.stdout.startswith(f"{key}: complete; created 0, {FULL_TREE} in the tree")
            listed = {line.split()[0] for line in applied.stdout.splitlines()[1:] if line.strip()}
            assert listed - {key} == set(items.values())  # only what this Jira holds
            assert_no_violations(second)
        finally:
            server.stop()
        assert service.poll() is None

    # The same store, a different Jira (another address): every process refuses to start.
    third = Sandbox(seed, webhook_secret=secret)
    with SandboxServer(third, "127.0.0.1", free_port()) as other:
        elsewhere = {**environment, "CROSSDEPT_JIRA_URL": other.url}
        for command in (["worker"], ["serve", f"--port={free_port()}"], ["apply", "XD-1"]):
            refused = subprocess.run(
                [sys.executable, "-c", CLI, *command],
                env=elsewhere,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert refused.returncode == 1, (command, refused.stdout, refused.stderr)
            sentence = [line for line in refused.stderr.splitlines() if "serves" in line]
            assert len(sentence) == 1, refused.stderr
            assert f"serves {server.url} (Jira Cloud)" in sentence[0]
            assert f"leads to {other.url} (Jira Cloud)" in sentence[0]
