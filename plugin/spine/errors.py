"""One exception tree for crossdept, mapped to HTTP statuses and retries once, at the edges."""

from __future__ import annotations

from collections.abc import Sequence


class CrossdeptError(Exception):
    """Base of every error crossdept raises on purpose."""


class SettingsError(CrossdeptError):
    """A missing or contradictory setting; the message is one sentence naming the variable."""


class ConfigError(CrossdeptError):
    """The rules file is invalid; `problems` holds one `FILE:LINE: path: message` line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class EventError(CrossdeptError):
    """A webhook delivery we refuse; `status` is the HTTP answer and `reason` goes in its JSON."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureError(EventError):
    """The delivery is not signed with our secret (or not signed at all)."""

    status = 401


class PayloadError(EventError):
    """The body is not JSON, or not a Jira event."""

    status = 400


class StaleDeliveryError(EventError):
    """The delivery's own timestamp is older than crossdept accepts: a replay, not a retry."""

    status = 400


class PayloadTooLargeError(EventError):
    """The body is over the configured size limit."""

    status = 413


class GatewayError(CrossdeptError):
    """Jira or Confluence did not do what we asked."""


class TransientGatewayError(GatewayError):
    """Worth retrying later: network failure, 5xx, 429; `retry_after` in seconds when the server said."""

    def __init__(
        self, message: str, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status  # the HTTP status, or None when no answer came back

    @property
    def rate_limited(self) -> bool:
        """Say whether the server turned the request away unread (429), so it did nothing."""
        return self.status == 429


class NotYetError(TransientGatewayError):
    """Nothing failed: the work waits its turn (another worker holds it, or the shared request
    budget is spent) and comes back at `retry_after`, without using up one of its attempts.

    `booked`: the work holds a booked moment (a group robot's slot), so it comes back exactly
    then, without the jitter that spreads callers who would otherwise all return together."""

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        status: int | None = None,
        *,
        booked: bool = False,
    ) -> None:
        super().__init__(message, retry_after, status)
        self.booked = booked


def uses_an_attempt(error: TransientGatewayError) -> bool:
    """Whether a transient error counts against a job's attempts: not when it only had to wait.

    A 429 means Jira turned the call away unread; waiting for Retry-After is the protocol, not
    a failure, so a job is never given up because Jira was busy.
    """
    return not (isinstance(error, NotYetError) or error.rate_limited)


class RefusedError(GatewayError):
    """Jira or Confluence refused the request for good (4xx): retrying the same request won't help."""

    def __init__(
        self,
        message: str,
        status: int,
        messages: Sequence[str] = (),
        errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.messages = list(messages)
        self.errors = dict(errors or {})

    def reason(self) -> str:
        """Say what Jira said, for the log and for a comment people will read."""
        parts = list(self.messages) + [f"{field}: {text}" for field, text in self.errors.items()]
        return "; ".join(parts) or str(self)


class RequestProblemError(CrossdeptError):
    """The collaboration request itself is wrong (unknown department, missing field): tell its reporter."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)
