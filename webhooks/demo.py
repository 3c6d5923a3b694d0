"""The demo: a stand-in Jira and the real crossdept service on this machine, and a request filed through them.

`run_demo` starts the sandbox over HTTP and `crossdept serve` (web + worker, as a subprocess,
configured only through CROSSDEPT_* like a real deployment), then plays a list of scenes. Each
scene acts as a user or as Jira would, prints what happened for a newcomer, and records the
facts in the machine-readable summary. New scenes slot into `SCENES`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import requests

from plugin.deliveries import Deliveries, Delivery, DeliveryState
from plugin.errors import GatewayError, RefusedError
from plugin.jira_gateway import JiraGateway
from plugin.rules import Rules
from plugin.rulesfile import load_rules
from plugin.store import Store
from sandbox.app import Sandbox
from sandbox.seed import Seed, SeedUser, load_seed
from sandbox.server import SandboxServer

log = logging.getLogger(__name__)

Say = Callable[[str], None]

CROSSDEPT_LOGIN = "crossdept"  # the seed's account crossdept runs as
REQUESTER_LOGIN = "requester"  # the seed's person who files the request
REQUEST_SUMMARY = "2026年Q1新品X推广"
WEBHOOK_PATH = "/webhooks/jira"
SEED_FILES = {"cloud": "sandbox-seed.yaml", "datacenter": "sandbox-seed-dc.yaml"}
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
    """Rewrite a rules file's Cloud account ids as the seed's Data Center usernames.

    Data Center names people by username where Cloud uses account ids; an admin moving the
    rules file from one to the other makes exactly this change.
    """
    for user in seed.users:
        text = text.replace(f'"{user.account_id}"', f'"{user.login}"')
    return text


@dataclass(frozen=True)
class DemoOptions:
    """What the user chose on the command line."""

    data_center: bool = False
    rules: Path | None = None
    start: date | None = None
    timeout_s: float = 60.0
    verbose: bool = False


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
    answers: list[WebhookAnswer] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    request_key: str = ""
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

    def crossdept_calls(self) -> list[tuple[str, str, int]]:
        """Every Jira call crossdept's account made since the request was filed (method, path, status)."""
        return [
            (call.method, call.path, call.status)
            for call in list(self.sandbox.calls)[self.calls_before_request :]
            if call.user == self.own_identity
        ]


def _count(number: int, noun: str) -> str:
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


# -- scenes ----------------------------------------------------------------------------------------


def scene_started(demo: Demo) -> None:
    """1. Say what runs, and how crossdept was configured."""
    flavour = "Jira Cloud" if demo.seed.is_cloud else "Jira Data Center"
    login = (
        "the crossdept account's email and API token"
        if demo.seed.is_cloud
        else "the crossdept account's personal access token"
    )
    demo.say("1. Started on this machine (nothing leaves it)")
    rules = (
        f"the rules file {demo.rules_path}"
        if demo.options.rules
        else "the shipped rules file config/rules.yaml"
    )
    if not demo.seed.is_cloud:
        rules += " with its people as Data Center usernames"
    sandbox, service = f"{flavour} sandbox", "crossdept serve"
    width = max(len(sandbox), len(service)) + 2
    demo.say(f"   {sandbox.ljust(width)}{demo.sandbox_server.url}  (a stand-in Jira, test users)")
    demo.say(f"   {service.ljust(width)}{demo.service_url}  (web edge + queue worker)")
    demo.say("   crossdept is set up as for a real Jira, only through CROSSDEPT_* variables:")
    demo.say(f"   the sandbox's URL, {login}, a generated webhook secret,")
    demo.say(f"   and {rules}.")
    demo.say("")
    demo.summary["flavour"] = demo.flavour
    demo.summary["sandbox_url"] = demo.sandbox_server.url
    demo.summary["service_url"] = demo.service_url


