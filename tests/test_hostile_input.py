"""Hostile input, property-based (hypothesis): the receiver and the rules file never crash.

10,000 generated and mutated webhook deliveries (bodies from the recorded samples with values
replaced, keys dropped and types changed; bodies made from nothing; headers mangled) reach the
receiver signed and unsigned: never a 5xx, every refusal a JSON reason, and nothing stored for a
refused delivery. Mutated rules files go through `crossdept check-config`: an error with its
place or a pass, never a traceback. Examples are derandomized, so CI runs the same inputs each
time; CROSSDEPT_FUZZ_SCALE multiplies their number for a longer local hunt.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from plugin.spine.deliveries import deliveries
from plugin.spine.inbox import Inbox
from plugin.spine.signature import sign
from tests.conftest import ALL_SAMPLES, WEBHOOK_SECRET
from webhooks.cli import cli

SCALE = float(os.environ.get("CROSSDEPT_FUZZ_SCALE", "1"))
REPO = Path(__file__).resolve().parents[1]
SAMPLES = [json.loads(path.read_bytes()) for path in ALL_SAMPLES]


def fuzz(examples: int) -> Any:
    """Hypothesis settings for one property: this many examples, the same ones every run."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated_samples(draw: st.DrawFn) -> Any:
    """A recorded Jira body with a few places replaced by anything, or removed."""
    body = json.loads(json.dumps(draw(st.sampled_from(SAMPLES))))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(body) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return body


def count(inbox: Inbox) -> int:
    with inbox.store.begin() as db:
        return int(db.execute(select(func.count()).select_from(deliveries)).scalar() or 0)


def post(client: FlaskClient, raw: bytes, headers: dict[str, str]) -> Any:
    return client.post("/webhooks/jira", data=raw, headers=headers)


def check(client: FlaskClient, inbox: Inbox, raw: bytes, headers: dict[str, str]) -> int:
    """Send one delivery; the receiver's promises hold whatever it was."""
    before = count(inbox)
    response = post(client, raw, headers)
    assert response.status_code < 500, (raw[:200], headers, response.data[:300])
    assert response.is_json, response.data[:200]
    if response.status_code >= 400:
        reason = response.get_json().get("reason")
        assert isinstance(reason, str) and reason
        assert count(inbox) == before, "a refused delivery was stored"
    elif response.status_code == 202:
        assert count(inbox) == before + 1
    return int(response.status_code)


def signed(raw: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature": sign(WEBHOOK_SECRET.encode(), raw),
        "X-Atlassian-Webhook-Identifier": uuid.uuid4().hex,
    }


@fuzz(3500)
@given(body=mutated_samples(), compact=st.booleans())
def test_mutated_jira_bodies(client: FlaskClient, inbox: Inbox, body: Any, compact: bool) -> None:
    raw = json.dumps(body, separators=(",", ":") if compact else None).encode()
    check(client, inbox, raw, signed(raw))


@fuzz(3000)
@given(body=json_values)
def test_bodies_made_from_nothing(client: FlaskClient, inbox: Inbox, body: Any) -> None:
    raw = json.dumps(body).encode()
    check(client, inbox, raw, signed(raw))


header_values = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF, blacklist_categories=["Cs"]),
    max_size=300,
)


@fuzz(1000)
@given(
    body=st.sampled_from(SAMPLES),
    identifier=st.none() | header_values,
    signature=st.sampled_from(["right", "wrong", "missing", "garbage"]),
    garbage=header_values,
    content_type=st.sampled_from(
        ["application/json", "text/plain", "", "application/x-www-form-urlencoded"]
    ),
    extra=st.dictionaries(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20).map(
            lambda h: "X-" + h
        ),
        header_values,
        max_size=5,
    ),
)
def test_mangled_headers(
    client: FlaskClient,
    inbox: Inbox,
    body: Any,
    identifier: str | None,
    signature: str,
    garbage: str,
    content_type: str,
    extra: dict[str, str],
) -> None:
    raw = json.dumps(body).encode()
    headers = {**extra, "Content-Type": content_type}
    if identifier is not None:
        headers["X-Atlassian-Webhook-Identifier"] = identifier
    if signature == "right":
        headers["X-Hub-Signature"] = sign(WEBHOOK_SECRET.encode(), raw)
    elif signature == "wrong":
        headers["X-Hub-Signature"] = sign(b"another-secret-0123456789", raw)
    elif signature == "garbage":
        headers["X-Hub-Signature"] = garbage
    status = check(client, inbox, raw, headers)
    if signature != "right":
        assert status == 401


RULES = (REPO / "config" / "rules.yaml").read_text(encoding="utf-8")
RULE_LINES = RULES.splitlines()


@st.composite
def mutated_rules(draw: st.DrawFn) -> str:
    """The shipped rules file with lines dropped, duplicated, re-indented or given odd values."""
    lines = list(RULE_LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "indent", "value", "noise"]))
        line = lines[index]
        if action == "drop":
            del lines[index]
        elif action == "dup":
            lines.insert(index, line)
        elif action == "indent":
            lines[index] = " " * draw(st.integers(0, 7)) + line.lstrip()
        elif action == "value" and ":" in line:
            head = line.split(":", 1)[0]
            value = draw(
                st.sampled_from(
                    [
                        "",
                        "null",
                        "[]",
                        "{}",
                        "-1",
                        "99999999999999999999",
                        "'",
                        "[x",
                        "2026-13-45",
                        "48x",
                        "true",
                        "~",
                    ]
                )
                | header_values.map(json.dumps)
            )
            lines[index] = f"{head}: {value}"
        else:
            lines[index] = line + draw(header_values)
    return "\n".join(lines) + "\n"


@fuzz(300)
@given(text=mutated_rules())
def test_mutated_rules_files_are_reported_never_crash(tmp_path: Path, text: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-config", str(path)])
    assert result.exit_code in (0, 1), (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert "rules.yaml" in result.output  # the error names the file (and its line)
