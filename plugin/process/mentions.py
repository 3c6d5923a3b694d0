"""Who a comment asks: the people it mentions, outside quotes and code, never its own author.

Jira writes mentions in wiki markup as `[~accountid:5b10…]` on Cloud and `[~username]` on Data
Center (webhook and REST v2 bodies are wiki markup even on Cloud); REST v3 bodies are ADF, where a
mention is a node `{"type": "mention", "attrs": {"id": accountId}}`. Text inside `{quote}`,
`{code}` and `{noformat}` blocks, and `bq.` lines, is someone else's words or a sample: a mention
there asks nobody.
https://developer.atlassian.com/cloud/jira/platform/apis/document/nodes/mention/
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# {quote}…{quote}, {code}…{code} or {code:python}…{code}, {noformat}…{noformat}.
_BLOCKS = re.compile(r"\{(quote|code|noformat)(?::[^}]*)?\}.*?\{\1\}", re.DOTALL | re.IGNORECASE)
_BLOCK_QUOTE_LINE = re.compile(r"^bq\.\s.*$", re.MULTILINE)
# A wiki-markup mention; group 1 is the account id (Cloud) or username (Data Center).
MENTION = re.compile(r"\[~(?:accountid:)?([^\]\s]+)\]")


def own_words(body: str) -> str:
    """The body without quoted or code blocks (an unclosed block runs to the end, as in Jira)."""
    text = _BLOCKS.sub(" ", body)
    text = re.sub(
        r"\{(quote|code|noformat)(?::[^}]*)?\}.*", " ", text, flags=re.DOTALL | re.IGNORECASE
    )
    return _BLOCK_QUOTE_LINE.sub(" ", text)


def mentioned(body: Any, *, author: str | None = None) -> list[str]:
    """The people a comment body mentions, in order, each once, without its author.

    `body` is wiki markup (a string) or an ADF document (a mapping).
    """
    if isinstance(body, Mapping):
        found = _adf_mentions(body)
    elif isinstance(body, str):
        found = MENTION.findall(own_words(body))
    else:
        found = []
    return [person for person in dict.fromkeys(found) if person != author]


def _adf_mentions(node: Mapping[str, Any], quoted: bool = False) -> list[str]:
    kind = node.get("type")
    inside = quoted or kind in ("blockquote", "codeBlock")
    found: list[str] = []
    if kind == "mention" and not quoted:
        person = (node.get("attrs") or {}).get("id")
        if person:
            found.append(str(person))
    for child in node.get("content") or []:
        if isinstance(child, Mapping):
            found += _adf_mentions(child, inside)
    return found


# Links and mentions carry `?` and words that ask nothing: `https://wiki/x?page=2`.
_LINKS = re.compile(r"\[[^\]|]*\|[^\]]*\]|https?://\S+|\[~[^\]]*\]")
QUESTION_MARKS = ("?", "？")


def asks_something(body: Any, words: Sequence[str], not_words: Sequence[str] = ()) -> bool:
    """Say whether a comment asks anything: a question mark or a request word in its own words
    (outside quotes, code and links). An FYI that only mentions people starts no clock.

    Words match without regard to case; `not_words` are taken out first, so that 申请 (an
    application) does not count as 请 (please).
    """
    if isinstance(body, Mapping):
        text = _adf_text(body)
    elif isinstance(body, str):
        text = own_words(body)
    else:
        return False
    text = _LINKS.sub(" ", text).casefold()
    for word in not_words:
        text = text.replace(word.casefold(), " ")
    return any(mark in text for mark in QUESTION_MARKS) or any(
        word.casefold() in text for word in words
    )


def _adf_text(node: Mapping[str, Any]) -> str:
    """An ADF document's own text, without quotes, code or link marks."""
    if node.get("type") in ("blockquote", "codeBlock"):
        return " "
    text = str(node.get("text") or "")
    if any((mark or {}).get("type") == "link" for mark in node.get("marks") or []):
        text = " "
    parts = [text]
    for child in node.get("content") or []:
        if isinstance(child, Mapping):
            parts.append(_adf_text(child))
    return " ".join(parts)


def first_lines(body: Any, limit: int = 2, width: int = 120) -> str:
    """The first lines of what someone asked, for quoting in a reminder (wiki markup kept short)."""
    text = body if isinstance(body, str) else ""
    lines = [line.strip() for line in own_words(text).splitlines() if line.strip()][:limit]
    joined = " / ".join(lines)
    return joined if len(joined) <= width else joined[: width - 1] + "…"
