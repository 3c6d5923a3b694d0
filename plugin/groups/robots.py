"""The three group robots' contracts: how a message is addressed, signed and answered.

Pure: a request is built from a message, the robot and the moment; an answer is read into sent,
"over the limit" (wait and send again) or refused (a bad address or signature: sending again
changes nothing). The gateway (plugin.groups.gateway) does the HTTP.

- WeCom (企业微信) group robot: `POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`,
  `msgtype` `markdown` (mentions as `<@userid>`) or `text` (`mentioned_list`,
  `mentioned_mobile_list`), 20 messages a minute per robot; the answer is a 200 whose `errcode`
  says how it went (45009 over the limit, 93000 an invalid address).
  https://developer.work.weixin.qq.com/document/path/91770
- DingTalk (钉钉) custom robot: `POST https://oapi.dingtalk.com/robot/send?access_token=…`,
  signed by `timestamp` (ms) and `sign` = URL-encoded base64 of HMAC-SHA256 under the secret of
  `timestamp + "\\n" + secret`; `at.atMobiles` / `at.atUserIds` with `@…` in the text; 20 messages
  a minute, past which the robot is held for 10 minutes (errcode 130101); 310000 a failed check.
  https://open.dingtalk.com/document/robots/custom-robot-access
  https://open.dingtalk.com/document/robots/customize-robot-security-settings
- Feishu (飞书) custom bot: `POST https://open.feishu.cn/open-apis/bot/v2/hook/…`, signed by
  `timestamp` (s) and `sign` = base64 of HMAC-SHA256 keyed by `timestamp + "\\n" + secret` over
  nothing, both in the body; `<at user_id="…"></at>` in a text message; 100 a minute and 5 a
  second; `code` 19021 a failed signature, 11232 over the limit.
  https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

Kind = Literal["wecom", "dingtalk", "feishu"]
KINDS: tuple[Kind, ...] = ("wecom", "dingtalk", "feishu")

# Messages a minute each platform lets one robot send (the documents above).
PER_MINUTE: dict[Kind, int] = {"wecom": 20, "dingtalk": 20, "feishu": 100}
# How long a robot is held once over its limit: DingTalk 10 minutes; the others a minute.
HELD_AFTER_LIMIT_S: dict[Kind, float] = {"wecom": 60.0, "dingtalk": 600.0, "feishu": 60.0}
# The longest text each accepts (bytes of UTF-8): WeCom's markdown 4096 and text 2048; DingTalk
# and Feishu document no smaller bound than 20,000 bytes, and a group message is short anyway.
MAX_BYTES: dict[str, int] = {"markdown": 4096, "text": 2048, "other": 4000}

WECOM_OVER_LIMIT = 45009
DINGTALK_OVER_LIMIT = 130101
FEISHU_OVER_LIMIT = 11232
BUSY = -1  # WeCom and DingTalk: "system busy", try again


@dataclass(frozen=True)
class Mention:
    """Someone a message calls on, as each platform can name them (none known: named only)."""

    name: str
    mobile: str | None = None
    user_id: str | None = None  # the platform's own user id (WeCom userid, DingTalk userId, …)


@dataclass(frozen=True)
class GroupMessage:
    """What crossdept says in a group: a title, a few lines of markdown, a link back to the record."""

    title: str
    lines: tuple[str, ...] = ()
    link: str | None = None
    link_text: str = ""
    mentions: tuple[Mention, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Robot:
    """One group robot: its platform, its webhook address (with its key or token) and secret."""

    kind: Kind
    url: str
    secret: str | None = None


@dataclass(frozen=True)
class RobotRequest:
    """The POST to make: the address (query included) and the JSON body."""

    url: str
    body: dict[str, Any]


@dataclass(frozen=True)
class RobotAnswer:
    """How a robot answered: sent, over its limit (send again after `wait_s`), or refused."""

    outcome: Literal["sent", "over_limit", "busy", "refused"]
    code: int | None = None
    said: str = ""
    wait_s: float | None = None


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """DingTalk's `sign`: base64 of HMAC-SHA256(secret, "timestamp\\nsecret"), URL-encoded."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def feishu_sign(timestamp_s: int, secret: str) -> str:
    """Feishu's `sign`: base64 of HMAC-SHA256 keyed by "timestamp\\nsecret" over an empty message."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def request_for(robot: Robot, message: GroupMessage, now_ms: int) -> RobotRequest:
    """The request that posts `message` through `robot` at `now_ms` (Unix milliseconds)."""
    if robot.kind == "wecom":
        return RobotRequest(robot.url, _wecom_body(message))
    if robot.kind == "dingtalk":
        url = robot.url
        if robot.secret:
            signed = f"timestamp={now_ms}&sign={dingtalk_sign(now_ms, robot.secret)}"
            url = _with_query(url, signed)
        return RobotRequest(url, _dingtalk_body(message))
    body = _feishu_body(message)
    if robot.secret:
        seconds = now_ms // 1000
        body = {"timestamp": str(seconds), "sign": feishu_sign(seconds, robot.secret), **body}
    return RobotRequest(robot.url, body)


def answer_of(kind: Kind, status: int, text: str) -> RobotAnswer:
    """Read a robot's HTTP answer: each platform says how it went inside a 200."""
    if status == 429:
        return RobotAnswer("over_limit", status, text[:200], HELD_AFTER_LIMIT_S[kind])
    if status >= 500:
        return RobotAnswer("busy", status, text[:200])
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        found = None
    if not isinstance(found, dict):
        outcome: Literal["busy", "refused"] = "refused" if 400 <= status < 500 else "busy"
        return RobotAnswer(outcome, status, text[:200])
    if kind == "feishu":
        code = found.get("code", found.get("StatusCode", 0 if status == 200 else status))
        said = str(found.get("msg", found.get("StatusMessage", "")))
        over = FEISHU_OVER_LIMIT
    else:
        code = found.get("errcode", 0 if status == 200 else status)
        said = str(found.get("errmsg", ""))
        over = WECOM_OVER_LIMIT if kind == "wecom" else DINGTALK_OVER_LIMIT
    code = int(code) if isinstance(code, int | str) and str(code).lstrip("-").isdigit() else -1
    if status == 200 and code == 0:
        return RobotAnswer("sent", 0, said)
    if code == over:
        return RobotAnswer("over_limit", code, said, HELD_AFTER_LIMIT_S[kind])
    if code == BUSY and kind != "feishu":
        return RobotAnswer("busy", code, said)
    return RobotAnswer("refused", code, said)


