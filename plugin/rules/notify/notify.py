"""Send group news to the WeCom, DingTalk and Feishu groups that should hear it, once each.

A rule queued the news (plugin.process.groups); here, in a job of its own, crossdept decides
which groups hear it from the rules file as it is now, and posts to each through its robot.
Each (news, group) is marked in the store before it is posted, so a retry after one group's
robot was busy posts only to the others; a robot that took a message and never answered is
not posted to again. A refusal (a bad address, key or signature) is said once in the audit and
ends the job as failed, where `crossdept jobs` shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Float, String, Table, Text, insert, select, update
from sqlalchemy.exc import IntegrityError

from plugin.groups.gateway import MaybeSentError, SlotMissedError
from plugin.groups.ports import GroupsPort
from plugin.groups.robots import GroupMessage, Kind, Mention
from plugin.process.audit import Audit
from plugin.process.config import NotifyRules, Rules
from plugin.process.groups import News
from plugin.process.items import ITEM_PROPERTY, item_mark
from plugin.rules.notify.wording import say
from plugin.spine.budget import MAX_INLINE_WAIT
from plugin.spine.context import Context
from plugin.spine.errors import NotYetError, RefusedError, TransientGatewayError
from plugin.spine.events import GROUP_NEWS, JiraEvent
from plugin.spine.routing import Router
from plugin.spine.store import metadata

RULE = "notify"
log = logging.getLogger(__name__)

WAITING, SENDING, SENT = "waiting", "sending", "sent"
MAYBE_SENT, REFUSED = "maybe sent", "refused"

# One row per news and group: its slot on the group's robot is booked in it, and it is taken
# (waiting -> sending) before the post, so no retry or second worker posts it twice.
group_messages = Table(
    "group_messages",
    metadata,
    Column("news", String(255), primary_key=True),
    Column("channel", String(100), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("said", Text, nullable=True),  # the robot's refusal, for `jobs` on every retry
)

router = Router()
EARLY_S = 1.5  # how much before its booked slot a message's job comes back (< MAX_INLINE_WAIT)


def trial_message(rules: Rules, channel: str) -> GroupMessage:
    """What `crossdept notify test` posts, so an admin sees the robot work."""
    return GroupMessage(
        say(rules, "notify.test.title"), (say(rules, "notify.test.line", channel=channel),)
    )


def channels_for(
    notify: NotifyRules, rules: Rules, news: News, request_group: str | None
) -> list[str]:
    """The channels that hear `news`, in order, each once: the request's group, then the
    departments' own, as `route` says."""
    found: list[str] = []
    if notify.route in ("request", "both") and request_group:
        found.append(request_group)
    if notify.route in ("department", "both"):
        for key in news.departments:
            department = rules.departments.get(key)
            if department is not None and department.channel:
                found.append(department.channel)
    return [name for name in dict.fromkeys(found) if name in notify.channels]


def mentions_for(
    rules: Rules, kind: Kind, people: Sequence[str], names: Mapping[str, str]
) -> tuple[Mention, ...]:
    """How a platform calls on each person: their id there, else their mobile, else by name."""
    found = []
    for person in people:
        known = rules.people.get(person)
        user_id = getattr(known, kind) if known else None
        mobile = known.mobile if known else None
        found.append(Mention(names.get(person) or person, mobile=mobile, user_id=user_id))
    return tuple(found)


def request_group(context: Context, news: News, notify: NotifyRules) -> str | None:
    """The request's group: its field's value when that names a channel, else the shared one.

    The field is people's input: only a channel the rules file lists is ever used."""
    if notify.route == "department":
        return None
    request = news.request
    if request is None and news.issue and notify.request_channel_field:
        issue = context.jira.get_issue(news.issue, fields=["summary"], properties=[ITEM_PROPERTY])
        mark = item_mark(issue)
        request = mark.request if mark else news.issue
    if request and notify.request_channel_field:
        field = notify.request_channel_field
        value = (context.jira.get_issue(request, fields=[field]).get("fields") or {}).get(field)
        for named in _option_values(value):
            if named in notify.channels:
                return named
    return notify.request_channel


def _option_values(value: Any) -> list[str]:
    """A select field's option (`{"value": …}`), a text field's words, or each of a list's
    (a multi-select, labels)."""
    if isinstance(value, list):
        return [found for item in value for found in _option_values(item)]
    if isinstance(value, Mapping):
        value = value.get("value")
    return [value.strip()] if isinstance(value, str) else []


