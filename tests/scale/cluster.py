"""Several crossdept processes against one sandbox over loopback: the scaled-out deployment.

The sandbox is the server `crossdept sandbox` runs, started in the test's own process so the test
can count what Jira holds and switch its bad-day behaviour mid-run. Two `crossdept serve
--no-worker` web processes receive its webhooks in turn, as they would behind a load balancer,
and three `crossdept worker` processes do the work. The store and the queue are PostgreSQL and
Redis, or the SQLite default in one data directory.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from demo.harness import next_monday, rules_for_data_center
from demo.processes import free_port, seed_user, service_environment
from plugin.atlassian.jira_gateway import JiraGateway
from plugin.composition import load_rules
from plugin.process.calendar import WorkCalendar
from plugin.process.config import Rules
from plugin.process.items import ITEM_PROPERTY
from plugin.rules.trees.planning import plan_tree, read_request
from plugin.spine.deliveries import Deliveries, Delivery, DeliveryState
from plugin.spine.leases import holder_pid
from plugin.spine.queue import make_queue
from plugin.spine.store import Store, metadata
from sandbox.app import Sandbox
from sandbox.confluence import ConfluenceFake
from sandbox.seed import SEEDS, load_seed
from sandbox.server import SandboxServer
from tests.fakes import ALL_TABLES

REPO = Path(__file__).resolve().parents[2]
SEED = SEEDS["cloud"]
DC_SEED = SEEDS["datacenter"]
RULES = REPO / "config" / "rules.yaml"
UNITS = REPO / "deploy" / "systemd"
CROSSDEPT_LOGIN = "crossdept"
REQUESTER_LOGIN = "requester"
# A job whose worker was killed is taken over once its lease runs out; short, so tests wait less.
LEASE_S = 4.0
# `crossdept` as this checkout runs it, installed or not.
CROSSDEPT = [sys.executable, "-c", "from webhooks.cli import main; main()"]
ASK_MARKER = re.compile(r"ask:(\d+):(\d+)[)）]")


@dataclass(frozen=True)
class Backend:
    """Where the processes keep their state: None means the SQLite default in the data directory."""

    name: str
    database_url: str | None = None
    queue_url: str | None = None


def backend_named(name: str) -> Backend:
    """SQLite, or PostgreSQL + Redis from CROSSDEPT_TEST_DATABASE_URL / _QUEUE_URL (else skip)."""
    if name == "sqlite":
        return Backend("sqlite")
    database = os.environ.get("CROSSDEPT_TEST_DATABASE_URL", "")
    queue = os.environ.get("CROSSDEPT_TEST_QUEUE_URL", "")
    if not database or not queue:
        pytest.skip("CROSSDEPT_TEST_DATABASE_URL and _QUEUE_URL are not set: no PostgreSQL/Redis")
    return Backend("postgresql+redis", database, queue)


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Poll until `condition` holds; return the seconds it took, or fail naming `what`."""
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        if condition():
            return time.monotonic() - began
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (read from /proc), children first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class Cluster:
    """The sandbox, the web processes and the workers; the test drives and inspects them."""

    root: Path
    backend: Backend
    webs: int = 2
    workers: int = 3
    latency_ms: int = 0
    check_spec: bool = True  # the sandbox checks every request against Atlassian's specs
    duplicate_share: float = 0.0  # of the webhooks, delivered twice
    reorder: bool = False  # every batch of webhooks shuffled
    flavour: str = "cloud"  # the sandbox as Jira Cloud, or as Jira Data Center ("datacenter")
    rules: Rules = field(init=False)
    sandbox: Sandbox = field(init=False)
    server: SandboxServer = field(init=False)
    environment: dict[str, str] = field(init=False)
    web_ports: list[int] = field(init=False)
    worker_arguments: list[str] = field(default_factory=list)  # after the unit's own
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    log_starts: dict[str, int] = field(default_factory=dict)  # where each process's last run begins
    store: Store = field(init=False)
    requester: JiraGateway = field(init=False)

    def __post_init__(self) -> None:
        self.data_dir = self.root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        seed = load_seed(SEED if self.flavour == "cloud" else DC_SEED)
        text = RULES.read_text(encoding="utf-8")
        if not seed.is_cloud:
            # Data Center names people by username: the admin's one change to the rules file.
            text = rules_for_data_center(text, seed)
        # One synthetic requester asks on each of hundreds of requests within minutes, far more
        # than a person does in a day: the load tests lift that one limit (tests/e2e pin it).
        assert text.count("\nescalation:\n") == 1
        text = text.replace(
            "\nescalation:\n", "\nescalation:\n  limits: {per_author_per_day: 100000}\n"
        )
        rules_path = self.root / "rules.yaml"
        rules_path.write_text(text, encoding="utf-8")
        self.rules = load_rules(rules_path)
        secret = secrets.token_hex(32)
        self.web_ports = [free_port() for _ in range(self.webs)]
        self.sandbox = Sandbox(seed, webhook_secret=secret, check_spec=self.check_spec)
        self.sandbox.bad_day.latency_ms = self.latency_ms
        # Jira waits 5 to 15 minutes before each of its 5 retries; seconds here.
        self.sandbox.outbox.retry_delay_s = (1.0, 3.0)
        self.sandbox.outbox.duplicate_share = self.duplicate_share
        self.sandbox.outbox.reorder = self.reorder
        self.server = SandboxServer(
            self.sandbox,
            webhook_url=[f"http://127.0.0.1:{port}/webhooks/jira" for port in self.web_ports],
            pump_interval=0.05,
        )
        self.environment = service_environment(
            seed,
            seed_user(seed, CROSSDEPT_LOGIN),
            sandbox_url=self.server.url,
            webhook_secret=secret,
            rules_path=rules_path,
            data_dir=self.data_dir,
        )
        self.environment["CROSSDEPT_LOG_LEVEL"] = "INFO"
        database_url = self.backend.database_url or f"sqlite:///{self.data_dir / 'crossdept.db'}"
        if self.backend.database_url:
            self.environment["CROSSDEPT_DATABASE_URL"] = self.backend.database_url
        if self.backend.queue_url:
            self.environment["CROSSDEPT_QUEUE_URL"] = self.backend.queue_url
        self._reset_shared_state(database_url)
        self.store = Store(database_url)
        self.deliveries = Deliveries(self.store)
        crossdept = seed_user(seed, CROSSDEPT_LOGIN)
        self.crossdept_account = crossdept.account_id if seed.is_cloud else crossdept.login
        self.calendar = WorkCalendar.from_rules(self.rules.calendar)

    def _reset_shared_state(self, database_url: str) -> None:
        """Start from an empty store and queue (PostgreSQL and Redis outlive a test)."""
        if self.backend.database_url:
            store = Store(database_url)
            metadata.drop_all(store.engine)
            store.create_all(ALL_TABLES)
            store.dispose()
        if self.backend.queue_url:
            make_queue(self.backend.queue_url).flush()

    @property
    def cloud(self) -> bool:
        """Whether the sandbox plays Jira Cloud (else Data Center)."""
        return self.sandbox.seed.is_cloud

    # -- processes ------------------------------------------------------------------------------

    def start(self) -> Cluster:
        self.server.start()
        requester = seed_user(self.sandbox.seed, REQUESTER_LOGIN)
        password = secrets.token_urlsafe(12)  # the sandbox checks who, not how
        if self.cloud:
            self.requester = JiraGateway.connect(
                self.server.url, email=requester.email, api_token=password
            )
        else:  # as on a Jira Server before personal access tokens: username and password
            self.requester = JiraGateway.connect(
                self.server.url, username=requester.login, password=password
            )
        for index in range(self.webs):
            self.start_web(index)
        for index in range(self.workers):
            self.start_worker(index)
        for index in range(self.webs):
            self.wait_healthy(index)
        return self

    def restart_service(self, variable: str) -> None:
        """Run the shell command in `variable` that restarts PostgreSQL or Redis (.ci/run sets it)."""
        command = os.environ.get(variable)
        assert command, f"{variable} is not set"
        subprocess.run(command, shell=True, check=True, timeout=120, capture_output=True)  # noqa: S602 - the test runner's own command

    def spawn(self, name: str, *arguments: str, **extra: str) -> subprocess.Popen[bytes]:
        """Start one crossdept command in the background; its output goes to NAME.log."""
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.log_starts[name] = log.tell()  # a process started again appends to the same log
        process = subprocess.Popen(
            [*CROSSDEPT, *arguments],
            env={**self.environment, **extra},
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes[name] = process
        return process

    def start_web(self, index: int) -> None:
        """The web unit's command on its own port, with its own metrics directory."""
        self.spawn(
            f"web{index}",
            *unit_command("crossdept-web@.service", instance=str(self.web_ports[index])),
            PROMETHEUS_MULTIPROC_DIR=str(self.root / f"metrics-web{index}"),
        )

    def start_worker(self, index: int) -> None:
        """The scheduler unit's command for the first worker, the worker unit's for the rest."""
        unit = "crossdept-scheduler.service" if index == 0 else "crossdept-worker@.service"
        self.spawn(
            f"worker{index}",
            *unit_command(unit, instance=str(index)),
            f"--lease-seconds={LEASE_S}",
            *self.worker_arguments,
        )

    def wait_worker_started(self, index: int, timeout_s: float = 60) -> None:
        """Until the worker says it started (its start-up recovery done, its consumer next)."""
        name = f"worker{index}"

        def started() -> bool:
            if self.processes[name].poll() is not None:
                raise AssertionError(f"{name} exited at start:\n{self.log_tail(name)}")
            with open(self.root / f"{name}.log", "rb") as log:
                log.seek(self.log_starts[name])
                return b"worker started" in log.read()

        wait_for(started, timeout_s, f"{name} to start")

    def wait_healthy(self, index: int, timeout_s: float = 60) -> None:
        url = f"http://127.0.0.1:{self.web_ports[index]}/healthz"

        def healthy() -> bool:
            process = self.processes[f"web{index}"]
            if process.poll() is not None:
                raise AssertionError(f"web{index} exited at start:\n{self.log_tail(f'web{index}')}")
            try:
                return requests.get(url, timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(healthy, timeout_s, f"web{index} to answer /healthz")

    def kill(self, name: str) -> None:
        """SIGKILL a process and everything it started, all at once (no clean stop)."""
        process = self.processes[name]
        for pid in [process.pid, *descendants(process.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill(name)
        self.server.stop()
        self.store.dispose()

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.root / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def crossdept(
        self, *arguments: str, timeout_s: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run one crossdept command (e.g. `periodic sweep_asks --now …`) like an operator would."""
        return subprocess.run(
            [*CROSSDEPT, *arguments],
            env=self.environment,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def worker_holding(self, issues: set[str], event: str | None = None) -> str | None:
        """The name of the worker running a job about one of `issues` right now, if any."""
        pids = {
            process.pid: name
            for name, process in self.processes.items()
            if name.startswith("worker") and process.poll() is None
        }
        for delivery in self.deliveries.recent(limit=100_000, state=DeliveryState.RUNNING):
            if event is not None and delivery.event != event:
                continue
            if delivery.issue in issues and delivery.owner:
                pid = holder_pid(delivery.owner)
                if pid in pids:
                    return pids[pid]
        return None

    # -- settling -------------------------------------------------------------------------------

    def jobs(self) -> list[Delivery]:
        return self.deliveries.recent(limit=1_000_000)

    def settled(self) -> bool:
        """Jira has nothing left to send and every accepted delivery has finished."""
        if self.sandbox.outbox.busy:
            return False
        states = Counter(job.state for job in self.jobs())
        return states[DeliveryState.QUEUED] == 0 and states[DeliveryState.RUNNING] == 0

    def settle(self, timeout_s: float = 300) -> float:
        """Wait until settled three polls in a row (a job may make Jira send more)."""
        quiet = 0

        def calm() -> bool:
            nonlocal quiet
            for name, process in self.processes.items():
                if name.startswith(("web", "worker")) and process.poll() is not None:
                    raise AssertionError(f"{name} exited:\n{self.log_tail(name)}")
            quiet = quiet + 1 if self.settled() else 0
            return quiet >= 3

        return wait_for(calm, timeout_s, "every delivery to finish")

    # -- what Jira holds ------------------------------------------------------------------------

    @contextmanager
    def jira_state(self) -> Iterator[Any]:
        """The sandbox's Jira, held still while the test reads it."""
        with self.server.lock:
            yield self.sandbox.jira

    def items_by_request(self) -> dict[str, Counter[str]]:
        """request key -> how many issues carry each ref of its tree."""
        found: dict[str, Counter[str]] = {}
        with self.jira_state() as jira:
            for issue in jira.issues.values():
                mark = issue.properties.get(ITEM_PROPERTY) or {}
                if mark.get("request") and mark.get("ref"):
                    found.setdefault(str(mark["request"]), Counter())[str(mark["ref"])] += 1
        return found

    def planned_refs(self, key: str) -> set[str]:
        """The refs of the tree the request's current fields call for."""
        issue = self.requester.get_issue(key, ["*all"])
        return {
            item.ref
            for item in plan_tree(read_request(issue, self.rules), self.rules, self.calendar).items
        }

    def crossdept_comments(self) -> dict[str, list[str]]:
        """issue key -> the bodies of the comments crossdept's account wrote there."""
        with self.jira_state() as jira:
            return {
                issue.key: [c.body for c in issue.comments if c.author == CROSSDEPT_LOGIN]
                for issue in jira.issues.values()
            }

    def repeated_comments(self) -> list[tuple[str, str]]:
        """(issue, first line) of every crossdept comment that appears twice on one issue."""
        twice = []
        for issue, bodies in self.crossdept_comments().items():
            for body, seen in Counter(bodies).items():
                if seen > 1:
                    twice.append((issue, body.splitlines()[0]))
        return twice

    def ask_steps(self) -> Counter[tuple[str, int, int]]:
        """How often each (issue, ask, step) was said, from crossdept's comments in Jira."""
        return Counter(
            (issue, int(match.group(1)), int(match.group(2)))
            for issue, bodies in self.crossdept_comments().items()
            for body in bodies
            for match in ASK_MARKER.finditer(body)
        )

    def unfinished(self) -> Counter[str]:
        """Deliveries not done, by state (failed ones included)."""
        return Counter(job.state.value for job in self.jobs() if job.state != DeliveryState.DONE)

    def page_titles(self, containing: str) -> list[str]:
        """Titles of the pages in the rules' Confluence space that contain `containing`."""
        confluence, space = self.sandbox.confluence, self.rules.confluence
        assert isinstance(confluence, ConfluenceFake) and space is not None
        with self.server.lock:
            return [title for title in confluence.titles(space.space) if containing in title]


# start_cluster(**Cluster options, configure=...) -> a started Cluster (tests/scale/conftest.py)
StartCluster = Callable[..., "Cluster"]


def unit_command(unit: str, *, instance: str) -> list[str]:
    """The crossdept arguments of a shipped systemd unit's ExecStart, `%i` filled in.

    The tests run exactly what the README tells operators to install.
    """
    text = (UNITS / unit).read_text(encoding="utf-8")
    [line] = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    program, *arguments = shlex.split(line.removeprefix("ExecStart=").replace("%i", instance))
    assert program.endswith("/crossdept"), program
    return arguments


def start_date() -> date:
    """A Monday far enough ahead that nothing is late and no meeting is short of notice."""
    return next_monday(date.today() + timedelta(days=7))


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a process log (gunicorn's and crossdept's lines are all JSON)."""
    found = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found