def scene_request_filed(demo: Demo) -> None:
    """2. The requester files a collaboration request through Jira's REST API."""
    rules, start = demo.rules, demo.options.start or next_monday(date.today())
    fields_of = rules.jira.request.fields
    departments = list(rules.departments)[:4]
    requesting, collaborating = departments[0], departments[1:]
    fields: dict[str, Any] = {
        "project": {"key": rules.jira.projects[0]},
        "issuetype": {"name": rules.jira.request.issue_type},
        "summary": REQUEST_SUMMARY,
        "description": "目标：Q1 新品 X 上市推广，市场部牵头，技术、产品、财务配合。",
        fields_of.requesting_department: {"value": requesting},
        fields_of.departments: [{"value": name} for name in collaborating],
    }
    if fields_of.start:
        fields[fields_of.start] = start.isoformat()
    demo.calls_before_request = len(demo.sandbox.calls)
    # Jira sometimes delivers a webhook twice (a lost acknowledgement): make the next one so.
    demo.sandbox.duplicate_next(1)
    try:
        result = demo.requester.create_bulk([{"fields": fields}])
    except RefusedError as error:
        raise DemoError(f"Jira refused the request: {error.reason()}") from None
    if result.refused:
        raise DemoError(f"Jira refused the request: {result.refused[0].reason()}")
    key = result.created[0].key
    demo.request_key = key
    reporter = demo.requester.get_issue(key, ["reporter"])["fields"].get("reporter") or {}
    demo.say("2. A collaboration request is filed in Jira")
    demo.say(f"   {key}  {REQUEST_SUMMARY}  ({rules.jira.request.issue_type})")
    demo.say(f"   by {reporter.get('displayName')}, through the Jira REST API")
    demo.say(f"   需求部门 {requesting}; 协作部门 {', '.join(collaborating)}; start {start}")
    demo.say("")
    demo.summary["request"] = {
        "key": key,
        "summary": REQUEST_SUMMARY,
        "reporter": reporter.get("displayName"),
        "requesting_department": requesting,
        "departments": collaborating,
        "start": start.isoformat(),
    }


def scene_webhook_processed(demo: Demo) -> None:
    """3. Jira's webhook reaches the service, which queues a job; the worker processes it."""
    key = demo.request_key

    def creation() -> Delivery | None:
        return next(
            (j for j in demo.jobs() if j.event == "jira:issue_created" and j.issue == key), None
        )

    def finished() -> bool:
        job = creation()
        if job is not None and job.state == DeliveryState.FAILED:
            raise DemoError(f"the job for {key} failed: {job.last_error}" + demo.log_tail())
        return job is not None and job.state == DeliveryState.DONE

    seconds = demo.wait_for(f"the tree of {key}", finished)
    demo.settle()
    job = creation()
    assert job is not None
    first = next(a for a in demo.answers if a.identifier == job.key and a.retry == 0)
    demo.say("3. Jira's webhook arrives; crossdept queues it and a worker processes it")
    demo.say(
        f"   {first.event} for {key}, delivery {job.key}: answered {first.status} {first.outcome}"
    )
    demo.say(
        f"   job {job.id}: {job.state.value} after {_count(job.attempts, 'attempt')}, "
        f"{seconds:.1f} s after filing (`crossdept jobs` lists it)"
    )
    demo.say("")
    demo.summary["delivery"] = {
        "id": job.id,
        "key": job.key,
        "event": job.event,
        "issue": job.issue,
        "state": job.state.value,
        "attempts": job.attempts,
        "answer": {"status": first.status, "outcome": first.outcome},
        "seconds_to_tree": round(seconds, 2),
    }


