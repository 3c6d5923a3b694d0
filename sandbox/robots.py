"""Stand-ins for the three group robots crossdept posts to: WeCom, DingTalk and Feishu.

Each follows its platform's documented contract (the request's address and shape, the signature
check, the error codes, the messages a minute) and records what it accepted, so a test or the
demo can read the message a department head received. What the real robot would take but
silently get wrong (a mention by mobile number in a WeCom markdown message, which WeCom drops)
is recorded as a violation, like a request the Jira specs refuse.

- WeCom: https://developer.work.weixin.qq.com/document/path/91770 (errcode 93000 an invalid
  address, 45009 over 20 a minute, 40008 an unknown msgtype, 44004 an empty text)
- DingTalk: https://open.dingtalk.com/document/robots/custom-robot-access and
  https://open.dingtalk.com/document/robots/customize-robot-security-settings (300001 an unknown
  token, 310000 a failed signature, 130101 over 20 a minute: held for 10 minutes)
- Feishu: https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (19001 an unknown
  hook, 19021 a failed signature, 9499 a bad message, 11232 over the limit)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.http import SandboxResponse

ORIGINS = {
    "wecom": "https://qyapi.weixin.qq.com",
    "dingtalk": "https://oapi.dingtalk.com",
    "feishu": "https://open.feishu.cn",
}
PATHS = {"wecom": "/cgi-bin/webhook/send", "dingtalk": "/robot/send"}
FEISHU_PATH = "/open-apis/bot/v2/hook/"
PER_MINUTE = {"wecom": 20, "dingtalk": 20, "feishu": 100}
DINGTALK_HOLD_S = 600.0  # DingTalk: "超过20条会限流10分钟"
SIGNATURE_WINDOW_S = 3600.0  # both signing platforms: a timestamp within an hour


@dataclass
class RobotSeat:
    """One robot in one group: its platform, group name, token and (optional) signing secret."""

    kind: str
    group: str
    token: str
    secret: str | None = None
    accepted: deque[float] = field(default_factory=deque)
    held_until: float = 0.0


@dataclass(frozen=True)
class GroupPost:
    """A message a robot accepted: what the group shows, and whom it called on."""

    kind: str
    group: str
    at: float
    body: dict[str, Any]
    text: str
    mobiles: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()


class GroupRobots:
    """The robots of every group the sandbox knows, answering as their platforms do."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self.seats: dict[str, RobotSeat] = {}
        self.posts: list[GroupPost] = []
        self.refusals: list[tuple[str, int, str]] = []  # (group, code, message)
        self.violations: list[str] = []
        self.busy = 0  # the next this many messages get "system busy" (errcode -1), as on a bad day

    def add(
        self,
        kind: str,
        group: str,
        *,
        secret: str | None = None,
        token: str | None = None,
        origin: str | None = None,
    ) -> str:
        """Put a robot in `group`; returns its webhook address (key or token included), on its
        platform's origin or on `origin` (the sandbox server's, which serves the same paths)."""
        if kind not in ORIGINS:
            raise ValueError(f"no such robot platform: {kind}")
        token = token or secrets.token_hex(16)
        self.seats[token] = RobotSeat(kind, group, token, secret)
        return self.address(self.seats[token], origin)

    def address(self, seat: RobotSeat, origin: str | None = None) -> str:
        """The robot's webhook address on its platform's origin (or the server's own)."""
        base = origin or ORIGINS[seat.kind]
        if seat.kind == "wecom":
            return f"{base}{PATHS['wecom']}?key={seat.token}"
        if seat.kind == "dingtalk":
            return f"{base}{PATHS['dingtalk']}?access_token={seat.token}"
        return f"{base}{FEISHU_PATH}{seat.token}"

    def received(self, group: str) -> list[GroupPost]:
        """What a group's robot accepted, oldest first."""
        return [post for post in self.posts if post.group == group]

    @staticmethod
    def serves(path: str) -> bool:
        """Whether a request path is one of the robots' (on any origin)."""
        return path in PATHS.values() or path.startswith(FEISHU_PATH)

    def handle(self, method: str, url: str, body: bytes) -> SandboxResponse:
        """Answer one robot request as its platform would."""
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == PATHS["wecom"]:
            kind, token = "wecom", query.get("key", "")
        elif parts.path == PATHS["dingtalk"]:
            kind, token = "dingtalk", query.get("access_token", "")
        else:
            kind, token = "feishu", parts.path.removeprefix(FEISHU_PATH)
        if method != "POST":
            return SandboxResponse(405)
        seat = self.seats.get(token)
        if seat is None or seat.kind != kind:
            return self._refuse(kind, "?", *_UNKNOWN[kind])
        try:
            message = json.loads(body or b"{}")
        except ValueError:
            message = None
        if not isinstance(message, dict):
            return self._refuse(kind, seat.group, *_BAD_BODY[kind])
        now = self.now().timestamp()
        if self.busy > 0:
            self.busy -= 1
            if kind == "feishu":
                return SandboxResponse(500, {"code": 9499, "msg": "internal error"})
            return self._refuse(kind, seat.group, -1, "system busy")
        try:
            self._check_signature(seat, query, message, now)
            if self._over_limit(seat, now):
                raise RobotRefusal(*_OVER_LIMIT[kind])
            text, mobiles, user_ids, ignored = _SHAPES[kind](message)
        except RobotRefusal as refusal:
            return self._refuse(kind, seat.group, refusal.code, refusal.said)
        for what in ignored:
            self.violations.append(f"{kind} robot of {seat.group}: {what}")
        seat.accepted.append(now)
        self.posts.append(
            GroupPost(kind, seat.group, now, message, text, tuple(mobiles), tuple(user_ids))
        )
        if kind == "feishu":
            return SandboxResponse(200, {"code": 0, "data": {}, "msg": "success"})
        return SandboxResponse(200, {"errcode": 0, "errmsg": "ok"})

    def _refuse(self, kind: str, group: str, code: int, said: str) -> SandboxResponse:
        self.refusals.append((group, code, said))
        if kind == "feishu":
            return SandboxResponse(200, {"code": code, "data": {}, "msg": said})
        return SandboxResponse(200, {"errcode": code, "errmsg": said})

    def _check_signature(
        self, seat: RobotSeat, query: Mapping[str, str], message: Mapping[str, Any], now: float
    ) -> None:
        if not seat.secret or seat.kind == "wecom":
            return
        if seat.kind == "dingtalk":
            stamp, sign = query.get("timestamp", ""), query.get("sign", "")  # sign URL-decoded
            if not stamp.isdigit() or abs(int(stamp) / 1000 - now) > SIGNATURE_WINDOW_S:
                raise RobotRefusal(
                    310000, "sign not match, more: [timestamp is not in the allowed window]"
                )
            mac = hmac.new(
                seat.secret.encode(), f"{stamp}\n{seat.secret}".encode(), hashlib.sha256
            ).digest()
            if not hmac.compare_digest(base64.b64encode(mac).decode(), sign):
                raise RobotRefusal(310000, "sign not match")
            return
        # Feishu answers both a stale timestamp and a wrong signature with one code and message.
        stamp, sign = str(message.get("timestamp", "")), str(message.get("sign", ""))
        fresh = stamp.isdigit() and abs(int(stamp) - now) <= SIGNATURE_WINDOW_S
        mac = hmac.new(f"{stamp}\n{seat.secret}".encode(), b"", hashlib.sha256).digest()
        if not fresh or not hmac.compare_digest(base64.b64encode(mac).decode(), sign):
            raise RobotRefusal(
                19021, "sign match fail or timestamp is not within one hour from current time"
            )

    def _over_limit(self, seat: RobotSeat, now: float) -> bool:
        """The platform's messages a minute, counted over the last 60 seconds."""
        if now < seat.held_until:
            return True
        while seat.accepted and seat.accepted[0] <= now - 60.0:
            seat.accepted.popleft()
        if len(seat.accepted) < PER_MINUTE[seat.kind]:
            return False
        if seat.kind == "dingtalk":
            seat.held_until = now + DINGTALK_HOLD_S
        return True


