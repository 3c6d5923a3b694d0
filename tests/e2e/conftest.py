"""The real service against the in-process sandbox, one fresh world per test.

Everything between Jira and Jira is crossdept's own code: the sandbox's signed webhooks go to the
Flask app's /webhooks/jira (test client), the inbox stores them, the worker's feeder puts them on
a real huey queue (in memory), the test drains that queue through the worker `Service.worker()`
attaches, and the worker reaches the sandbox through the real gateway and `jira` client (behind
`responses`).
Time is real time plus a skew the test moves forward, so retries come due without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jira
import pytest
from flask.testing import FlaskClient
from ruamel.yaml import YAML

from demo.harness import rules_for_data_center, rules_with_groups
from plugin.rules.trees.trees import ITEM_PROPERTY, TREE_PROPERTY
from plugin.spine.context import Context
from plugin.spine.deliveries import Deliveries, Delivery, DeliveryState
from plugin.spine.queue import Feeder
from plugin.spine.worker import Outcome
from sandbox.app import Sandbox, installed_sandbox
from sandbox.seed import SEEDS, load_seed
from webhooks.service import Service
from webhooks.settings import load_settings
from webhooks.web.app import create_app

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
SECRET = "e2e-webhook-secret"
START = "2026-03-02"  # a Monday; due dates below follow from it and the shipped rules
REQUESTING = "市场部"
COLLABORATING = ("技术部", "产品部", "财务部")
DEPARTMENTS_FIELD = "customfield_10051"
REQUESTING_FIELD = "customfield_10050"
START_FIELD = "customfield_10015"
DECIDERS_FIELD = "customfield_10062"
FAR_FUTURE = datetime(9999, 1, 1)  # huey's naive UTC: "every message is ready"
# 6 stages + the sub-tasks of 4 departments under the shipped rules (tests/rules/trees/test_trees.py pins it).
FULL_TREE = 35


@dataclass(frozen=True)
class Flavour:
    """One kind of Jira: where it lives, how crossdept logs in, how the requester logs in."""

    name: str
    seed: Path
    url: str
    crossdept_env: dict[str, str]
    crossdept_id: str
    requester_login: str


CLOUD = Flavour(
    name="cloud",
    seed=SEEDS["cloud"],
    url="https://crossdept-e2e.atlassian.net",
    crossdept_env={
        "CROSSDEPT_JIRA_EMAIL": "crossdept@example.com",
        "CROSSDEPT_JIRA_API_TOKEN": "e2e-api-token",
    },
    crossdept_id="557058:00000000-0000-4000-8000-0000000000aa",
    requester_login="requester@example.com",
)
DATA_CENTER = Flavour(
    name="datacenter",
    seed=SEEDS["datacenter"],
    url="https://jira.e2e.example.com",
    crossdept_env={"CROSSDEPT_JIRA_PAT": "sandbox-pat-crossdept"},
    crossdept_id="crossdept",
    requester_login="requester",
)
FLAVOURS = {"cloud": CLOUD, "datacenter": DATA_CENTER}


class SkewClock:
    """Real time plus a skew the test moves forward: every clock of the world reads this one."""

    def __init__(self) -> None:
        self.skew = 0.0

    def time(self) -> float:
        return time.time() + self.skew

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.skew)

    def advance(self, seconds: float) -> None:
        self.skew += seconds


class E2EService(Service):
    """The production wiring, with the test's clock given to the handlers too."""

    clock: SkewClock

    def context_for(
        self, delivery_key: str, *, clock: Callable[[], datetime] | None = None
    ) -> Context:
        return replace(super().context_for(delivery_key), clock=clock or self.clock.now)


@dataclass(frozen=True)
class Answer:
    """How the receiver answered one webhook the sandbox sent."""

    identifier: str
    event: str
    issue: str | None
    retry: int
    status: int
    outcome: str