def scene_tree(demo: Demo) -> None:
    """4. The tree crossdept built, read back from Jira as the requester sees it."""
    key = demo.request_key
    demo.tree = demo.read_tree(key)
    if not demo.tree:
        raise DemoError(f"crossdept reported {key} done but Jira shows no tree" + demo.log_tail())
    children: dict[str, list[TreeIssue]] = {}
    for item in demo.tree:
        children.setdefault(item.parent, []).append(item)
    demo.say(f"4. The tree crossdept built under {key} (read back from Jira)")
    demo.say(f"   {key}  {REQUEST_SUMMARY}")

    def show(parent: str, depth: int) -> None:
        for item in children.get(parent, []):
            owner = item.assignee_name or item.assignee or "nobody"
            demo.say(f"   {'  ' * depth}{item.key}  {item.summary}  — {owner}, due {item.duedate}")
            show(item.key, depth + 1)

    show(key, 1)
    kinds = Counter(item.issuetype for item in demo.tree)
    owned = sum(1 for item in demo.tree if item.assignee and item.duedate)
    demo.say(
        f"   {len(demo.tree)} issues ("
        + ", ".join(f"{count} {kind}" for kind, count in kinds.items())
        + f"); {owned} of them with one owner and a due date."
    )
    marker = re.compile(rf"tree:{re.escape(key)}[)）]")
    summaries = [
        str(comment.get("body", ""))
        for comment in demo.requester.list_comments(key)
        if marker.search(str(comment.get("body", "")))
    ]
    if len(summaries) != 1:
        raise DemoError(f"{key} has {len(summaries)} summary comments from crossdept, not one")
    demo.say(
        f"   crossdept's one comment on {key} (edited, never repeated, when the tree changes):"
    )
    for line in summaries[0].splitlines():
        if line.startswith("h3. "):
            demo.say(f"     {line.removeprefix('h3. ')}")
        elif line.startswith("|") and not line.startswith("||"):
            demo.say("       " + "  ".join(cell for cell in line.strip("|").split("|")))
    demo.say("")
    demo.summary["summary_comment"] = {"count": len(summaries), "body": summaries[0]}
    demo.summary["issues"] = [
        {
            "key": item.key,
            "ref": item.ref,
            "summary": item.summary,
            "issuetype": item.issuetype,
            "assignee": item.assignee,
            "assignee_name": item.assignee_name,
            "duedate": item.duedate,
            "parent": item.parent,
        }
        for item in demo.tree
    ]
    demo.summary["issue_count"] = len(demo.tree)


def scene_redelivery(demo: Demo) -> None:
    """5. Jira delivered the creation webhook twice; the second is a duplicate and does nothing."""
    job = demo.summary["delivery"]
    sends = [a for a in demo.answers if a.identifier == job["key"]]
    again = [a for a in sends if a.retry > 0]
    if not again:
        raise DemoError("the sandbox did not redeliver the request's webhook")
    stored = [j for j in demo.jobs() if j.key == job["key"]]
    project = demo.rules.jira.projects[0]
    in_project = demo.project_issue_count(project)
    still = len(demo.read_tree(demo.request_key))
    demo.say("5. Jira delivers the same webhook again (as when an acknowledgement is lost)")
    for answer in again:
        demo.say(
            f"   delivery {answer.identifier} (X-Atlassian-Webhook-Retry: {answer.retry}): "
            f"answered {answer.status} {answer.outcome}"
        )
    demo.say(
        f"   jobs for it: {len(stored)}; issues in the tree: still {still}; "
        f"issues in project {project}: {in_project} (the request + its tree)"
    )
    demo.say("")
    demo.summary["duplicate"] = {
        "delivery": job["key"],
        "answers": [{"retry": a.retry, "status": a.status, "outcome": a.outcome} for a in sends],
        "jobs": len(stored),
        "issues_in_tree_after": still,
        "issues_in_project": in_project,
    }


def scene_loop_safety(demo: Demo) -> None:
    """6. The webhooks caused by crossdept's own changes are ignored: no feedback loop."""
    own = [a for a in demo.answers if a.actor == demo.own_identity]
    outcomes = Counter(a.outcome for a in own)
    events = Counter(a.event for a in own)
    own_keys = {a.identifier for a in own}
    jobs = [j for j in demo.jobs() if j.key in own_keys]
    demo.say("6. Loop safety: Jira reports crossdept's own changes back to crossdept")
    demo.say(
        f"   {len(own)} webhooks caused by crossdept's account ("
        + ", ".join(f"{n} {event}" for event, n in events.items())
        + ")"
    )
    demo.say(
        "   answered: "
        + ", ".join(f"{n} {outcome}" for outcome, n in outcomes.items())
        + f"; jobs queued for them: {len(jobs)}"
    )
    demo.say("")
    demo.summary["own_events"] = {
        "sent": len(own),
        "by_event": dict(events),
        "answers": dict(outcomes),
        "ignored": outcomes.get("ignored", 0),
        "jobs": len(jobs),
    }


