"""Plain request and response values, so the fakes run behind `responses` and a WSGI server alike."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SandboxRequest:
    """One HTTP request as the sandbox sees it, already authenticated."""

    method: str
    path: str  # without the query string, e.g. "/rest/api/2/issue/XD-1"
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    user: str | None = None  # accountId (Cloud) or username (Data Center) of the caller

    def json(self) -> Any:
        """Decode the body as JSON; an empty body is None."""
        if not self.body:
            return None
        return json.loads(self.body)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class SandboxResponse:
    """One HTTP response; `body` is serialised as JSON unless it is bytes."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def content(self) -> bytes:
        """Serialise the body the way the real services do."""
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


class ApiError(Exception):
    """A refusal shaped like Jira's: `{"errorMessages": [...], "errors": {...}}`."""

    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {messages or ''} {errors or ''}")
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}
        self.headers = headers or {}

    def response(self) -> SandboxResponse:
        """Render the refusal as Jira renders it."""
        body = {"errorMessages": self.messages, "errors": self.errors}
        return SandboxResponse(self.status, body, dict(self.headers))
