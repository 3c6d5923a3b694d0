"""Fixtures: a Cloud and a Data Center sandbox behind `responses`, and real jira.JIRA clients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import jira
import pytest
import responses

from sandbox.app import ManualClock, Sandbox, assert_no_violations
from sandbox.seed import SEEDS

CONFIG = Path(__file__).resolve().parents[2] / "config"
CLOUD_SEED = SEEDS["cloud"]
DC_SEED = SEEDS["datacenter"]
CLOUD_URL = "https://crossdept-sandbox.atlassian.net"
DC_URL = "https://jira.sandbox.example.com"
CROSSDEPT_ACCOUNT = "557058:00000000-0000-4000-8000-0000000000aa"
PM_ACCOUNT = "557058:00000000-0000-4000-8000-000000000009"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 22, 2, 4, 41, 747000, tzinfo=UTC))


def _installed(seed: Path, url: str, clock: ManualClock) -> Iterator[Sandbox]:
    sandbox = Sandbox.from_seed(seed, clock=clock, webhook_secret="s3cret")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sandbox.install(rsps, jira_url=url)
        yield sandbox
    # Any request the real API would refuse fails the test that sent it.
    assert_no_violations(sandbox)


@pytest.fixture
def cloud(clock: ManualClock) -> Iterator[Sandbox]:
    yield from _installed(CLOUD_SEED, CLOUD_URL, clock)


@pytest.fixture
def dc(clock: ManualClock) -> Iterator[Sandbox]:
    yield from _installed(DC_SEED, DC_URL, clock)


@pytest.fixture
def cloud_jira(cloud: Sandbox) -> jira.JIRA:
    return jira.JIRA(CLOUD_URL, basic_auth=("crossdept@example.com", "api-token"), max_retries=0)


@pytest.fixture
def dc_jira(dc: Sandbox) -> jira.JIRA:
    return jira.JIRA(DC_URL, token_auth="sandbox-pat-crossdept", max_retries=0)
