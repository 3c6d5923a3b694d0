"""The demo's stage: the running sandbox and service, the people, and what happened so far."""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import requests
from ruamel.yaml import YAML

from plugin.atlassian.jira_gateway import JiraGateway
from plugin.process.config import Rules
from plugin.spine.deliveries import Deliveries, Delivery, DeliveryState
from plugin.spine.store import Store
from sandbox.app import Sandbox
from sandbox.robots import GroupRobots
from sandbox.seed import Seed, SeedUser
from sandbox.server import SandboxServer

log = logging.getLogger(__name__)

Say = Callable[[str], None]


CROSSDEPT_LOGIN = "crossdept"  # the seed's account crossdept runs as


REQUESTER_LOGIN = "requester"  # the seed's person who files the request


REQUEST_SUMMARY = "2026年Q1新品X推广"


WEBHOOK_PATH = "/webhooks/jira"


POLL_S = 0.1


QUIET_ROUNDS = 3  # consecutive polls with nothing pending before the demo calls things settled


SERVICE_STOP_S = 30.0


LOG_TAIL_LINES = 15


_ISSUE_IN_PATH = re.compile(r"/issue/(?:[A-Z][A-Z0-9_]*-\d+|\d+)(?=/|$)")


_PROJECT_IN_PATH = re.compile(r"/project/[^/]+")


_PROPERTY_IN_PATH = re.compile(r"/properties/[^/]+")


class DemoError(Exception):
    """The demo could not show what it set out to; the message says what went wrong."""


def config_file(name: str) -> Path:
    """Find a shipped config file: beside the package (a checkout), else in ./config."""
    for base in (Path(__file__).resolve().parents[1], Path.cwd()):
        candidate = base / "config" / name
        if candidate.is_file():
            return candidate
    raise DemoError(
        f"config/{name} was not found in the current directory or beside crossdept: "
        "run the demo from a crossdept checkout"
    )


def next_monday(today: date) -> date:
    """The next Monday on or after `today`: a plausible start for a new collaboration."""
    return today + timedelta(days=(7 - today.weekday()) % 7)


def rules_for_data_center(text: str, seed: Seed) -> str:
    """Rewrite a rules file for Data Center: account ids become the seed's usernames, and the
    request gets an Epic of its own (`epic: create`).

    Data Center names people by username where Cloud uses account ids, and only Jira Software's
    Epic type can hold an epic's children there, so a request type cannot be its own epic
    (`crossdept doctor` says so); an admin moving the rules file makes exactly these changes.
    """
    for user in seed.users:
        text = text.replace(f'"{user.account_id}"', f'"{user.login}"')
    return re.sub(r"(?m)^(\s+epic:) self\b", r"\1 create", text)


# The demo's groups: each department's own group on another platform, so every robot is shown.
DEMO_GROUPS = {
    "技术部": ("dingtalk", "技术部群", "SEC-demo-engineering-signing-secret"),
    "市场部": ("wecom", "市场部群", None),
    "产品部": ("feishu", "产品部群", "demo-product-signing-secret"),
}
DEMO_MOBILES = {"技术部": "13800000003", "市场部": "13800000001", "产品部": "13800000005"}


def rules_with_groups(
    text: str, robots: GroupRobots, *, origin: str | None = None
) -> tuple[str, dict[str, str]]:
    """A rules file with a notify section and the departments' groups, with the environment
    holding their robots' addresses and secrets as an admin sets them (never in the file).

    Each group's robot is made in the sandbox; `origin` is the sandbox server's address when the
    robots are reached over HTTP rather than on their platforms' own addresses."""
    yaml = YAML()
    data = yaml.load(text)
    environ: dict[str, str] = {}
    channels: dict[str, Any] = {}
    for department, (kind, group, secret) in DEMO_GROUPS.items():
        if department not in (data.get("departments") or {}):
            continue  # another rules file (--rules): only its own departments get groups
        variable = f"CROSSDEPT_ROBOT_{len(channels)}"
        environ[f"{variable}_URL"] = robots.add(kind, group, secret=secret, origin=origin)
        channel: dict[str, Any] = {"kind": kind, "url_env": f"{variable}_URL"}
        if secret:
            environ[f"{variable}_SECRET"] = secret
            channel["secret_env"] = f"{variable}_SECRET"
        channels[group] = channel
        data["departments"][department]["channel"] = group
    if not channels:
        return text, environ
    data["notify"] = {"channels": channels}
    data["people"] = {
        str(data["departments"][department]["head"]): {"mobile": mobile}
        for department, mobile in DEMO_MOBILES.items()
        if department in data["departments"]
    }
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue(), environ


@dataclass(frozen=True)
class DemoOptions:
    """What the user chose on the command line."""

    data_center: bool = False
    rules: Path | None = None
    start: date | None = None
    timeout_s: float = 60.0
    verbose: bool = False
    keep: bool = False  # leave the sandbox and the service running after the scenes


@dataclass(frozen=True)
class WebhookAnswer:
    """One webhook the sandbox sent and how the service answered it."""

    identifier: str
    event: str
    issue: str | None
    actor: str | None
    retry: int
    status: int | None
    outcome: str  # accepted, duplicate, ignored, or the error


