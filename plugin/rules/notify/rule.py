"""The notify rule (group messages), as the service composes it; other rules queue its news
through plugin.process.groups."""

from plugin.process.rule import Rule
from plugin.rules.notify import notify, wording

RULE = Rule("notify", wording.WORDING, router=notify.router, tables=(notify.group_messages,))
