"""SIGKILL in the middle of the work, and the servers restarted under it: nothing lost, nothing twice.

A worker is killed while it builds a tree, the escalation sweep while it writes its comments, a
worker while it publishes minutes, and a web process in the middle of a burst of webhooks; with
PostgreSQL and Redis, both are restarted during the run (Redis without persistence, so its
queue is lost and the store's recovery must bring every job back). The sandbox answers every
call 20 ms late so there is always work in flight to interrupt.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.scale.cluster import LEASE_S, Backend, Cluster, StartCluster, start_date, wait_for
from tests.scale.people import Storm, file_requests, hold_meetings, now_plus, person

REQUESTS = 40
LATENCY_MS = 20
RESTART_DATABASE = "CROSSDEPT_TEST_RESTART_DATABASE"  # a shell command, set by .ci/run
RESTART_QUEUE = "CROSSDEPT_TEST_RESTART_QUEUE"


@pytest.fixture
def cluster(start_cluster: StartCluster, backend: Backend) -> Cluster:
    restarts = os.environ.get(RESTART_DATABASE) and os.environ.get(RESTART_QUEUE)
    if backend.database_url and not restarts:
        pytest.skip(f"{RESTART_DATABASE} and {RESTART_QUEUE} are not set: cannot restart them")
    return start_cluster(latency_ms=LATENCY_MS, duplicate_share=0.2, reorder=True)


def kill_and_restart_worker(cluster: Cluster, name: str) -> None:
    """SIGKILL, then start a new one once the dead one's leases have run out."""
    cluster.kill(name)
    time.sleep(LEASE_S + 1)
    cluster.start_worker(int(name.removeprefix("worker")))


def assert_nothing_lost_or_twice(cluster: Cluster, storm: Storm) -> None:
    accepted = {r.identifier for r in cluster.sandbox.outbox.results if r.status == 202}
    stored = {job.key for job in cluster.jobs()}
    assert accepted <= stored, "an accepted delivery is not in the store"
    assert not cluster.unfinished(), cluster.unfinished()
    assert not cluster.sandbox.outbox.failed, "Jira gave up on a webhook"
    items = cluster.items_by_request()
    for key in storm.requests:
        found = items.get(key)
        assert found is not None, f"{key} has no tree"
        tree = {ref for ref in found if not ref.startswith("minutes:")}
        assert tree == cluster.planned_refs(key), f"{key}: incomplete tree"
        assert max(found.values()) == 1, f"{key}: an item twice"
    assert not cluster.repeated_comments()
    assert max(cluster.ask_steps().values(), default=1) == 1


def test_killed_workers_and_web_processes_and_restarted_servers_lose_nothing(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    scaled = cluster.backend.database_url is not None
    storm = Storm()
    killed: list[str] = []

    # 1. Trees: a burst of 40 requests; kill a worker that holds one, and a web process.
    file_requests(cluster, REQUESTS, start_date(), storm)
    holding: list[str] = []

    def building_a_tree() -> bool:
        name = cluster.worker_holding(set(storm.requests), event="jira:issue_created")
        holding[:] = [name] if name else []
        return name is not None

    wait_for(building_a_tree, 60, "a worker to build a tree")
    building = holding[0]
    assert len(cluster.items_by_request()) < REQUESTS, "every tree was built before the kill"
    cluster.kill(building)
    cluster.kill("web0")  # the sandbox is sending the own-event burst of the trees
    killed += [building, "web0"]
    cluster.start_web(0)  # meanwhile Jira's retries of what web0 dropped go to web1 or wait
    cluster.wait_healthy(0)
    time.sleep(LEASE_S)
    cluster.start_worker(int(building.removeprefix("worker")))
    if scaled:
        # Running workers must ride out the restarts; one still starting may exit, and its
        # unit (Restart=on-failure) starts it again, which this cluster does not do.
        cluster.wait_worker_started(int(building.removeprefix("worker")))
        cluster.restart_service(RESTART_DATABASE)
        cluster.restart_service(RESTART_QUEUE)
        killed += ["postgresql", "redis"]
    cluster.settle(timeout_s=240)
    assert_nothing_lost_or_twice(cluster, storm)

    # 2. Escalation: every request asks its contact; the sweep is killed half-way through.
    requester = person(cluster, "requester")
    for number, key in enumerate(storm.requests):
        contact = cluster.rules.departments[list(cluster.rules.departments)[1 + number % 3]].contact
        requester.add_comment(key, f"[~accountid:{contact}] 请确认资源安排。")
    cluster.settle(timeout_s=120)
    moment = now_plus(25)
    sweep = cluster.spawn("sweep", "periodic", "sweep_asks", "--now", moment)
    wait_for(lambda: len(cluster.ask_steps()) >= 3, 60, "the sweep to write its first reminders")
    cluster.kill("sweep")
    killed.append("the escalation sweep")
    said_before = len(cluster.ask_steps())
    assert said_before < REQUESTS, "the sweep finished before it could be interrupted"
    # The dead sweep's lease runs out after two minutes; the next sweep then resumes the work.
    later = (datetime.fromisoformat(moment) + timedelta(minutes=3)).isoformat()
    again = cluster.crossdept("periodic", "sweep_asks", "--now", later)
    assert again.returncode == 0, again.stderr
    assert sweep.poll() is not None
    cluster.settle(timeout_s=120)
    assert_nothing_lost_or_twice(cluster, storm)
    assert len(cluster.ask_steps()) == REQUESTS  # one reminder per ask, none twice

    # 3. Minutes: five meetings held at once; a worker is killed while it publishes one.
    five = Storm(requests=storm.requests[:5])
    hold_meetings(cluster, five, datetime.now(UTC) + timedelta(days=4), every=1)
    meetings = set(five.meetings)
    publisher: list[str] = []

    def publishing() -> bool:
        name = cluster.worker_holding(meetings, event="jira:issue_updated")
        publisher[:] = [name] if name else []
        return name is not None

    wait_for(publishing, 60, "a worker to publish minutes")
    killed.append(f"{publisher[0]} (publishing minutes)")
    kill_and_restart_worker(cluster, publisher[0])
    cluster.settle(timeout_s=240)
    assert_nothing_lost_or_twice(cluster, storm)
    assert len(cluster.page_titles("会议纪要")) == len(meetings) + 1  # and their parent page
    actions = sum(
        1
        for found in cluster.items_by_request().values()
        for ref in found
        if ref.startswith("minutes:")
    )
    assert actions == 2 * len(meetings)
    counted = (
        f"\n{cluster.backend.name}: killed {', '.join(killed)}; "
        f"{len(cluster.jobs())} deliveries all done, {REQUESTS} trees complete, "
        f"{len(cluster.ask_steps())} ask steps once each, {len(meetings)} minutes pages, "
        f"{actions} action items"
    )
    with capsys.disabled():  # shown in every run, CI's too
        print(counted)