@dataclass
class TreeIssue:
    """One issue of the built tree, as read back from Jira."""

    key: str
    ref: str
    summary: str
    assignee: str | None
    assignee_name: str | None
    duedate: str | None
    parent: str
    issuetype: str


@dataclass
class Demo:
    """Everything the scenes share: the running sandbox and service, the people, the facts so far."""

    options: DemoOptions
    say: Say
    data_dir: Path
    seed: Seed
    rules: Rules
    rules_path: Path
    sandbox: Sandbox
    sandbox_server: SandboxServer
    service_url: str
    service: subprocess.Popen[bytes]
    log_path: Path
    deliveries: Deliveries
    requester: JiraGateway  # the requester's own login, not crossdept's
    crossdept: SeedUser
    environment: Mapping[str, str] = field(default_factory=dict)  # the service's CROSSDEPT_*
    answers: list[WebhookAnswer] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    request_key: str = ""
    start: date = field(default_factory=date.today)  # the request's first day, once filed
    tree: list[TreeIssue] = field(default_factory=list)
    calls_before_request: int = 0
    _session: requests.Session = field(default_factory=requests.Session)

    @property
    def flavour(self) -> str:
        """cloud or datacenter."""
        return "cloud" if self.seed.is_cloud else "datacenter"

    @property
    def own_identity(self) -> str:
        """How Jira names crossdept's account: accountId on Cloud, username on Data Center."""
        return self.crossdept.account_id if self.seed.is_cloud else self.crossdept.login

    # -- Jira's side: webhooks -----------------------------------------------------------------

    def deliver_webhooks(self) -> list[WebhookAnswer]:
        """Let the sandbox send its queued webhooks to the service, as Jira does; note the answers."""
        before = len(self.answers)
        self.sandbox.deliver_webhooks(self._post_webhook)
        return self.answers[before:]

    def _post_webhook(self, headers: dict[str, str], body: bytes) -> int:
        payload = json.loads(body)
        user = payload.get("user") or {}
        answer = partial(
            WebhookAnswer,
            identifier=headers["X-Atlassian-Webhook-Identifier"],
            event=str(payload.get("webhookEvent") or "?"),
            issue=(payload.get("issue") or {}).get("key"),
            actor=user.get("accountId") or user.get("name"),
            retry=int(headers.get("X-Atlassian-Webhook-Retry", "0")),
        )
        try:
            response = self._session.post(
                self.service_url + WEBHOOK_PATH, data=body, headers=headers, timeout=(5.0, 20.0)
            )
        except requests.RequestException as error:
            self.answers.append(answer(status=None, outcome=f"no answer ({type(error).__name__})"))
            raise  # the sandbox keeps it and sends it again, as Jira does
        try:
            outcome = str(response.json().get("status") or response.status_code)
        except ValueError:
            outcome = f"HTTP {response.status_code}"
        self.answers.append(answer(status=response.status_code, outcome=outcome))
        return response.status_code

    def close(self) -> None:
        """Drop the webhook connection, so the service's web server stops without waiting for it."""
        self._session.close()

    # -- crossdept's side: the deliveries table (what `crossdept jobs` lists) -------------------

    def jobs(self) -> list[Delivery]:
        """Every delivery the service accepted, oldest first."""
        return list(reversed(self.deliveries.recent(limit=10_000)))

    def check_service(self) -> None:
        """Fail with the log's tail if `crossdept serve` stopped on its own."""
        if self.service.poll() is not None:
            raise DemoError(
                f"crossdept serve stopped unexpectedly (exit code {self.service.returncode})"
                + self.log_tail()
            )

    def log_tail(self) -> str:
        """The last lines of the service log, to put under an error."""
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        tail = "\n".join("    " + line for line in lines[-LOG_TAIL_LINES:])
        return f"\n  last lines of the service log ({self.log_path}):\n{tail}" if tail else ""

    def wait_for(self, what: str, done: Callable[[], bool]) -> float:
        """Deliver webhooks and poll until `done()`; return the seconds it took or fail clearly."""
        started = time.monotonic()
        deadline = started + self.options.timeout_s
        while True:
            self.deliver_webhooks()
            if done():
                return time.monotonic() - started
            self.check_service()
            if time.monotonic() > deadline:
                raise DemoError(
                    f"timed out after {self.options.timeout_s:.0f} s waiting for {what}"
                    + self.log_tail()
                )
            time.sleep(POLL_S)

    def settle(self) -> None:
        """Wait until Jira has nothing left to send and crossdept nothing left to process."""
        quiet = 0

        def idle() -> bool:
            nonlocal quiet
            busy = bool(self.sandbox.outbox.pending) or any(
                job.state in (DeliveryState.QUEUED, DeliveryState.RUNNING) for job in self.jobs()
            )
            quiet = 0 if busy else quiet + 1
            return quiet >= QUIET_ROUNDS

        self.wait_for("crossdept and Jira to finish their work", idle)

    # -- reading Jira as the requester ---------------------------------------------------------

    def read_tree(self, key: str) -> list[TreeIssue]:
        """Read the request's tree back from Jira: crossdept's tree record, then the issues."""
        record = self.requester.get_issue_property(key, "crossdept.tree") or {}
        refs = {str(k): str(r) for r, k in (record.get("items") or {}).items()}
        if not refs:
            return []
        found: list[TreeIssue] = []
        keys = sorted(refs, key=_key_number)
        for start in range(0, len(keys), 50):
            chunk = keys[start : start + 50]
            issues = self.requester.search_issues(
                f"key in ({', '.join(chunk)})",
                fields=("summary", "assignee", "duedate", "parent", "issuetype"),
                limit=len(chunk),
            )
            for issue in issues:
                raw = issue.get("fields") or {}
                ref = refs[str(issue["key"])]
                assignee = raw.get("assignee") or {}
                parent_key = (raw.get("parent") or {}).get("key")
                found.append(
                    TreeIssue(
                        key=str(issue["key"]),
                        ref=ref,
                        summary=str(raw.get("summary") or ""),
                        assignee=assignee.get("accountId") or assignee.get("name"),
                        assignee_name=assignee.get("displayName"),
                        duedate=raw.get("duedate"),
                        # Data Center links stages to their epic by the Epic Link field, not
                        # `parent`; the ref says which stage or request the item hangs under.
                        parent=parent_key or _parent_of(ref, refs, key),
                        issuetype=str((raw.get("issuetype") or {}).get("name") or ""),
                    )
                )
        return sorted(found, key=lambda item: _key_number(item.key))

    def project_issue_count(self, project: str) -> int:
        """How many issues the project holds now (to show nothing was created twice)."""
        return len(self.requester.search_issues(f"project = {project}", limit=10_000))

    @property
    def store(self) -> Store:
        """crossdept's store, as `crossdept jobs` and `crossdept audit` read it."""
        return self.deliveries.store

    def crossdept_comments(self, key: str) -> list[str]:
        """The comments crossdept's account wrote on an issue, read as the requester."""
        found = []
        for comment in self.requester.list_comments(key):
            author = comment.get("author") or {}
            if self.own_identity in (author.get("accountId"), author.get("name")):
                found.append(str(comment.get("body", "")))
        return found

    def rule_comments(self, key: str, rule: str) -> list[str]:
        """crossdept's comments on an issue for one rule (their last line names it: `(rule:KEY)`).

        Other rules may speak on the same issue meanwhile, e.g. the delay sweep when the demo's
        dates lie in the past.
        """
        marker = re.compile(rf"{re.escape(rule)}:{re.escape(key)}[)）]")
        return [text for text in self.crossdept_comments(key) if marker.search(text)]

    def crossdept_command(self, *arguments: str) -> str:
        """Run a `crossdept` command as an operator would on the service's machine; its output."""
        done = subprocess.run(
            [sys.executable, "-c", "from webhooks.cli import main; main()", *arguments],
            env=dict(self.environment),
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=self.options.timeout_s,
        )
        if done.returncode != 0:
            raise DemoError(f"crossdept {' '.join(arguments)} failed: {done.stderr.strip()[-500:]}")
        return done.stdout.strip()

    def as_person(self, account: str) -> JiraGateway:
        """A Jira client logged in as one of the seed's people (by account id or username), to
        act as they would; the sandbox checks who, not the password."""
        user = next(u for u in self.seed.users if account in (u.account_id, u.login))
        login = user.email if self.seed.is_cloud else user.login
        return JiraGateway.connect(
            self.sandbox_server.url, email=login, api_token=secrets.token_urlsafe(12)
        )

    def labels(self, key: str) -> list[str]:
        """An issue's labels, read as the requester."""
        fields = self.requester.get_issue(key, ["labels"]).get("fields") or {}
        return [str(label) for label in fields.get("labels") or []]

    def crossdept_calls(self) -> list[tuple[str, str, int]]:
        """Every Jira call crossdept's account made since the request was filed (method, path, status)."""
        return [
            (call.method, call.path, call.status)
            for call in list(self.sandbox.calls)[self.calls_before_request :]
            if call.user == self.own_identity
        ]


def count_of(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _key_number(key: str) -> int:
    number = key.rsplit("-", 1)[-1]
    return int(number) if number.isdigit() else 0


def _parent_of(ref: str, keys_by_key: Mapping[str, str], request: str) -> str:
    by_ref = {r: k for k, r in keys_by_key.items()}
    if "." in ref:
        return by_ref.get(ref.split(".", 1)[0], request)
    if ref != "epic" and "epic" in by_ref:
        return by_ref["epic"]
    return request


def endpoint_of(method: str, path: str) -> str:
    """Group calls by endpoint: issue keys, project keys and property names become placeholders."""
    path = _PROPERTY_IN_PATH.sub("/properties/{name}", path)
    path = _ISSUE_IN_PATH.sub("/issue/{key}", path)
    path = _PROJECT_IN_PATH.sub("/project/{project}", path)
    return f"{method} {path}"