def scene_jira_calls(demo: Demo) -> None:
    """7. How many Jira calls the whole tree cost."""
    calls = demo.crossdept_calls()
    by_endpoint = Counter(endpoint_of(method, path) for method, path, _status in calls)
    refused = [c for c in calls if c[2] >= 400]
    demo.say(f"7. Jira calls crossdept made for {demo.request_key}: {len(calls)}")
    for endpoint, count in sorted(by_endpoint.items(), key=lambda item: -item[1]):
        demo.say(f"   {count:>3}  {endpoint}")
    if refused:
        demo.say(f"   of which refused or failed: {len(refused)}")
    demo.say("")
    demo.summary["jira_calls"] = {
        "total": len(calls),
        "by_endpoint": dict(by_endpoint),
        "failed": len(refused),
    }


Scene = Callable[[Demo], None]
SCENES: tuple[Scene, ...] = (
    scene_started,
    scene_request_filed,
    scene_webhook_processed,
    scene_tree,
    scene_redelivery,
    scene_loop_safety,
    scene_jira_calls,
)


# -- starting and stopping -----------------------------------------------------------------------


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def service_environment(
    seed: Seed,
    crossdept: SeedUser,
    *,
    sandbox_url: str,
    webhook_secret: str,
    rules_path: Path,
    data_dir: Path,
) -> dict[str, str]:
    """The environment `crossdept serve` gets: this process's, minus any CROSSDEPT_*, plus the demo's."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("CROSSDEPT_") and name != "PROMETHEUS_MULTIPROC_DIR"
    }
    environment.update(
        CROSSDEPT_JIRA_URL=sandbox_url,
        CROSSDEPT_JIRA_ACCOUNT_ID=crossdept.account_id if seed.is_cloud else crossdept.login,
        CROSSDEPT_WEBHOOK_SECRET=webhook_secret,
        CROSSDEPT_RULES=str(rules_path),
        CROSSDEPT_DATA_DIR=str(data_dir),
        CROSSDEPT_LOG_LEVEL="INFO",
    )
    if seed.is_cloud:
        # The sandbox checks who is calling, not the token: any token is the account's.
        environment["CROSSDEPT_JIRA_EMAIL"] = crossdept.email
        environment["CROSSDEPT_JIRA_API_TOKEN"] = secrets.token_urlsafe(24)
    else:
        pats = [token for token, login in seed.tokens.items() if login == crossdept.login]
        if not pats:
            raise DemoError(f"the Data Center seed gives {crossdept.login} no access token")
        environment["CROSSDEPT_JIRA_PAT"] = pats[0]
    # Run this very crossdept, installed or not.
    package_root = str(Path(__file__).resolve().parents[1])
    environment["PYTHONPATH"] = os.pathsep.join(
        part for part in (package_root, environment.get("PYTHONPATH")) if part
    )
    return environment


def _seed_user(seed: Seed, login: str) -> SeedUser:
    for user in seed.users:
        if user.login == login:
            return user
    raise DemoError(f"the sandbox seed has no user {login!r}")


@contextmanager
def _service_process(
    environment: Mapping[str, str], port: int, log_path: Path, cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `crossdept serve` until the block ends; SIGTERM lets it stop its web and worker cleanly."""
    command = [
        sys.executable,
        "-c",
        "from webhooks.cli import main; main()",
        "serve",
        "--host=127.0.0.1",
        f"--port={port}",
        "--workers=1",
        "--concurrency=2",
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            env=dict(environment),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: a terminal's Ctrl-C reaches only the demo, which stops it in order.
            start_new_session=True,
        )
    try:
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait (a second Ctrl-C does not cut the wait short); kill only if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    stopping = time.monotonic()
    deadline = time.monotonic() + SERVICE_STOP_S
    while process.poll() is None and time.monotonic() < deadline:
        try:
            process.wait(max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            break
        except KeyboardInterrupt:
            continue  # already stopping: finish stopping
    if process.poll() is None:
        process.kill()
        process.wait()
    log.debug("service stopped in %.1f s", time.monotonic() - stopping)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(f"crossdept serve exited with code {process.returncode} at start")
        try:
            if requests.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(POLL_S)
    raise DemoError(f"crossdept serve did not answer {url}/healthz within {timeout_s:.0f} s")


@contextmanager
def _sandbox_log(path: Path) -> Iterator[None]:
    """Send the sandbox server's request log (werkzeug's) to a file instead of the terminal."""
    logger = logging.getLogger("werkzeug")
    handler = logging.FileHandler(path, encoding="utf-8")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.handlers[:], logger.propagate, level = saved
        logger.setLevel(level)
        handler.close()


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so the demo cleans up whichever way it is stopped."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. a test runner's thread): nothing to restore
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_demo(
    options: DemoOptions, say: Say, *, scenes: tuple[Scene, ...] = SCENES
) -> dict[str, Any]:
    """Start everything, play the scenes, stop everything; return the summary (raises DemoError)."""
    began = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="crossdept-demo-"))
    log_path = data_dir / "service.log"
    keep = options.verbose
    try:
        with ExitStack() as stack:
            stack.enter_context(_stop_on_sigterm())
            stack.enter_context(_sandbox_log(data_dir / "sandbox.log"))
            flavour = "datacenter" if options.data_center else "cloud"
            seed = load_seed(config_file(SEED_FILES[flavour]))
            rules_source = options.rules or config_file("rules.yaml")
            rules_path = rules_source.resolve()
            if not seed.is_cloud:
                rules_path = data_dir / "rules.yaml"
                rules_path.write_text(
                    rules_for_data_center(rules_source.read_text(encoding="utf-8"), seed),
                    encoding="utf-8",
                )
            rules = load_rules(rules_path)
            crossdept = _seed_user(seed, CROSSDEPT_LOGIN)
            requester_user = _seed_user(seed, REQUESTER_LOGIN)

            port = free_port()
            service_url = f"http://127.0.0.1:{port}"
            webhook_secret = secrets.token_hex(32)
            sandbox = Sandbox(seed, webhook_secret=webhook_secret)
            sandbox_server = SandboxServer(sandbox, "127.0.0.1", 0)
            sandbox_server.start()
            stack.callback(sandbox_server.stop)
            environment = service_environment(
                seed,
                crossdept,
                sandbox_url=sandbox_server.url,
                webhook_secret=webhook_secret,
                rules_path=rules_path,
                data_dir=data_dir,
            )
            service = stack.enter_context(_service_process(environment, port, log_path, data_dir))
            _wait_healthy(service_url, service, options.timeout_s)
            store = Store(f"sqlite:///{data_dir / 'crossdept.db'}")
            stack.callback(store.dispose)
            # The requester's own login (the sandbox checks who, not the password). They use
            # the same REST client crossdept does, so every request they send is checked too.
            login = requester_user.email if seed.is_cloud else requester_user.login
            try:
                requester = JiraGateway.connect(
                    sandbox_server.url, email=login, api_token=secrets.token_urlsafe(12)
                )
            except GatewayError as error:
                raise DemoError(f"the sandbox did not answer the requester: {error}") from None
            demo = Demo(
                options=options,
                say=say,
                data_dir=data_dir,
                seed=seed,
                rules=rules,
                rules_path=rules_source,
                sandbox=sandbox,
                sandbox_server=sandbox_server,
                service_url=service_url,
                service=service,
                log_path=log_path,
                deliveries=Deliveries(store),
                requester=requester,
                crossdept=crossdept,
            )
            stack.callback(demo.close)
            for scene in scenes:
                scene(demo)
            if sandbox.violations:
                listing = "; ".join(str(v) for v in sandbox.violations)
                raise DemoError(f"requests the real Jira would refuse: {listing}")
            summary = demo.summary
            summary["spec_violations"] = []
        summary["seconds"] = round(time.monotonic() - began, 2)
        if keep:
            summary["data_dir"] = str(data_dir)
            summary["service_log"] = str(log_path)
        return summary
    except DemoError as error:
        keep = True  # leave the log for whoever reads the error
        if str(log_path) not in str(error):
            raise DemoError(f"{error}\n  the service log is kept: {log_path}") from None
        raise
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def summary_json(summary: Mapping[str, Any]) -> str:
    """The summary as `--json` prints it."""
    return json.dumps(summary, ensure_ascii=False, indent=2, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
