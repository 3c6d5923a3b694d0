"""Decide whether a webhook delivery really comes from our Jira, from headers and raw bytes only."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Protocol

from plugin.spine.errors import SignatureError

# Jira signs admin webhooks that have a secret with the WebSub format `method=hexdigest`:
# https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks
# https://confluence.atlassian.com/adminjiraserver/managing-webhooks-938846912.html
SIGNATURE_HEADER = "X-Hub-Signature"
# Jira Automation's "Send web request" cannot sign; it sends this header with a shared token.
TOKEN_HEADER = "X-Crossdept-Token"
# A Jira Server webhook (before Data Center 10) has no secret and no custom headers: its URL
# carries the shared token instead, /webhooks/jira?token=..., as other Jira receivers take it
# (e.g. n8n's Jira trigger "query auth", github.com/n8n-io/n8n/pull/8822).
TOKEN_QUERY = "token"


class Headers(Protocol):
    """Request headers: Werkzeug's (case-insensitive) or a plain dict."""

    def get(self, key: str, /) -> str | None:
        """Return one header's value."""
        ...

    def items(self) -> Iterable[tuple[str, str]]:
        """Return every header."""
        ...


_DIGESTS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def header_value(headers: Headers, name: str) -> str | None:
    """Look a header up case-insensitively, whether `headers` is Werkzeug's or a plain dict."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def sign(secret: bytes, body: bytes, method: str = "sha256") -> str:
    """Return the `X-Hub-Signature` value Jira would send for this body (used by tests and the bench)."""
    return f"{method}=" + hmac.new(secret, body, _DIGESTS[method]).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None) -> None:
    """Raise SignatureError unless `header` is the HMAC of the raw `body` under `secret`."""
    if not header:
        raise SignatureError(f"the delivery has no {SIGNATURE_HEADER} header")
    method, separator, given = header.strip().partition("=")
    digest = _DIGESTS.get(method.strip().lower())
    if not separator or digest is None:
        raise SignatureError(f"the {SIGNATURE_HEADER} header is not `sha256=<hex digest>`")
    expected = hmac.new(secret, body, digest).hexdigest()
    # compare_digest on ASCII bytes: a non-ASCII header must fail, not raise TypeError.
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "replace")):
        raise SignatureError(f"the {SIGNATURE_HEADER} signature does not match the body")


def verify_token(expected: bytes, header: str | None, *, where: str = TOKEN_HEADER) -> None:
    """Raise SignatureError unless `header` carries the shared token, compared in constant time."""
    if not header:
        raise SignatureError(
            f"the delivery has neither {SIGNATURE_HEADER}, nor {TOKEN_HEADER}, nor ?{TOKEN_QUERY}="
        )
    if not hmac.compare_digest(expected, header.strip().encode("utf-8", "replace")):
        raise SignatureError(f"the {where} token is wrong")


def admit_before_body(
    headers: Headers,
    *,
    secret: bytes | None,
    shared_token: bytes | None = None,
    allow_unsigned: bool = False,
    url_token: str | None = None,
) -> None:
    """Refuse, before a byte of the body is read, a delivery whose headers cannot pass.

    Only a signature needs the body; an unsigned delivery is refused, or its token checked, on
    its headers alone, so an anonymous client cannot make the service read 25 MB to say 401.
    """
    if secret is not None and header_value(headers, SIGNATURE_HEADER):
        return  # checked against the body once it is read
    authenticate(
        headers,
        b"",
        secret=secret,
        shared_token=shared_token,
        allow_unsigned=allow_unsigned,
        url_token=url_token,
    )


def authenticate(
    headers: Headers,
    body: bytes,
    *,
    secret: bytes | None,
    shared_token: bytes | None = None,
    allow_unsigned: bool = False,
    url_token: str | None = None,
) -> str:
    """Check the delivery's credentials; return how it proved itself: "signature", "token" or "none".

    A signed delivery is always checked against the secret and never falls back to the token.
    Unsigned deliveries pass only when allowed, and then must carry the token when one is set:
    in the X-Crossdept-Token header (Jira Automation) or the URL's `token` (Server webhooks).
    """
    signature = header_value(headers, SIGNATURE_HEADER)
    if secret is not None and signature:
        verify_signature(secret, body, signature)
        return "signature"
    if not allow_unsigned:
        if secret is None:
            # Settings refuse this combination at start-up; refuse here too rather than accept all.
            raise SignatureError(
                "the service has no webhook secret and refuses unsigned deliveries"
            )
        raise SignatureError(f"the delivery has no {SIGNATURE_HEADER} header")
    if shared_token is not None:
        header = header_value(headers, TOKEN_HEADER)
        if header is None and url_token is not None:
            verify_token(shared_token, url_token, where=f"?{TOKEN_QUERY}=")
        else:
            verify_token(shared_token, header)
        return "token"
    # Settings refuse to start like this; refuse here too rather than accept anyone's delivery.
    raise SignatureError("the service allows unsigned deliveries but has no shared token")