@router.register(GROUP_NEWS)
def send_group_news(event: JiraEvent, context: Context) -> None:
    """Post the news to each group that should hear it, each at most once, in the slot booked
    for it on that group's robot (so a burst queues in order under the robot's limit)."""
    notify, groups = context.rules.notify, context.groups
    if notify is None or groups is None:
        return  # group messages were turned off after the news was queued
    news = News.from_body(event.raw)
    if news.kind not in notify.send:
        return
    channels = channels_for(notify, context.rules, news, request_group(context, news, notify))
    names: dict[str, str] | None = None
    later: list[TransientGatewayError] = []
    refused: list[str] = []
    for channel in channels:
        now = context.clock().timestamp()
        try:
            booked = _booking(context, groups, news.key, channel)
        except RefusedError as error:  # no robot for this channel in the environment
            _refused(context, news, channel, error, now, refused)
            continue
        state, slot, said = booked
        # Refused on an earlier attempt (its words are kept): said in the audit then, not again.
        refused_before = state == REFUSED or (state == WAITING and said is not None)
        if state == REFUSED:
            # Refused on an earlier attempt: the admin may have fixed the robot since (a retry
            # by hand), and a refused message was never posted, so it is tried once more.
            try:
                slot = groups.reserve(channel)
            except RefusedError as error:
                _refused(context, news, channel, error, now, refused, audit=False)
                continue
            _mark(context, news.key, channel, WAITING, at=slot, said=said)
            state = WAITING
        if state != WAITING:
            continue  # posted, maybe posted, or being posted by another worker
        if slot - now > MAX_INLINE_WAIT:
            later.append(booked_wait(channel, slot - now))
            continue
        if not _claim(context, news.key, channel, slot):
            continue  # another worker took it to post
        if names is None:
            names = context.jira.display_names(news.mention) if news.mention else {}
        kind = groups.kind_of(channel) or notify.channels[channel].kind
        message = GroupMessage(
            news.title,
            news.lines,
            news.link,
            news.link_text,
            mentions_for(context.rules, kind, news.mention, names),
        )
        try:
            groups.send(channel, message, slot=slot)
        except SlotMissedError as error:
            # Back too late for its slot (the queue ran it late): the next free one, in turn.
            rebooked = groups.reserve(channel)
            _mark(context, news.key, channel, WAITING, at=rebooked)
            later.append(booked_wait(channel, rebooked - context.clock().timestamp(), str(error)))
        except TransientGatewayError as error:
            # Surely not posted (busy, over the limit): book a new slot, after any hold.
            _mark(context, news.key, channel, WAITING, at=groups.reserve(channel))
            later.append(error)
        except MaybeSentError as error:
            _mark(context, news.key, channel, MAYBE_SENT, said=str(error))
            Audit(context.store).record(
                now,
                news.issue or "-",
                RULE,
                "group message may not have arrived",
                str(error),
                context.delivery_key,
            )
        except RefusedError as error:
            _refused(context, news, channel, error, now, refused, audit=not refused_before)
        else:
            _mark(context, news.key, channel, SENT)
    if later:
        # The job comes back for these groups only: at the earliest booked slot, or after the
        # robot's own wait when it was busy.
        failed = [error for error in later if not isinstance(error, NotYetError)]
        raise failed[0] if failed else min(later, key=lambda e: e.retry_after or 0.0)
    if refused:
        raise RefusedError("; ".join(refused), 400)


def booked_wait(channel: str, wait: float, why: str = "") -> NotYetError:
    """Come back a little before the booked slot (the rest is waited in the worker), so a
    queue a second or two late still finds the slot good."""
    said = f"{why}; " if why else ""
    return NotYetError(
        f"{said}group {channel}: a message booked in {wait:.0f} s",
        max(wait - EARLY_S, 0.0),
        booked=True,
    )


def _refused(
    context: Context,
    news: News,
    channel: str,
    error: RefusedError,
    now: float,
    said: list[str],
    *,
    audit: bool = True,
) -> None:
    """A robot refused (or is not set up): said once in the audit; the job ends failed."""
    text = str(error) if error.reason() == str(error) else f"{error}: {error.reason()}"
    if _mark(context, news.key, channel, REFUSED, said=text, create=True) and audit:
        Audit(context.store).record(
            now, news.issue or "-", RULE, "group message refused", text, context.delivery_key
        )
        log.error("group message refused", extra={"channel": channel, "error": text})
    said.append(text)


def _booking(
    context: Context, groups: GroupsPort, news: str, channel: str
) -> tuple[str, float, str | None]:
    """This post's state, booked slot and refusal; books the robot's next slot the first time."""
    found = _row(context, news, channel)
    if found is not None:
        return found
    slot = groups.reserve(channel)
    try:
        with context.store.begin() as db:
            db.execute(
                insert(group_messages).values(news=news, channel=channel, state=WAITING, at=slot)
            )
    except IntegrityError:
        found = _row(context, news, channel)  # another worker booked it a moment ago
        if found is not None:
            return found
    return WAITING, slot, None


def _row(context: Context, news: str, channel: str) -> tuple[str, float, str | None] | None:
    c = group_messages.c
    with context.store.begin() as db:
        found = db.execute(
            select(c.state, c.at, c.said).where(c.news == news, c.channel == channel)
        ).first()
    return None if found is None else (str(found.state), float(found.at), found.said)


def _claim(context: Context, news: str, channel: str, slot: float) -> bool:
    """Take the booked post for this worker: only one worker moves it from waiting to sending."""
    c = group_messages.c
    with context.store.begin() as db:
        moved = db.execute(
            update(group_messages)
            .where(c.news == news, c.channel == channel, c.state == WAITING, c.at == slot)
            .values(state=SENDING)
        )
    return bool(moved.rowcount)


def _mark(
    context: Context,
    news: str,
    channel: str,
    state: str,
    *,
    at: float | None = None,
    said: str | None = None,
    create: bool = False,
) -> bool:
    """Set a post's state; True when it changed (a refusal is audited only the first time)."""
    c = group_messages.c
    values: dict[str, Any] = {"state": state}
    if at is not None:
        values["at"] = at
    if said is not None:
        values["said"] = said  # kept otherwise: a refusal's words outlive a retry's booking
    with context.store.begin() as db:
        moved = db.execute(
            update(group_messages)
            .where(c.news == news, c.channel == channel, c.state != state)
            .values(**values)
        )
    if moved.rowcount or not create:
        return bool(moved.rowcount)
    try:
        with context.store.begin() as db:
            db.execute(
                insert(group_messages).values(news=news, channel=channel, at=at or 0.0, **values)
            )
    except IntegrityError:
        return False
    return True
