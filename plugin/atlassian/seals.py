"""Proof that a mark in Jira is crossdept's own word: an HMAC under a key Jira never holds.

Anyone who may edit an issue may also write its properties over REST, so `crossdept.item`,
`crossdept.tree` and `crossdept.comments` prove nothing by being there. crossdept seals each
value it writes with HMAC-SHA256 under `CROSSDEPT_MARK_KEY`, over the property's name, the issue
it is bound to and the value itself, and believes a value read back only when its seal checks.
The key lives in the settings, never in Jira or in the store, so a lost store still recovers
from Jira, and a site administrator reading the properties cannot make one.

A property written after its issue exists is bound to that issue's key, so a sealed value copied
to another issue does not check. `crossdept.item` is written in the create call, before the issue
has a key; the gateway checks copies of it against the mark book (plugin.atlassian.marks).
https://developer.atlassian.com/cloud/jira/platform/jira-entity-properties/ (anyone with edit
permission may set an issue's properties)
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

SEAL_FIELD = "seal"
# The version names the scheme, so a later one can be told apart from a forged value.
SEAL_PREFIX = "v1:"


class MarkSeal:
    """Seals and opens crossdept's issue properties under one key."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("a mark seal needs a key")
        self._key = key.encode("utf-8")

    def seal(self, name: str, value: Mapping[str, Any], issue: str = "") -> dict[str, Any]:
        """The value to write: `value` with a seal over the name, the issue it is bound to and it."""
        plain = {k: v for k, v in value.items() if k != SEAL_FIELD}
        return {**plain, SEAL_FIELD: SEAL_PREFIX + self._mac(name, plain, issue)}

    def open(self, name: str, value: Any, issue: str = "") -> dict[str, Any] | None:
        """The value without its seal when the seal checks; None for anything else."""
        if not isinstance(value, Mapping):
            return None
        seal = value.get(SEAL_FIELD)
        if not isinstance(seal, str) or not seal.startswith(SEAL_PREFIX):
            return None
        plain = {str(k): v for k, v in value.items() if k != SEAL_FIELD}
        expected = self._mac(name, plain, issue)
        if not hmac.compare_digest(seal.removeprefix(SEAL_PREFIX), expected):
            return None
        return plain

    def _mac(self, name: str, plain: Mapping[str, Any], issue: str) -> str:
        canonical = json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        message = "\n".join((name, issue, canonical)).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
