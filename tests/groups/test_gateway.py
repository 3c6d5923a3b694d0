"""The gateway against the sandbox's robots: paced per robot, signed, refusals told apart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from plugin.groups.gateway import (
    MaybeSentError,
    RobotGateway,
    SlotMissedError,
    never_sent,
    pace_of,
)
from plugin.groups.robots import GroupMessage, Mention, Robot
from plugin.spine.errors import NotYetError, RefusedError, TransientGatewayError
from plugin.spine.store import Store
from sandbox.app import ManualClock, Sandbox, installed_sandbox
from sandbox.seed import SEEDS

HEAD = Mention("王工", mobile="13800000001")
MESSAGE = GroupMessage(
    "升级：XD-7", ("48 小时未答复",), "https://jira.example/browse/XD-7", "XD-7", (HEAD,)
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[Sandbox]:
    with installed_sandbox(SEEDS["cloud"], clock=clock) as found:
        yield found


def gateway_for(
    sandbox: Sandbox, store: Store, clock: ManualClock, robots: dict[str, Robot]
) -> RobotGateway:
    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    return RobotGateway(robots, store, clock=lambda: clock().timestamp(), sleep=sleep)


def test_a_signed_message_reaches_the_dingtalk_group_with_the_head_called_on(
    sandbox: Sandbox, sqlite_store: Store, clock: ManualClock
) -> None:
    url = sandbox.robots.add("dingtalk", "技术部群", secret="SECtech")
    gateway = gateway_for(sandbox, sqlite_store, clock, {"tech": Robot("dingtalk", url, "SECtech")})

    gateway.send("tech", MESSAGE)

    [post] = sandbox.robots.received("技术部群")
    assert post.mobiles == ("13800000001",) and "@13800000001" in post.text
    assert "升级：XD-7" in post.text


def test_a_wrong_secret_is_a_refusal_that_names_the_channel_never_the_address(
    sandbox: Sandbox, sqlite_store: Store, clock: ManualClock
) -> None:
    url = sandbox.robots.add("dingtalk", "技术部群", secret="SECtech")
    gateway = gateway_for(sandbox, sqlite_store, clock, {"tech": Robot("dingtalk", url, "SECold")})

    with pytest.raises(RefusedError) as refused:
        gateway.send("tech", MESSAGE)

    said = f"{refused.value} {refused.value.reason()}"
    assert "channel tech" in said and "310000" in said
    assert url.split("=")[1] not in said  # the token is a secret
    assert sandbox.robots.received("技术部群") == []


def test_an_unset_address_is_a_refusal(
    sandbox: Sandbox, sqlite_store: Store, clock: ManualClock
) -> None:
    with pytest.raises(RefusedError, match="not set"):
        gateway_for(sandbox, sqlite_store, clock, {}).send("tech", MESSAGE)


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_each_robot_is_paced_under_its_limit_across_gateways(
    sandbox: Sandbox, sqlite_store: Store, clock: ManualClock, kind: str
) -> None:
    secret = None if kind == "wecom" else "SEC1"
    url = sandbox.robots.add(kind, "群", secret=secret)
    robots = {"group": Robot(kind, url, secret)}  # type: ignore[arg-type]
    # Two workers' gateways, one store: the pace is the robot's, not each worker's.
    first, second = (gateway_for(sandbox, sqlite_store, clock, robots) for _ in range(2))
    sent = 0
    while sent < 45:
        try:
            (first if sent % 2 else second).send("group", MESSAGE)
            sent += 1
        except NotYetError as wait:
            clock.advance(seconds=wait.retry_after or 1.0)
    posts = [post.at for post in sandbox.robots.received("群")]
    assert len(posts) == 45 and sandbox.robots.refusals == []
    limit = {"wecom": 20, "dingtalk": 20, "feishu": 100}[kind]
    for start in posts:
        assert sum(1 for at in posts if start <= at <= start + 60) <= limit
    assert posts[-1] - posts[0] >= 44 / pace_of(limit) - 0.01  # waited in the worker or the queue


def test_an_over_limit_answer_holds_the_robot_and_asks_for_a_retry(
    sandbox: Sandbox, sqlite_store: Store, clock: ManualClock
) -> None:
    url = sandbox.robots.add("dingtalk", "群", secret="S")
    seat = next(iter(sandbox.robots.seats.values()))
    seat.held_until = clock().timestamp() + 600  # someone else's burst got it held
    gateway = gateway_for(sandbox, sqlite_store, clock, {"g": Robot("dingtalk", url, "S")})

    with pytest.raises(TransientGatewayError) as limited:
        gateway.send("g", MESSAGE)
    assert limited.value.retry_after == 600.0 and limited.value.rate_limited
    with pytest.raises(NotYetError):
        gateway.send("g", MESSAGE)  # held here too: no call reaches the robot
    assert len(sandbox.robots.refusals) == 1
    clock.advance(timedelta(seconds=601))
    gateway.send("g", MESSAGE)
    assert len(sandbox.robots.received("群")) == 1


def test_only_a_connection_never_made_is_surely_unsent() -> None:
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    refused = requests.ConnectionError(
        MaxRetryError(None, "/robot/send", NewConnectionError(None, "refused"))  # type: ignore[arg-type]
    )
    assert never_sent(refused)
    assert never_sent(requests.ConnectTimeout())
    assert not never_sent(requests.ReadTimeout())
    assert not never_sent(requests.ConnectionError("Connection aborted."))


def test_a_robot_that_takes_the_message_and_never_answers_is_not_sent_to_again(
    sqlite_store: Store, clock: ManualClock
) -> None:
    class Silent(requests.Session):
        def post(self, *_args: object, **_kwargs: object) -> requests.Response:
            raise requests.ReadTimeout("read timed out")

    robots = {"g": Robot("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")}
    gateway = RobotGateway(
        robots, sqlite_store, session=Silent(), clock=lambda: clock().timestamp()
    )
    with pytest.raises(MaybeSentError):
        gateway.send("g", MESSAGE)


def test_the_pace_keeps_any_minute_at_or_under_the_limit() -> None:
    gap = 1 / pace_of(20)
    assert 19 * gap <= 60.0 + 1e-9 < 20 * gap  # 20 slots fit a closed minute, 21 do not


def test_a_booked_slot_is_waited_for_and_a_missed_one_is_not_used(
    sandbox: Sandbox, sqlite_store: Store, clock: ManualClock
) -> None:
    url = sandbox.robots.add("wecom", "群")
    gateway = gateway_for(sandbox, sqlite_store, clock, {"g": Robot("wecom", url)})
    first, second = gateway.reserve("g"), gateway.reserve("g")
    assert second - first == pytest.approx(1 / pace_of(20))  # booked in turn, a gap apart

    with pytest.raises(NotYetError):
        gateway.send("g", MESSAGE, slot=second)  # three seconds off: the job comes back
    gateway.send("g", MESSAGE, slot=first)
    clock.advance(seconds=(second - clock().timestamp()) + 1 / pace_of(20))  # back a gap late
    with pytest.raises(SlotMissedError):
        gateway.send("g", MESSAGE, slot=second)
    assert len(sandbox.robots.received("群")) == 1


def test_the_served_sandbox_answers_robots_on_its_own_address(sqlite_store: Store) -> None:
    from sandbox.app import system_clock
    from sandbox.server import SandboxServer

    served = Sandbox.from_seed(SEEDS["datacenter"], clock=system_clock)
    with SandboxServer(served, "127.0.0.1", 0) as server:
        url = served.robots.add("feishu", "群", secret="s", origin=server.url)
        assert url.startswith(server.url + "/open-apis/bot/v2/hook/")
        RobotGateway({"g": Robot("feishu", url, "s")}, sqlite_store).send("g", MESSAGE)
    [post] = served.robots.received("群")
    assert post.kind == "feishu" and "升级：XD-7" in post.text


def test_feishu_refuses_a_wrong_signature_and_a_stale_one(
    sandbox: Sandbox, sqlite_store: Store, clock: ManualClock
) -> None:
    url = sandbox.robots.add("feishu", "群", secret="right")
    wrong = gateway_for(sandbox, sqlite_store, clock, {"g": Robot("feishu", url, "wrong")})
    with pytest.raises(RefusedError) as refused:
        wrong.send("g", MESSAGE)
    assert refused.value.messages[0].startswith("19021")

    def two_hours_slow() -> float:
        return clock().timestamp() - 7200

    # Another channel for the same robot: its own pace row, read on the slow clock.
    stale = RobotGateway({"h": Robot("feishu", url, "right")}, sqlite_store, clock=two_hours_slow)
    with pytest.raises(RefusedError, match="refused"):
        stale.send("h", MESSAGE)
    assert sandbox.robots.received("群") == []