@dataclass
class World:
    """A sandbox Jira, crossdept's service, and the requester who uses that Jira."""

    flavour: Flavour
    sandbox: Sandbox
    service: E2EService
    client: FlaskClient
    clock: SkewClock
    requester: Any  # jira.JIRA
    answers: list[Answer] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def full_tree(self) -> int:
        """The items of one request's tree: FULL_TREE, and the Epic crossdept creates for it
        where the rules say `epic: create` (Data Center's, see demo.harness)."""
        return FULL_TREE + (self.service.rules.jira.request.epic == "create")

    # -- people ---------------------------------------------------------------------------------

    def file_request(
        self,
        collaborating: tuple[str, ...] = COLLABORATING,
        *,
        requesting: str = REQUESTING,
        summary: str = "2026年Q1新品X推广",
        start: str = START,
        deciders: tuple[str, ...] = (),
    ) -> str:
        """The requester files a collaboration request; returns its key."""
        fields: dict[str, Any] = {
            "project": {"key": "XD"},
            "issuetype": {"name": "跨部门协作需求"},
            "summary": summary,
            REQUESTING_FIELD: {"value": requesting},
            DEPARTMENTS_FIELD: [{"value": name} for name in collaborating],
            START_FIELD: start,
        }
        if deciders:
            fields[DECIDERS_FIELD] = self.user_values(deciders)
        issue = self.requester.create_issue(fields=fields)
        return str(issue.key)

    def user_values(self, logins: tuple[str, ...]) -> list[dict[str, str]]:
        """People as a user picker takes them: account ids on Cloud, usernames on Data Center."""
        if self.flavour.name == "cloud":
            return [{"accountId": self.sandbox.jira.users[login].account_id} for login in logins]
        return [{"name": login} for login in logins]

    def person_id(self, login: str) -> str:
        """How crossdept names one of the seed's people on this flavour."""
        if self.flavour.name == "cloud":
            return self.sandbox.jira.users[login].account_id
        return login

    def set_deciders(self, key: str, logins: tuple[str, ...]) -> None:
        """The requester names the request's decision makers (决策人)."""
        self.requester.issue(key).update(fields={DECIDERS_FIELD: self.user_values(logins)})

    def set_departments(self, key: str, collaborating: tuple[str, ...]) -> None:
        """The requester changes the collaborating departments of a request."""
        self.requester.issue(key).update(
            fields={DEPARTMENTS_FIELD: [{"value": name} for name in collaborating]}
        )

    def edit_description(self, key: str, text: str) -> None:
        """The requester edits something that has nothing to do with departments."""
        self.requester.issue(key).update(fields={"description": text})

    # -- Jira → crossdept -----------------------------------------------------------------------

    def deliver(self, *, reorder: bool | None = None) -> list[Answer]:
        """Send the sandbox's queued webhooks to the receiver, signed, as Jira does."""
        before = len(self.answers)
        self.sandbox.deliver_webhooks(self._post, reorder=reorder)
        return self.answers[before:]

    def _post(self, headers: dict[str, str], body: bytes) -> int:
        response = self.client.post("/webhooks/jira", data=body, headers=headers)
        payload = response.get_json(silent=True) or {}
        event = self._event_of(body)
        self.answers.append(
            Answer(
                identifier=headers["X-Atlassian-Webhook-Identifier"],
                event=event[0],
                issue=event[1],
                retry=int(headers.get("X-Atlassian-Webhook-Retry", "0")),
                status=response.status_code,
                outcome=str(payload.get("status")),
            )
        )
        return response.status_code

    @staticmethod
    def _event_of(body: bytes) -> tuple[str, str | None]:
        import json

        decoded = json.loads(body)
        return str(decoded.get("webhookEvent")), (decoded.get("issue") or {}).get("key")

    # -- the queue ------------------------------------------------------------------------------

    def drain(self, *, limit: int = 200) -> int:
        """Run every job the queue holds whose delivery is due now; return how many ran.

        huey dates its scheduled retries by the wall clock and the store by the test's clock, so
        the store, which is what the worker's claim reads anyway, decides which are due: a retry
        that is not due yet goes back to huey's schedule untouched.
        """
        queue = self.service.queue
        feeder = Feeder(self.service.deliveries, queue)  # as `crossdept worker` runs it
        parked = []
        ran = 0
        while ran < limit:
            feeder.feed_once()
            for task in queue.read_schedule(FAR_FUTURE):
                queue.enqueue(task)
            task = queue.dequeue()
            if task is None:
                break
            if not self._due(int(task.args[0])):
                parked.append(task)
                continue
            queue.execute(task, FAR_FUTURE)
            ran += 1
        else:
            raise AssertionError(f"the queue still had jobs after {limit}")
        for task in parked:
            queue.add_schedule(task)
        return ran

    def _due(self, delivery_id: int) -> bool:
        delivery = self.service.deliveries.get(delivery_id)
        if delivery is None or delivery.state != DeliveryState.QUEUED:
            return True  # the worker decides (a duplicate message is simply not claimed)
        return delivery.run_after <= self.clock.time()

    def settle(self, *, rounds: int = 40) -> None:
        """Deliver and process until Jira has nothing to send and no job is waiting.

        When only retries are left, the clock jumps to the earliest one (no sleeping).
        """
        for _ in range(rounds):
            self.deliver()
            if self.drain() or self.sandbox.outbox.pending:
                continue
            waiting = [job for job in self.jobs() if job.state == DeliveryState.QUEUED]
            if not waiting:
                return
            due = min(job.run_after for job in waiting)
            self.clock.advance(max(due - self.clock.time(), 0.0) + 0.01)
        raise AssertionError(f"not settled after {rounds} rounds: {self.jobs()}")

    def jobs(self) -> list[Delivery]:
        """Every delivery the service accepted, oldest first (what `crossdept jobs` lists)."""
        return list(reversed(self.service.deliveries.recent(limit=10_000)))

    # -- what Jira holds now --------------------------------------------------------------------

    def items(self, key: str) -> dict[str, list[str]]:
        """Every issue in Jira that says it belongs to the request's tree: ref -> issue keys.

        Read from the sandbox's own state, so a duplicate shows as a ref with two keys.
        """
        found: dict[str, list[str]] = {}
        for issue in self.sandbox.jira.issues.values():
            mark = issue.properties.get(ITEM_PROPERTY) or {}
            if mark.get("request") == key:
                found.setdefault(str(mark["ref"]), []).append(issue.key)
        return found

    def item_keys(self, key: str) -> dict[str, str]:
        """ref -> the key of the request's item (the first, should a duplicate make two)."""
        return {ref: keys[0] for ref, keys in self.items(key).items()}

    def tree(self, key: str) -> dict[str, dict[str, Any]]:
        """The request's tree as the requester reads it: ref -> fields, from crossdept's record."""
        record = self.requester.issue_property(key, TREE_PROPERTY).raw["value"]
        keys = record["items"]
        found = self.requester.search_issues(
            f"key in ({', '.join(keys.values())})",
            maxResults=len(keys),
            fields="summary,assignee,duedate,parent,issuetype",
        )
        by_key = {issue.key: issue.raw["fields"] for issue in found}
        return {ref: by_key[issue_key] for ref, issue_key in keys.items()}

    def crossdept_comments(self, key: str) -> list[str]:
        """The comments crossdept's account wrote on an issue."""
        found = []
        for comment in self.requester.comments(key):
            author = comment.raw.get("author") or {}
            if self.flavour.crossdept_id in (author.get("accountId"), author.get("name")):
                found.append(str(comment.body))
        return found

    def crossdept_calls(self) -> int:
        """How many Jira calls crossdept's account has made."""
        return sum(1 for call in self.sandbox.calls if call.user == self.flavour.crossdept_id)


