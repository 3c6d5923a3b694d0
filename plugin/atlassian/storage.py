"""Confluence storage format, both ways: how people are mentioned in a page, and a page shown
as plain HTML for a local preview (`--preview`) before anything is published."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape


@dataclass(frozen=True)
class People:
    """How to show and mention people: display names, and on Data Center Confluence user keys."""

    names: Mapping[str, str] = field(default_factory=dict)
    user_keys: Mapping[str, str] = field(default_factory=dict)
    cloud: bool = True

    def name(self, account: str) -> str:
        """A person's display name (their account id or username when Jira did not say)."""
        return self.names.get(account, account)

    def mention(self, account: str) -> str:
        """Storage markup that mentions a person: account id on Cloud, user key on Data Center."""
        if self.cloud:
            ref = f'ri:account-id="{escape(account)}"'
        elif account in self.user_keys:
            ref = f'ri:userkey="{escape(self.user_keys[account])}"'
        else:  # Confluence Data Center still reads the older username reference
            ref = f'ri:username="{escape(account)}"'
        return f"<ac:link><ri:user {ref} /></ac:link>"


_NAMESPACES = {
    "ac": "http://atlassian.com/content",
    "ri": "http://atlassian.com/resource/identifier",
}
_AC = "{" + _NAMESPACES["ac"] + "}"
_RI = "{" + _NAMESPACES["ri"] + "}"


def parse_storage(body: str) -> ElementTree.Element:
    """Parse a storage-format body as XML (its namespaces declared on a wrapper element)."""
    declarations = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in _NAMESPACES.items())
    return ElementTree.fromstring(f"<storage {declarations}>{body}</storage>")


def preview_html(title: str, body: str, people: People) -> str:
    """A standalone HTML page showing a storage-format body as Confluence would, for `--preview`."""
    root = parse_storage(body)
    by_user_key = {key: account for account, key in people.user_keys.items()}
    _to_html(root, people, by_user_key)
    inner = "".join(
        ElementTree.tostring(child, encoding="unicode", method="html") for child in root
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .6em;"
        "text-align:left}.mention{color:#0052cc}.task{list-style:none}</style>"
        f"</head><body><h1>{escape(title)}</h1>{inner}</body></html>\n"
    )


def _to_html(element: ElementTree.Element, people: People, by_user_key: Mapping[str, str]) -> None:
    """Rewrite Confluence elements in place into plain HTML."""
    for child in list(element):
        _to_html(child, people, by_user_key)
        if child.tag == f"{_AC}link":
            user = child.find(f"{_RI}user")
            reference = next(iter(user.attrib.values()), "") if user is not None else ""
            account = by_user_key.get(reference, reference)
            tail = child.tail
            child.clear()
            child.tag, child.text, child.tail = "span", f"@{people.name(account)}", tail
            child.set("class", "mention")
        elif child.tag == "time":
            child.tag, child.text = "strong", child.get("datetime", "")
            child.attrib.pop("datetime", None)
        elif child.tag == f"{_AC}task-list":
            child.tag = "ul"
        elif child.tag == f"{_AC}task":
            body = child.find("span")  # the task body, already rewritten
            done = (child.findtext(f"{_AC}task-status") or "") == "complete"
            for part in list(child):
                child.remove(part)
            child.tag, child.text = "li", ("☑ " if done else "☐ ")
            child.set("class", "task")
            if body is not None:
                child.text += body.text or ""
                child.extend(list(body))
        elif child.tag == f"{_AC}task-body":
            child.tag = "span"