def mention_word(kind: Kind, mention: Mention) -> str:
    """How the text calls on someone, so the platform highlights them (or just their name)."""
    if kind == "wecom" and mention.user_id:
        return f"<@{mention.user_id}>"
    if kind == "dingtalk" and (mention.user_id or mention.mobile):
        return f"@{mention.user_id or mention.mobile}"
    if kind == "feishu" and mention.user_id:
        return f'<at user_id="{mention.user_id}">{_plain(mention.name)}</at>'
    return f"@{_plain(mention.name)}"


def _wecom_body(message: GroupMessage) -> dict[str, Any]:
    mobiles_only = [m.mobile for m in message.mentions if m.mobile and not m.user_id]
    if not mobiles_only:
        # Markdown renders the title and link, and calls on people by <@userid>.
        content = _markdown(message, "wecom", limit=MAX_BYTES["markdown"])
        return {"msgtype": "markdown", "markdown": {"content": content}}
    # Only a text message can call on people by mobile number.
    user_ids = [m.user_id for m in message.mentions if m.user_id]
    text: dict[str, Any] = {"content": _text(message, limit=MAX_BYTES["text"])}
    if user_ids:
        text["mentioned_list"] = user_ids
    text["mentioned_mobile_list"] = mobiles_only
    return {"msgtype": "text", "text": text}


def _dingtalk_body(message: GroupMessage) -> dict[str, Any]:
    at: dict[str, Any] = {"isAtAll": False}
    mobiles = [m.mobile for m in message.mentions if m.mobile and not m.user_id]
    user_ids = [m.user_id for m in message.mentions if m.user_id]
    if mobiles:
        at["atMobiles"] = mobiles
    if user_ids:
        at["atUserIds"] = user_ids
    text = _markdown(message, "dingtalk", limit=MAX_BYTES["other"])
    return {"msgtype": "markdown", "markdown": {"title": message.title, "text": text}, "at": at}


def _feishu_body(message: GroupMessage) -> dict[str, Any]:
    lines = [message.title, *(_unmarked(line) for line in message.lines)]
    if message.link:
        lines.append(f"{message.link_text or message.link}: {message.link}")
    if message.mentions:
        lines.append(" ".join(mention_word("feishu", m) for m in message.mentions))
    text = _fit("\n".join(lines), MAX_BYTES["other"])
    return {"msg_type": "text", "content": {"text": text}}


def _markdown(message: GroupMessage, kind: Kind, *, limit: int) -> str:
    parts = [f"### {message.title}", *message.lines]
    if message.link:
        parts.append(f"[{_plain(message.link_text or message.link)}]({message.link})")
    if message.mentions:
        parts.append(" ".join(mention_word(kind, m) for m in message.mentions))
    return _fit("\n".join(parts), limit)


def _text(message: GroupMessage, *, limit: int) -> str:
    parts = [message.title, *(_unmarked(line) for line in message.lines)]
    if message.link:
        parts.append(f"{message.link_text or message.link}: {message.link}")
    return _fit("\n".join(parts), limit)


def _unmarked(line: str) -> str:
    """A markdown line read as text: no emphasis marks, a link as its words and address."""
    plain = line.replace("**", "")
    while "](" in plain and "[" in plain:
        start = plain.index("[")
        middle = plain.find("](", start)
        end = plain.find(")", middle)
        if middle < 0 or end < 0:
            break
        plain = f"{plain[:start]}{plain[start + 1 : middle]} {plain[middle + 2 : end]}{plain[end + 1 :]}"
    return plain


def _plain(name: str) -> str:
    """A name put in markup: no characters that would open or close it."""
    return "".join(ch for ch in name if ch not in '<>[]()"')


def _fit(text: str, limit: int) -> str:
    """Cut a text to `limit` bytes of UTF-8 at a character, marking the cut."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", errors="ignore") + "…"


def _with_query(url: str, extra: str) -> str:
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("timestamp", "sign")]
    query = urlencode(kept) + ("&" if kept else "") + extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