def built(make_world: MakeWorld, flavour: str) -> tuple[World, str, dict[str, str]]:
    """A world with one request and its tree: the request's key and ref -> item key."""
    world = make_world(flavour)
    key = world.file_request()
    world.settle()
    return world, key, world.item_keys(key)


def as_person(world: World, login: str) -> jira.JIRA:
    """A Jira client logged in as one of the seed's people (the sandbox checks who, not how)."""
    user = login + "@example.com" if world.flavour.name == "cloud" else login
    return jira.JIRA(
        world.flavour.url,
        basic_auth=(user, "password"),
        max_retries=0,
        options={"check_update": False},
    )


def seed_with_departments(flavour: Flavour, extra: tuple[str, ...]) -> dict[str, Any]:
    """The flavour's seed with more options in the department fields (departments the rules lack)."""
    seed: dict[str, Any] = YAML(typ="safe").load(flavour.seed.read_text(encoding="utf-8"))
    for definition in seed["fields"]:
        if definition["id"] in (REQUESTING_FIELD, DEPARTMENTS_FIELD):
            definition["options"] = list(definition["options"]) + list(extra)
    return seed


MakeWorld = Callable[..., World]


@pytest.fixture(params=list(FLAVOURS))
def flavour(request: pytest.FixtureRequest) -> str:
    """Every end-to-end test runs against the sandbox as Jira Cloud and as Jira Data Center."""
    value: str = request.param
    return value


