"""Send a message through a named group robot: one pace per robot shared by every worker, the
platform's answer read into sent, wait-and-retry, or refused.

A robot's address carries its key or token, so no error, log line or job row ever shows it: the
gateway names the channel instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from plugin.groups.robots import (
    PER_MINUTE,
    GroupMessage,
    Kind,
    Robot,
    RobotAnswer,
    answer_of,
    request_for,
)
from plugin.spine.budget import MAX_INLINE_WAIT, RequestBudget
from plugin.spine.errors import GatewayError, NotYetError, RefusedError, TransientGatewayError
from plugin.spine.store import Store

TIMEOUT_SECONDS = 10.0


class MaybeSentError(GatewayError):
    """The robot took the message but never answered: it may have reached the group, so it is
    not sent again (a group reads a message twice more surely than it misses one)."""


class SlotMissedError(NotYetError):
    """The job came back too long after its booked slot: book another rather than post late.

    Posts then fall within their slot's gap, so no 60 seconds hold more than the limit (slots
    are (limit - 1) a minute apart and each post is under one gap late)."""


LATE_SHARE = 0.9  # of the gap between slots, how late a booked post may still go


def pace_of(per_minute: int) -> float:
    """Messages a second so that no 60 seconds, ends included, hold more than `per_minute`."""
    return (per_minute - 1) / 60.0 if per_minute > 1 else 1 / 120.0


def budget_site(channel: str) -> str:
    """The budget row that paces one robot (shared with Jira's table, apart by name)."""
    return f"robot:{channel}"


def never_sent(error: requests.RequestException) -> bool:
    """Whether a failed POST surely never left: no connection was made. Anything later (a reset,
    a read timeout) may come after the robot took the message."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError):
        return False
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


class RobotGateway:
    """The group robots named in the rules file, by channel name, with their addresses."""

    def __init__(
        self,
        robots: Mapping[str, Robot],
        store: Store,
        *,
        per_minute: Mapping[str, int] | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.robots = dict(robots)
        self.store = store
        self.per_minute = dict(per_minute or {})
        self.session = session or requests.Session()
        self.clock = clock
        self.sleep = sleep

    def kind_of(self, channel: str) -> Kind | None:
        """The channel's platform, or None when its address is not set."""
        robot = self.robots.get(channel)
        return robot.kind if robot else None

    def budget(self, channel: str, robot: Robot) -> RequestBudget:
        """The pace this robot keeps, across every worker (its platform's limit unless set)."""
        limit = self.per_minute.get(channel) or PER_MINUTE[robot.kind]
        return RequestBudget(
            self.store, budget_site(channel), pace_of(limit), clock=self.clock, sleep=self.sleep
        )

    def reserve(self, channel: str) -> float:
        """Book the robot's next free slot for one message; returns when it starts."""
        robot = self._robot(channel)
        return self.budget(channel, robot).reserve()

    def send(
        self, channel: str, message: GroupMessage, *, slot: float | None = None
    ) -> RobotAnswer:
        """Post `message` to the channel's group, in its booked `slot` (else the next free one).

        Raises NotYetError (the slot is not near yet), TransientGatewayError, RefusedError, or
        MaybeSentError."""
        robot = self._robot(channel)
        budget = self.budget(channel, robot)
        if slot is None:
            budget.take()  # NotYetError when the slot is far off: the job comes back then
        else:
            wait = slot - self.clock()
            if -wait >= LATE_SHARE * budget.interval:
                # Come back this late and posts bunch up; a slot is only good within its gap.
                raise SlotMissedError(
                    f"the robot of channel {channel} missed its booked slot by {-wait:.1f} s",
                    retry_after=0.0,
                )
            if wait > MAX_INLINE_WAIT:
                raise NotYetError(
                    f"the robot of channel {channel} has a message booked in {wait:.1f} s",
                    retry_after=wait,
                )
            if wait > 0:
                self.sleep(wait)
        return self._post(channel, robot, budget, message)

    def _robot(self, channel: str) -> Robot:
        robot = self.robots.get(channel)
        if robot is None:
            raise RefusedError(
                f"group channel {channel} is not set up: its robot's address or signing secret "
                "is missing from the environment (the CROSSDEPT_ROBOT_ variables the rules "
                "file names)",
                400,
            )
        return robot

    def _post(
        self, channel: str, robot: Robot, budget: RequestBudget, message: GroupMessage
    ) -> RobotAnswer:
        request = request_for(robot, message, int(self.clock() * 1000))
        what = f"{robot.kind} robot of channel {channel}"
        try:
            response = self.session.post(request.url, json=request.body, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as error:
            # Never the exception's text: it quotes the address, key and all.
            if never_sent(error):
                raise TransientGatewayError(f"the {what} could not be reached") from None
            raise MaybeSentError(f"the {what} took the message and did not answer") from None
        answer = answer_of(robot.kind, response.status_code, response.text)
        if answer.outcome == "sent":
            return answer
        said = f"{answer.code}: {answer.said}".strip(": ")
        if answer.outcome == "over_limit":
            wait = answer.wait_s or 60.0
            budget.hold_off(wait, slow_down=True)
            raise TransientGatewayError(
                f"the {what} is over its limit ({said})", retry_after=wait, status=429
            )
        if answer.outcome == "busy":
            raise TransientGatewayError(f"the {what} is busy ({said})", status=response.status_code)
        raise RefusedError(f"the {what} refused the message", response.status_code, messages=[said])
