"""The sandbox as one object: authentication, spec checking, bad-day switches, routing, webhooks.

`Sandbox.handle(method, url, headers, body)` is the single entry point; `install` puts it behind
`responses` for in-process tests and `sandbox.server.serve` behind a WSGI server.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs, urlsplit

from sandbox.http import ApiError, SandboxRequest, SandboxResponse
from sandbox.jira import JiraFake, format_timestamp
from sandbox.robots import ORIGINS as ROBOT_ORIGINS
from sandbox.robots import GroupRobots
from sandbox.seed import Seed, load_seed
from sandbox.webhooks import Deliver, DeliveryResult, WebhookOutbox

Api = Literal["jira", "confluence"]
DEFAULT_CLOUD_JIRA_URL = "https://crossdept-sandbox.atlassian.net"
DEFAULT_DC_JIRA_URL = "https://jira.sandbox.example.com"
DEFAULT_DC_CONFLUENCE_URL = "https://confluence.sandbox.example.com"
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
_ISSUE_WRITE = re.compile(r"/rest/api/(?:2|3|latest)/issue/([^/]+)(?:/.*)?")
_NOT_AN_ISSUE = {"bulk", "createmeta", "properties", "picker", "bulkfetch", "archive", "unarchive"}


class Handler(Protocol):
    """Anything that answers sandbox requests (the Jira and Confluence fakes)."""

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Answer one authenticated request."""
        ...


class ManualClock:
    """A clock that only moves when told to; the demo and tests drive time with it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
        if self.current.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        """Move forward by a timedelta or keyword units (hours=48) and return the new time."""
        self.current += (delta or timedelta()) + timedelta(**units)
        return self.current


def system_clock() -> datetime:
    """The real time, aware."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Violation:
    """A request the official API description says the real service would refuse."""

    api: str
    method: str
    path: str
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.method} {self.path}: " + "; ".join(self.reasons)


@dataclass(frozen=True)
class RecordedCall:
    """One request the sandbox answered, for tests that count calls."""

    api: str
    method: str
    path: str
    status: int
    user: str | None
    at: float = 0.0  # when it was answered (Unix seconds), to check waits across callers
    retry_after: str | None = None  # the Retry-After the answer carried, if any


@dataclass
class BadDay:
    """Switches that make the sandbox behave like Jira on a bad day."""

    latency_ms: int = 0
    rate_limit: int | None = None  # requests per second across the site (burst limit)
    per_issue_write_limit: int | None = None  # writes to one issue per window
    per_issue_window_seconds: float = 2.0


@dataclass
class _Failures:
    remaining: int = 0
    status: int = 503
    user: str | None = None  # only this caller's requests fail; None: anyone's
    request: str | None = None  # only requests starting "METHOD /path" fail; None: any

    def hits(self, user: str | None, method: str, path: str) -> bool:
        """Whether this request is one of those to fail."""
        return (
            self.remaining > 0
            and self.user in (None, user)
            and (self.request is None or f"{method} {path}".startswith(self.request))
        )


def _load_spec_checker() -> Callable[..., list[str]] | None:
    try:
        from sandbox.openapi import check_request
    except ImportError:
        return None
    return check_request