@pytest.fixture
def make_world(tmp_path: Path, flavour: str) -> Iterator[MakeWorld]:
    """Build a world: `make_world("datacenter", own_account=False, extra_departments=("法务部",))`.

    `own_account=True` tells crossdept its Jira account (CROSSDEPT_JIRA_ACCOUNT_ID), so the web
    edge drops its own events; False makes the worker learn it from /myself and skip them.
    At the end, any request the real API would have refused fails the test.
    """
    with ExitStack() as stack:

        def build(
            name: str = flavour,
            *,
            own_account: bool = True,
            extra_departments: tuple[str, ...] = (),
            groups: bool = False,
        ) -> World:
            kind = FLAVOURS[name]
            clock = SkewClock()
            seed: Any = (
                seed_with_departments(kind, extra_departments) if extra_departments else kind.seed
            )
            sandbox = stack.enter_context(
                installed_sandbox(seed, clock=clock.now, jira_url=kind.url, webhook_secret=SECRET)
            )
            rules = CONFIG / "rules.yaml"
            if kind is DATA_CENTER:
                rules = tmp_path / "rules-dc.yaml"
                rules.write_text(
                    rules_for_data_center(
                        (CONFIG / "rules.yaml").read_text(encoding="utf-8"), load_seed(kind.seed)
                    ),
                    encoding="utf-8",
                )
            robots: dict[str, str] = {}
            if groups:
                text, robots = rules_with_groups(rules.read_text(encoding="utf-8"), sandbox.robots)
                rules = tmp_path / f"rules-{name}-groups.yaml"
                rules.write_text(text, encoding="utf-8")
            environ = {
                **robots,
                "CROSSDEPT_JIRA_URL": kind.url,
                "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
                **kind.crossdept_env,
                "CROSSDEPT_WEBHOOK_SECRET": SECRET,
                "CROSSDEPT_RULES": str(rules),
                "CROSSDEPT_DATA_DIR": str(tmp_path / "data"),
                "CROSSDEPT_QUEUE_URL": "memory://",
                "CROSSDEPT_CONFLUENCE_URL": sandbox.confluence_url or "",
            }
            if own_account:
                environ["CROSSDEPT_JIRA_ACCOUNT_ID"] = kind.crossdept_id
            settings = load_settings(environ)
            service = E2EService(settings)
            service.clock = clock
            service.robot_clock, service.robot_sleep = clock.time, clock.advance
            service.deliveries = Deliveries(service.store, clock=clock.time)
            service.create_tables()
            stack.callback(service.store.dispose)
            worker = service.worker()
            outcomes: list[Outcome] = []
            service.queue.attach(lambda delivery_id: outcomes.append(worker.run(delivery_id)))
            app = create_app(settings, inbox=service.inbox)
            app.testing = True
            requester = jira.JIRA(
                kind.url,
                basic_auth=(kind.requester_login, "requester-password"),
                max_retries=0,
                options={"check_update": False},
            )
            return World(
                flavour=kind,
                sandbox=sandbox,
                service=service,
                client=app.test_client(),
                clock=clock,
                requester=requester,
                outcomes=outcomes,
            )

        yield build
