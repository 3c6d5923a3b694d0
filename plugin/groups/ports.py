"""What the rules need of the group robots, so a test can stand in for them."""

from __future__ import annotations

from typing import Protocol

from plugin.groups.robots import GroupMessage, Kind


class GroupsPort(Protocol):
    """Send a message to a named channel's group (plugin.groups.gateway.RobotGateway)."""

    def reserve(self, channel: str) -> float:
        """Book the channel's robot's next free slot; returns when it starts (Unix seconds)."""
        ...

    def send(self, channel: str, message: GroupMessage, *, slot: float | None = None) -> object:
        """Post it in its booked slot; raise NotYetError, TransientGatewayError, RefusedError
        or MaybeSentError."""
        ...

    def kind_of(self, channel: str) -> Kind | None:
        """The channel's platform, or None when its address is not set."""
        ...