_UNKNOWN = {
    "wecom": (93000, "invalid webhook url"),
    "dingtalk": (300001, "token is not exist"),
    "feishu": (19001, "param invalid: incoming webhook access token invalid"),
}
_BAD_BODY = {
    "wecom": (40035, "invalid parameter"),
    "dingtalk": (40035, "缺少参数 json"),
    "feishu": (9499, "Bad Request"),
}
_OVER_LIMIT = {
    "wecom": (45009, "api freq out of limit"),
    "dingtalk": (130101, "send too fast, exceed 20 times per minute"),
    "feishu": (11232, "frequency limited"),
}

Shape = tuple[str, list[str], list[str], list[str]]  # text, mobiles, user ids, what is ignored


class RobotRefusal(Exception):
    """A message the platform refuses: its code and words."""

    def __init__(self, code: int, said: str) -> None:
        super().__init__(f"{code} {said}")
        self.code = code
        self.said = said


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _wecom(message: Mapping[str, Any]) -> Shape:
    kind = message.get("msgtype")
    if kind not in ("text", "markdown"):
        raise RobotRefusal(40008, "invalid message type")
    part = message.get(kind)
    content = part.get("content") if isinstance(part, Mapping) else None
    if not isinstance(content, str) or not content:
        raise RobotRefusal(44004, "empty content")
    limit = 2048 if kind == "text" else 4096
    if len(content.encode("utf-8")) > limit:
        raise RobotRefusal(40058, f"content exceed max length {limit}")
    assert isinstance(part, Mapping)
    mobiles, user_ids = (
        _strings(part.get("mentioned_mobile_list")),
        _strings(part.get("mentioned_list")),
    )
    if mobiles is None or user_ids is None:
        raise RobotRefusal(40035, "invalid parameter")
    ignored = []
    if kind == "markdown":
        if mobiles or user_ids:
            ignored.append("a markdown message's mentioned lists are ignored: nobody is called on")
        user_ids = [word.removesuffix(">") for word in content.split("<@")[1:]]
        user_ids = [word.split(">")[0] for word in user_ids]
        mobiles = []
    return content, mobiles, user_ids, ignored


