"""Jira on a bad day, through 2 web and 3 worker processes: 429s, bursts of 5xx, a refusal.

All workers share one request budget (CROSSDEPT_JIRA_MAX_RPS) through the store, so three of them
stay under Jira's burst limit; when Jira answers 429 anyway, nobody calls before its Retry-After;
a burst of 5xx delays the jobs it hits while the others keep moving; only a refusal ends as
failed, listed by `crossdept jobs --failed` and run again by `crossdept retry ID`.
"""

from __future__ import annotations

import json
import time

import pytest

from plugin.spine.deliveries import DeliveryState
from sandbox.app import RecordedCall
from tests.scale.cluster import Cluster, StartCluster, start_date, wait_for
from tests.scale.people import Storm, file_requests

BUDGET_RPS = 12  # crossdept's budget, all workers together
# The sandbox's 429 threshold per second: above the budget with room for calls a slow, shared
# machine delivers bunched (one CI run sent more than 16 in a second at 12/s); three without the
# shared budget go far past it.
JIRA_BURST_LIMIT = 20
BUSY_JIRA_LIMIT = 3  # later, Jira gets busy: far below the budget, so it answers 429s


@pytest.fixture
def cluster(start_cluster: StartCluster) -> Cluster:
    def budgeted(cluster: Cluster) -> None:
        cluster.environment["CROSSDEPT_JIRA_MAX_RPS"] = str(BUDGET_RPS)
        cluster.sandbox.bad_day.rate_limit = JIRA_BURST_LIMIT

    return start_cluster(configure=budgeted)


def crossdept_calls(cluster: Cluster, since: float = 0.0) -> list[RecordedCall]:
    with cluster.server.lock:
        return [
            call
            for call in cluster.sandbox.calls
            if call.user == cluster.crossdept_account and call.at >= since and call.api == "jira"
        ]


def busiest_second(calls: list[RecordedCall]) -> int:
    """The most calls answered within any one second."""
    moments = sorted(call.at for call in calls)
    most, first = 0, 0
    for last, moment in enumerate(moments):
        while moments[first] <= moment - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def calls_inside_retry_after(calls: list[RecordedCall], grace_s: float = 0.5) -> list[str]:
    """Calls answered while an earlier 429's Retry-After still ran (after a grace for calls that
    were already on their way when the 429 was answered)."""
    early = []
    for refused in calls:
        if refused.status != 429 or refused.retry_after is None:
            continue
        until = refused.at + float(refused.retry_after)
        for call in calls:
            if refused.at + grace_s < call.at < until:
                early.append(f"{call.method} {call.path} {call.at - refused.at:.2f} s after a 429")
    return early


def test_three_workers_on_a_bad_jira_day_finish_everything_within_one_budget(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    crossdept = cluster.crossdept_account
    storm = Storm()

    # 1. Three workers share one budget under Jira's burst limit: no 429 at all.
    file_requests(cluster, 20, start_date(), storm)
    cluster.settle(timeout_s=240)
    calls = crossdept_calls(cluster)
    first_429s = sum(1 for call in calls if call.status == 429)
    busiest = busiest_second(calls)
    # Slots are 1/12 s apart when taken; on a busy machine calls can still arrive bunched, so
    # what is asserted is what Jira sees: never over its limit.
    assert first_429s == 0, "the shared budget let the workers past Jira's burst limit"
    assert busiest <= JIRA_BURST_LIMIT

    # 2. Jira gets busy and answers 429: nobody calls inside a Retry-After, and all work ends.
    cluster.sandbox.bad_day.rate_limit = BUSY_JIRA_LIMIT
    busy_since = time.time()
    file_requests(cluster, 6, start_date(), storm)
    cluster.settle(timeout_s=300)
    cluster.sandbox.bad_day.rate_limit = JIRA_BURST_LIMIT
    busy_calls = crossdept_calls(cluster, since=busy_since)
    refused_429 = sum(1 for call in busy_calls if call.status == 429)
    early = calls_inside_retry_after(busy_calls)
    assert refused_429 > 0, "Jira never got busy: the test proves nothing"
    assert early == []
    assert not cluster.unfinished()

    # 3. A burst of 5xx hits some jobs; jobs filed after it finish while those wait to retry.
    # It hits the jobs' reads of their issues (a periodic search taking it would delay no job),
    # three times each, so their next retry is 10-20 s away while the later trees are built.
    cluster.sandbox.fail_next(12, 503, user=crossdept, request="GET /rest/api/2/issue/")
    hit = Storm()
    file_requests(cluster, 4, start_date(), hit)
    wait_for(lambda: cluster.sandbox.failures_left == 0, 60, "the burst of 503s")
    later = Storm()
    file_requests(cluster, 4, start_date(), later)
    items = wait_for(
        lambda: all(key in cluster.items_by_request() for key in later.requests),
        60,
        "the later requests' trees",
    )
    waiting = [
        job
        for job in cluster.jobs()
        if job.state == DeliveryState.QUEUED and "503" in (job.last_error or "")
    ]
    assert waiting, "no job was still waiting for its retry when the later ones finished"
    cluster.settle(timeout_s=240)
    assert not cluster.unfinished()

    # 4. A refusal for good: failed, listed, and done after `crossdept retry ID`.
    # Only a job's own read of its issue is refused, for the same reason.
    cluster.sandbox.fail_next(1, 403, user=crossdept, request="GET /rest/api/2/issue/")
    refused = Storm()
    file_requests(cluster, 1, start_date(), refused)
    cluster.settle(timeout_s=120)
    failed = [job for job in cluster.jobs() if job.state == DeliveryState.FAILED]
    assert len(failed) == 1 and "403" in (failed[0].last_error or "")
    listed = cluster.crossdept("jobs", "--failed", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["id"] for row in json.loads(listed.stdout)] == [failed[0].id]
    again = cluster.crossdept("retry", str(failed[0].id))
    assert again.returncode == 0, again.stderr
    cluster.settle(timeout_s=120)
    assert not cluster.unfinished()

    everyone = storm.requests + hit.requests + later.requests + refused.requests
    cluster.sandbox.bad_day.rate_limit = None  # the test's own reads below
    built = cluster.items_by_request()
    for key in everyone:
        assert set(built[key]) == cluster.planned_refs(key), key
        assert max(built[key].values()) == 1, key
    assert not cluster.repeated_comments()
    counted = (
        f"\n{cluster.backend.name}: {len(everyone)} trees complete; budget {BUDGET_RPS}/s, "
        f"busiest second {busiest} calls, 429s {first_429s}; Jira busy: {refused_429} 429s, "
        f"0 calls inside a Retry-After; 5xx burst: {len(waiting)} jobs waited while "
        f"{len(later.requests)} later trees were built in {items:.1f} s; refusal: failed, listed, "
        f"retried, done"
    )
    with capsys.disabled():  # shown in every run, CI's too
        print(counted)
