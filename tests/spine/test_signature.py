"""A delivery proves itself by Jira's HMAC signature, or (Automation) by the shared token."""

from __future__ import annotations

import pytest

from plugin.spine.errors import SignatureError
from plugin.spine.signature import authenticate, sign, verify_signature, verify_token

# From hibernate/replicate-jira's RequestSignatureFilterTest, checked against Python's hmac.
VECTOR_SECRET = b"wrong-secret"
VECTOR_BODY = b"smth"
VECTOR_SIGNATURE = "sha256=beb656dd03b5a81bee94aab4966943bf694929fcd359c45a1947277df2541a5d"


def test_the_published_test_vector_verifies() -> None:
    verify_signature(VECTOR_SECRET, VECTOR_BODY, VECTOR_SIGNATURE)


def test_sign_produces_the_published_test_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_method_prefix_is_parsed_case_insensitively_and_uppercase_hex_accepted() -> None:
    verify_signature(VECTOR_SECRET, VECTOR_BODY, "SHA256=" + VECTOR_SIGNATURE[7:].upper())


def test_other_websub_methods_verify_too() -> None:
    verify_signature(b"s", b"body", sign(b"s", b"body", "sha512"))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "no X-Hub-Signature"),
        ("", "no X-Hub-Signature"),
        (VECTOR_SIGNATURE[7:], "not `sha256="),
        ("md5=" + "0" * 32, "not `sha256="),
        ("sha256=" + "0" * 64, "does not match"),
        ("sha256=", "does not match"),
        ("sha256=" + "é" * 64, "does not match"),
    ],
)
def test_a_missing_or_wrong_signature_is_refused(header: str | None, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason) as raised:
        verify_signature(VECTOR_SECRET, VECTOR_BODY, header)
    assert raised.value.status == 401


def test_the_signature_covers_every_byte_of_the_body() -> None:
    with pytest.raises(SignatureError):
        verify_signature(VECTOR_SECRET, VECTOR_BODY + b" ", VECTOR_SIGNATURE)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    with pytest.raises(SignatureError):
        verify_signature(b"right-secret", VECTOR_BODY, VECTOR_SIGNATURE)


def test_the_shared_token_must_match_exactly() -> None:
    verify_token(b"tok", "tok")
    for wrong in (None, "", "tok2", "to", "tök"):
        with pytest.raises(SignatureError):
            verify_token(b"tok", wrong)


def test_a_signed_delivery_is_checked_against_the_secret_even_when_a_token_would_pass() -> None:
    headers = {"X-Hub-Signature": "sha256=" + "0" * 64, "X-Crossdept-Token": "tok"}
    with pytest.raises(SignatureError, match="does not match"):
        authenticate(headers, b"{}", secret=b"s", shared_token=b"tok", allow_unsigned=True)


def test_an_unsigned_delivery_is_refused_unless_allowed() -> None:
    with pytest.raises(SignatureError, match="no X-Hub-Signature"):
        authenticate({}, b"{}", secret=b"s")


def test_an_unsigned_delivery_needs_the_token_when_one_is_set() -> None:
    assert (
        authenticate(
            {"x-crossdept-token": "tok"},
            b"{}",
            secret=b"s",
            shared_token=b"tok",
            allow_unsigned=True,
        )
        == "token"
    )
    with pytest.raises(SignatureError, match="neither"):
        authenticate({}, b"{}", secret=b"s", shared_token=b"tok", allow_unsigned=True)


def test_headers_are_matched_case_insensitively() -> None:
    headers = {"x-hub-signature": sign(b"s", b"{}")}
    assert authenticate(headers, b"{}", secret=b"s") == "signature"


def test_without_a_secret_nothing_passes_unless_unsigned_is_allowed() -> None:
    with pytest.raises(SignatureError, match="no webhook secret"):
        authenticate({"X-Hub-Signature": sign(b"s", b"{}")}, b"{}", secret=None)
    with pytest.raises(SignatureError, match="no shared token"):
        authenticate({}, b"{}", secret=None, allow_unsigned=True)