class Sandbox:
    """A stateful stand-in for Jira (+ Confluence) behind `responses` or a WSGI server."""

    def __init__(
        self,
        seed: Seed,
        *,
        clock: Callable[[], datetime] | None = None,
        jira_url: str | None = None,
        confluence_url: str | None = None,
        webhook_secret: str | None = None,
        check_spec: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        rng_seed: int = 0,
    ) -> None:
        self.seed = seed
        self.clock = clock or system_clock
        self.sleep = sleep
        self.bad_day = BadDay()
        self.violations: list[Violation] = []
        self.calls: list[RecordedCall] = []
        self.outbox = WebhookOutbox(
            secret=webhook_secret, events=frozenset(seed.webhook_events), rng_seed=rng_seed
        )
        self._failures = _Failures()
        self._recent: deque[float] = deque()
        self._issue_writes: dict[int, deque[float]] = {}
        self._check = _load_spec_checker() if check_spec else None
        self.jira = JiraFake(
            seed, now=self._now, base_url="http://localhost", emit=self.outbox.enqueue
        )
        self.confluence: Handler | None = self._make_confluence()
        self.robots = GroupRobots(self._now)  # the WeCom, DingTalk and Feishu group robots
        self.jira_url = ""
        self.confluence_url: str | None = None
        self.set_urls(jira_url, confluence_url)

    @classmethod
    def from_seed(
        cls,
        source: str | Path | Mapping[str, Any],
        *,
        clock: Callable[[], datetime] | None = None,
        **options: Any,
    ) -> Sandbox:
        """Build a sandbox from a seed file path or a seed mapping."""
        return cls(load_seed(source), clock=clock, **options)

    def _now(self) -> datetime:
        return self.clock()

    def _make_confluence(self) -> Handler | None:
        try:
            from sandbox.confluence import ConfluenceFake
        except ImportError:
            return None
        users = {
            u.login: {
                "login": u.login,
                "name": u.login,
                "username": u.login,
                "key": u.user_key,
                "accountId": u.account_id,
                "account_id": u.account_id,
                "displayName": u.display_name,
                "display_name": u.display_name,
                "email": u.email,
                "emailAddress": u.email,
            }
            for u in self.seed.users
        }
        fake: Handler = ConfluenceFake(
            self.seed.confluence_spaces, self._now, users, self.seed.confluence_groups
        )
        return fake

    # ------------------------------------------------------------------ configuration

    def set_urls(self, jira_url: str | None, confluence_url: str | None = None) -> None:
        """Choose the base URLs the sandbox answers on (and renders in `self` links)."""
        cloud = self.seed.is_cloud
        self.jira_url = (
            jira_url or (DEFAULT_CLOUD_JIRA_URL if cloud else DEFAULT_DC_JIRA_URL)
        ).rstrip("/")
        if confluence_url is None:
            confluence_url = self.jira_url + "/wiki" if cloud else DEFAULT_DC_CONFLUENCE_URL
        self.confluence_url = confluence_url.rstrip("/")
        if cloud and not self.confluence_url.endswith("/wiki"):
            raise ValueError("On Cloud the Confluence URL is the site URL followed by /wiki")
        self.jira.base_url = self.jira_url

    def fail_next(
        self, count: int, status: int = 503, *, user: str | None = None, request: str | None = None
    ) -> None:
        """Answer the next `count` requests (of `user`, and starting `request`, e.g.
        "GET /rest/api/2/issue/", if given) with `status`: a burst of server errors, or with a
        4xx a refusal that will not go away."""
        self._failures = _Failures(count, status, user, request)

    @property
    def failures_left(self) -> int:
        """How many of the requests `fail_next` asked for are still to fail."""
        return self._failures.remaining

    def duplicate_next(self, count: int) -> None:
        """Deliver the next `count` webhooks twice, as Jira does when an acknowledgement is lost."""
        self.outbox.duplicate_next(count)

    def deliver_webhooks(
        self, deliver: Deliver, *, reorder: bool | None = None
    ) -> list[DeliveryResult]:
        """Send queued webhooks through `deliver(headers, body) -> status`; retryable failures stay queued."""
        return self.outbox.deliver(deliver, reorder=reorder)

    def timestamp(self) -> str:
        """The sandbox's current time as Jira renders it."""
        return format_timestamp(self._now(), self.seed.timezone)

    # ------------------------------------------------------------------ the entry point

    def route(self, url: str) -> tuple[Api, str] | None:
        """Which fake answers a URL, and the path that fake sees."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        path = parts.path or "/"
        candidates: list[tuple[int, Api, str]] = []
        bases: tuple[tuple[Api, str | None], ...] = (
            ("jira", self.jira_url),
            ("confluence", self.confluence_url),
        )
        for candidate_api, base in bases:
            if base is None:
                continue
            base_parts = urlsplit(base)
            if f"{base_parts.scheme}://{base_parts.netloc}".lower() != origin:
                continue
            base_path = base_parts.path.rstrip("/")
            if path == base_path or path.startswith(base_path + "/"):
                rest = path[len(base_path) :] or "/"
                candidates.append((len(base_path), candidate_api, rest))
        if not candidates:
            return None
        longest = max(c[0] for c in candidates)
        best = [c for c in candidates if c[0] == longest]
        api: Api
        if len(best) == 1:
            _, api, rest = best[0]
        else:
            # Jira and Confluence share one base URL (the HTTP server): tell them apart by path.
            rest = best[0][2]
            is_confluence = rest.startswith("/wiki/") or (
                rest.startswith("/rest/api/") and not re.match(r"/rest/api/(2|3|latest)/", rest)
            )
            api = "confluence" if is_confluence else "jira"
        if api == "confluence" and self.seed.is_cloud and not rest.startswith("/wiki/"):
            rest = "/wiki" + rest
        return api, rest

    def handle(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | str | None,
        *,
        delay: bool = True,
    ) -> SandboxResponse:
        """Answer one HTTP request: auth, spec check, bad-day switches, then the fake.

        `delay=False` leaves the latency switch to the caller (the HTTP server waits outside its
        lock, so concurrent callers wait side by side, as they do on a real Jira).
        """
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        method = method.upper()
        if GroupRobots.serves(urlsplit(url).path):
            return self.robots.handle(method, url, raw)  # on their own origins or the server's
        routed = self.route(url)
        if routed is None:
            return ApiError(404, [f"The sandbox does not serve {url}."]).response()
        api, path = routed
        user = self.authenticate(headers)
        response = self._answer(api, method, url, path, headers, raw, user, delay=delay)
        self.calls.append(
            RecordedCall(
                api,
                method,
                path,
                response.status,
                user,
                at=time.time(),
                retry_after=response.headers.get("Retry-After"),
            )
        )
        if response.body is not None and "Content-Type" not in response.headers:
            response.headers["Content-Type"] = "application/json;charset=UTF-8"
        return response

    def _answer(
        self,
        api: Api,
        method: str,
        url: str,
        path: str,
        headers: Mapping[str, str],
        raw: bytes,
        user: str | None,
        *,
        delay: bool = True,
    ) -> SandboxResponse:
        query = parse_qs(urlsplit(url).query, keep_blank_values=True)
        anonymous_ok = api == "jira" and path.endswith("/serverInfo")
        if user is None and not anonymous_ok:
            return ApiError(
                401,
                ["You are not authenticated. Authentication required to perform this operation."],
            ).response()
        if delay and self.bad_day.latency_ms:
            self.sleep(self.bad_day.latency_ms / 1000)
        if self._failures.hits(user, method.upper(), path):
            self._failures.remaining -= 1
            return ApiError(
                self._failures.status,
                [f"The sandbox was told to fail this request ({self._failures.status})."],
            ).response()
        limited = self._rate_limited()
        if limited is not None:
            return limited
        try:
            decoded = json.loads(raw) if raw else None
        except ValueError:
            return ApiError(
                400, ["Unexpected character in the request body: it is not valid JSON."]
            ).response()
        if self._check is not None:
            data_center = not self.seed.is_cloud
            reasons = self._check(api, method, path, query, decoded, data_center=data_center)
            if reasons:
                self.violations.append(Violation(api, method, path, tuple(reasons)))
                if data_center and api == "jira":
                    return _data_center_refusal(method, path, reasons)
                # An address or method the service lacks is its 404 or 405, anything else a 400.
                status = 400
                if any(reason.startswith("no such operation") for reason in reasons):
                    status = 404
                elif any(reason.startswith("method not allowed") for reason in reasons):
                    status = 405
                return ApiError(
                    status,
                    [f"The real {api.title()} would refuse this request: {r}" for r in reasons],
                ).response()
        if api == "jira" and method in ("POST", "PUT", "DELETE"):
            limited = self._per_issue_limited(path)
            if limited is not None:
                return limited
        headers = dict(headers)
        if not any(name.lower() == "host" for name in headers):
            headers["Host"] = urlsplit(url).netloc  # behind `responses` there is no Host header
        request = SandboxRequest(method, path, query, headers, raw, user)
        if api == "jira":
            return self.jira.handle(request)
        if self.confluence is None:
            return SandboxResponse(
                404, {"statusCode": 404, "message": "The sandbox has no Confluence fake."}
            )
        return self.confluence.handle(request)

    # ------------------------------------------------------------------ auth

    def authenticate(self, headers: Mapping[str, str]) -> str | None:
        """The caller's accountId (Cloud) or username (Data Center), or None if unauthenticated."""
        value = _header(headers, "Authorization")
        if not value:
            return None
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials.strip()).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            login = decoded.partition(":")[0]
            for user in self.seed.users:
                # An accountId holds a colon itself, so match it as a prefix of "login:password".
                if self.seed.is_cloud and (
                    login == user.email or decoded.startswith(user.account_id + ":")
                ):
                    return user.account_id
                if not self.seed.is_cloud and login == user.login:
                    return user.login
            return None
        if scheme.lower() == "bearer" and not self.seed.is_cloud:
            return self.seed.tokens.get(credentials.strip())
        return None

    # ------------------------------------------------------------------ rate limits

    def _rate_limited(self) -> SandboxResponse | None:
        """Jira Cloud's burst limit: 429 with Retry-After once the per-second budget is spent."""
        limit = self.bad_day.rate_limit
        if not limit:
            return None
        now = self._now().timestamp()
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        if len(self._recent) >= limit:
            wait = max(1, math.ceil(self._recent[0] + 1.0 - now))
            # https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
            return ApiError(
                429,
                ["Rate limit exceeded."],
                headers={
                    "Retry-After": str(wait),
                    "RateLimit-Reason": "jira-burst-based",
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": datetime.fromtimestamp(now + wait, UTC).strftime(
                        "%Y-%m-%dT%H:%MZ"
                    ),
                },
            ).response()
        self._recent.append(now)
        return None

    def _per_issue_limited(self, path: str) -> SandboxResponse | None:
        """Jira Cloud's per-issue write limit (RateLimit-Reason: jira-per-issue-on-write)."""
        limit = self.bad_day.per_issue_write_limit
        match = _ISSUE_WRITE.fullmatch(path)
        if not limit or match is None or match.group(1) in _NOT_AN_ISSUE:
            return None
        issue_id = self.jira.issue_id_of(match.group(1))
        if issue_id is None:
            return None
        window = self.bad_day.per_issue_window_seconds
        now = self._now().timestamp()
        writes = self._issue_writes.setdefault(issue_id, deque())
        while writes and writes[0] <= now - window:
            writes.popleft()
        if len(writes) >= limit:
            wait = max(1, math.ceil(writes[0] + window - now))
            return ApiError(
                429,
                ["Too many writes to this issue; slow down."],
                headers={"Retry-After": str(wait), "RateLimit-Reason": "jira-per-issue-on-write"},
            ).response()
        writes.append(now)
        return None

    # ------------------------------------------------------------------ responses adapter

    def install(
        self, rsps: Any, *, jira_url: str | None = None, confluence_url: str | None = None
    ) -> None:
        """Register callbacks on a `responses.RequestsMock` so real clients reach the sandbox."""
        if jira_url is not None or confluence_url is not None:
            self.set_urls(jira_url or self.jira_url, confluence_url)
        origins = set(ROBOT_ORIGINS.values())
        for base in (self.jira_url, self.confluence_url):
            if base:
                parts = urlsplit(base)
                origins.add(f"{parts.scheme}://{parts.netloc}")
        for origin in sorted(origins):
            # One callback per origin and method: `responses` pops a match when several match.
            pattern = re.compile(re.escape(origin) + r"(?:[/?].*)?$")
            for method in HTTP_METHODS:
                rsps.add_callback(method, pattern, callback=self._responses_callback)

    def _responses_callback(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        response = self.handle(request.method, request.url, dict(request.headers), request.body)
        return response.status, response.headers, response.content()


def _data_center_refusal(method: str, path: str, reasons: list[str]) -> SandboxResponse:
    """Refuse as Data Center does: Jersey's 404 or 405 for a resource or method it lacks, else a
    400 carrying the Jackson reader's own words in the usual {"errorMessages", "errors"}."""
    if any(reason.startswith("no such operation") for reason in reasons):
        return ApiError(404, [f"null for uri: {path}"]).response()
    if any(reason.startswith("method not allowed") for reason in reasons):
        return SandboxResponse(405)
    prefix = f"{method} {path}: "
    return ApiError(400, [reason.removeprefix(prefix) for reason in reasons]).response()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def assert_no_violations(sandbox: Sandbox) -> None:
    """Fail loudly if any request broke the official API description (use in test teardown)."""
    found = [*map(str, sandbox.violations), *sandbox.robots.violations]
    if found:
        listing = "\n".join(f"  - {v}" for v in found)
        raise AssertionError(f"requests the real API would refuse:\n{listing}")


@contextmanager
def installed_sandbox(
    source: str | Path | Mapping[str, Any],
    *,
    clock: Callable[[], datetime] | None = None,
    jira_url: str | None = None,
    confluence_url: str | None = None,
    **options: Any,
) -> Iterator[Sandbox]:
    """A sandbox behind `responses` for the duration of a block; fails on spec violations at exit."""
    import responses

    sandbox = Sandbox.from_seed(source, clock=clock or ManualClock(), **options)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sandbox.install(rsps, jira_url=jira_url, confluence_url=confluence_url)
        yield sandbox
    assert_no_violations(sandbox)
