"""Bad-day switches: latency, burst 429, per-issue write 429, bursts of 5xx."""

from __future__ import annotations

import time

import jira
import pytest
import requests

from sandbox.app import ManualClock, Sandbox

from .conftest import CLOUD_URL

API = CLOUD_URL + "/rest/api/2"
AUTH = ("crossdept@example.com", "api-token")


def test_burst_limit_answers_429_with_retry_after_until_the_window_passes(
    cloud: Sandbox, clock: ManualClock
) -> None:
    cloud.bad_day.rate_limit = 3
    statuses = [requests.get(f"{API}/myself", auth=AUTH).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = requests.get(f"{API}/myself", auth=AUTH)
    assert limited.headers["Retry-After"] == "1"
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
    clock.advance(seconds=1)
    assert requests.get(f"{API}/myself", auth=AUTH).status_code == 200


def test_the_jira_client_sees_the_429(cloud_jira: jira.JIRA, cloud: Sandbox) -> None:
    cloud.bad_day.rate_limit = 1
    cloud_jira.myself()
    with pytest.raises(jira.JIRAError) as limited:
        cloud_jira.myself()
    assert limited.value.status_code == 429


def test_per_issue_write_limit_only_slows_that_issue(
    cloud_jira: jira.JIRA, cloud: Sandbox, clock: ManualClock
) -> None:
    first = cloud_jira.create_issue(
        fields={"project": {"key": "XD"}, "issuetype": {"name": "Task"}, "summary": "a"}
    )
    second = cloud_jira.create_issue(
        fields={"project": {"key": "XD"}, "issuetype": {"name": "Task"}, "summary": "b"}
    )
    cloud.bad_day.per_issue_write_limit = 2

    def put(key: str) -> requests.Response:
        return requests.put(f"{API}/issue/{key}", json={"fields": {"summary": "x"}}, auth=AUTH)

    assert [put(first.key).status_code for _ in range(3)] == [204, 204, 429]
    limited = put(first.key)
    assert limited.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
    assert int(limited.headers["Retry-After"]) >= 1
    assert put(second.key).status_code == 204
    assert requests.get(f"{API}/issue/{first.key}", auth=AUTH).status_code == 200
    clock.advance(seconds=2)
    assert put(first.key).status_code == 204


def test_fail_next_gives_a_burst_of_server_errors(cloud: Sandbox) -> None:
    cloud.fail_next(2, status=503)
    statuses = [requests.get(f"{API}/myself", auth=AUTH).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    cloud.fail_next(1, status=500)
    assert requests.get(f"{API}/myself", auth=AUTH).status_code == 500


def test_latency_is_applied_to_every_call(cloud: Sandbox) -> None:
    slept: list[float] = []
    cloud.sleep = slept.append
    cloud.bad_day.latency_ms = 250
    requests.get(f"{API}/myself", auth=AUTH)
    requests.get(f"{API}/field", auth=AUTH)
    assert slept == [0.25, 0.25]


def test_latency_really_delays_with_the_default_sleep(cloud: Sandbox) -> None:
    cloud.bad_day.latency_ms = 50
    started = time.perf_counter()
    requests.get(f"{API}/myself", auth=AUTH)
    assert time.perf_counter() - started >= 0.05
