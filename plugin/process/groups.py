"""Group news: what a rule asks to be said in the WeCom, DingTalk or Feishu groups as well.

A rule that has said something in Jira (a tree built, an escalation, a delay, minutes, the weekly
page) hands the same news here. It is stored as one delivery of crossdept's own (`GROUP_NEWS`),
keyed by what happened, so the news is queued once however often the rule runs again, and the
notify rule sends it through the queue: retried when a robot is busy, never sent twice.
The Jira comment stays the record; a group message is a short pointer to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from plugin.process.config import GroupNews, Rules
from plugin.process.owners import departments_of
from plugin.spine.context import Context
from plugin.spine.deliveries import Deliveries
from plugin.spine.events import GROUP_NEWS

_MAX_KEY = 200  # the deliveries' key column holds 255 characters


@dataclass(frozen=True)
class News:
    """Something crossdept said in Jira, for the groups that should hear it too.

    `key` names the event (e.g. `escalation:XD-7:ask-12:3`): the same key is the same news, said
    once. `departments` are the departments whose own groups hear it; `request` the request
    whose group does (found from `issue` when not given); `mention` the people (Jira account
    ids or usernames) the message calls on.
    """

    kind: GroupNews
    key: str
    title: str
    lines: tuple[str, ...] = ()
    link: str | None = None
    link_text: str = ""
    issue: str | None = None
    request: str | None = None
    departments: tuple[str, ...] = ()
    mention: tuple[str, ...] = field(default_factory=tuple)

    def as_body(self) -> bytes:
        """The delivery body the notify rule reads back."""
        return json.dumps(
            {"webhookEvent": GROUP_NEWS, "news": asdict(self)}, ensure_ascii=False
        ).encode("utf-8")

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> News:
        """The news in a delivery body that `as_body` wrote."""
        found = dict(body["news"])
        for name in ("lines", "departments", "mention"):
            found[name] = tuple(str(item) for item in found.get(name) or ())
        return cls(**found)


def wanted(rules: Rules, kind: GroupNews) -> bool:
    """Whether the rules file has groups hear this kind of news."""
    return rules.notify is not None and kind in rules.notify.send


def tell_groups(context: Context, news: News) -> bool:
    """Queue `news` for the groups; True when queued now, False when off or queued before."""
    if not wanted(context.rules, news.kind):
        return False
    key = "group:" + news.key
    if len(key) > _MAX_KEY:
        key = "group:" + hashlib.sha256(news.key.encode("utf-8")).hexdigest()
    # Due now by the queue's own (wall) clock, like a webhook: a sweep run with `--now` in the
    # future decides as of then, but what it queues is sent at once.
    deliveries = Deliveries(context.store)
    return deliveries.add(key, GROUP_NEWS, news.issue, news.as_body()) is not None


# What would come alive in a group message's markup: a mention (<@id>, <at …>, @mobile), a link
# ([a](b)), emphasis. People's words are shown as written, with these characters full-width.
_LIVE = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］", "@": "＠", "*": "＊", "#": "＃"})


def people_words(text: str, *, limit: int = 140) -> str:
    """People's words quoted in a group message: on one line, shortened, and inert (nobody is
    called on and no link or heading appears because of what they wrote)."""
    one_line = " ".join(text.split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return one_line.translate(_LIVE)


def departments_led_by(rules: Rules, people: Sequence[str]) -> tuple[str, ...]:
    """The departments these people lead (or, failing that, belong to), in the file's order."""
    found: list[str] = []
    for person in people:
        theirs = departments_of(rules, person)
        led = [key for key in theirs if rules.departments[key].head == person]
        found += led or list(theirs)
    return tuple(dict.fromkeys(found))