def _dingtalk(message: Mapping[str, Any]) -> Shape:
    kind = message.get("msgtype")
    part = message.get(kind) if isinstance(kind, str) else None
    if kind == "markdown":
        text = part.get("text") if isinstance(part, Mapping) else None
        title = part.get("title") if isinstance(part, Mapping) else None
        if not isinstance(text, str) or not isinstance(title, str) or not text or not title:
            raise RobotRefusal(40035, "缺少参数 markdown.title 或 markdown.text")
    elif kind == "text":
        text = part.get("content") if isinstance(part, Mapping) else None
        if not isinstance(text, str) or not text:
            raise RobotRefusal(40035, "缺少参数 text.content")
    else:
        raise RobotRefusal(40035, "不支持的消息类型")
    at = message.get("at") or {}
    if not isinstance(at, Mapping):
        raise RobotRefusal(40035, "缺少参数 at")
    mobiles, user_ids = _strings(at.get("atMobiles")), _strings(at.get("atUserIds"))
    if mobiles is None or user_ids is None:
        raise RobotRefusal(40035, "at.atMobiles 与 at.atUserIds 须为字符串列表")
    ignored = [
        f"@{who} is in at but not in the text: DingTalk shows no mention"
        for who in [*mobiles, *user_ids]
        if f"@{who}" not in text
    ]
    return text, mobiles, user_ids, ignored


def _feishu(message: Mapping[str, Any]) -> Shape:
    kind = message.get("msg_type")
    content = message.get("content")
    if kind == "text":
        text = content.get("text") if isinstance(content, Mapping) else None
        if not isinstance(text, str) or not text:
            raise RobotRefusal(9499, "Bad Request: content.text")
    elif kind == "post":
        post = content.get("post") if isinstance(content, Mapping) else None
        if not isinstance(post, Mapping) or not post:
            raise RobotRefusal(9499, "Bad Request: content.post")
        text = json.dumps(post, ensure_ascii=False)
    else:
        raise RobotRefusal(9499, "Bad Request: msg_type")
    user_ids = [word.split('"')[0] for word in text.split('<at user_id="')[1:]]
    return text, [], user_ids, []


_SHAPES: dict[str, Callable[[Mapping[str, Any]], Shape]] = {
    "wecom": _wecom,
    "dingtalk": _dingtalk,
    "feishu": _feishu,
}
