"""Logs are one JSON line per delivery, carrying its delivery id and issue key, and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from tests.conftest import SHARED_TOKEN, WEBHOOK_SECRET, load_sample, signed_post
from webhooks.logs import REDACTED, JsonFormatter, configure_logging, gunicorn_logger_class
from webhooks.settings import Settings

ISSUE_CREATED = load_sample("jira_issue_created__mattermost_mattermost-plugin-jira__2")


@pytest.fixture
def all_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        CROSSDEPT_ALLOW_UNSIGNED="true",
        CROSSDEPT_SHARED_TOKEN=SHARED_TOKEN,
        CROSSDEPT_DATABASE_URL="sqlite:///unused.db",
    )


@pytest.fixture
def log_stream(all_settings: Settings) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("DEBUG", secrets=all_settings.secret_values(), stream=stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def receiver_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [line for line in lines(stream) if line["logger"].startswith("webhooks.")]


def test_an_accepted_delivery_logs_one_debug_line_with_delivery_and_issue(
    all_settings: Settings, make_app: Callable[[Settings], Flask], log_stream: io.StringIO
) -> None:
    client = make_app(all_settings).test_client()
    signed_post(client, ISSUE_CREATED, delivery="log-1")

    [line] = receiver_lines(log_stream)
    assert line["message"] == "delivery accepted"
    assert (line["delivery"], line["issue"], line["event"], line["status"]) == (
        "log-1",
        "TES-41",
        "jira:issue_created",
        202,
    )
    assert line["level"] == "DEBUG" and line["duration_ms"] >= 0 and line["time"]


def test_a_rejected_delivery_logs_its_reason(
    all_settings: Settings, make_app: Callable[[Settings], Flask], log_stream: io.StringIO
) -> None:
    client = make_app(all_settings).test_client()
    signed_post(client, ISSUE_CREATED, delivery="log-2", secret="forged")
    [line] = receiver_lines(log_stream)
    assert (line["message"], line["delivery"], line["status"]) == (
        "delivery rejected",
        "log-2",
        401,
    )
    assert "does not match" in line["reason"]


def test_no_secret_reaches_the_log(
    all_settings: Settings, make_app: Callable[[Settings], Flask], log_stream: io.StringIO
) -> None:
    client = make_app(all_settings).test_client()
    signed_post(client, ISSUE_CREATED)
    signed_post(client, ISSUE_CREATED, secret=None, headers={"X-Crossdept-Token": SHARED_TOKEN})
    signed_post(client, ISSUE_CREATED, secret=None, headers={"X-Crossdept-Token": "guess"})
    signed_post(client, b"{broken", secret=None, headers={"X-Crossdept-Token": SHARED_TOKEN})
    client.get("/healthz")
    client.get("/metrics")
    # Even a careless line that logs settings or a secret outright is scrubbed.
    careless = logging.getLogger("plugin.careless")
    careless.info("settings are %r", all_settings)
    careless.warning("token is %s", SHARED_TOKEN, extra={"secret": WEBHOOK_SECRET})
    try:
        raise RuntimeError(f"failed with {WEBHOOK_SECRET}")
    except RuntimeError:
        careless.exception("boom")

    text = log_stream.getvalue()
    assert len(lines(log_stream)) >= 7
    for secret in all_settings.secret_values():
        assert secret not in text
    assert REDACTED in text


def test_secrets_with_json_special_characters_are_scrubbed_too() -> None:
    record = logging.makeLogRecord({"msg": 'key is a"b\\c', "name": "x", "levelname": "INFO"})
    line = JsonFormatter(['a"b\\c']).format(record)
    assert json.loads(line)["message"] == f"key is {REDACTED}"


def test_every_line_is_json_even_for_odd_extras() -> None:
    record = logging.makeLogRecord(
        {"msg": "odd", "name": "x", "levelname": "INFO", "delivery": b"\xff", "when": object()}
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "odd" and "delivery" in entry and "when" in entry


def test_an_accepted_delivery_costs_exactly_one_log_line_in_all(
    all_settings: Settings, make_app: Callable[[Settings], Flask], log_stream: io.StringIO
) -> None:
    client = make_app(all_settings).test_client()
    signed_post(client, ISSUE_CREATED, delivery="log-3")

    assert [line["message"] for line in lines(log_stream)] == ["delivery accepted"]


def test_at_info_the_web_logs_rejections_but_not_each_accepted_delivery(
    all_settings: Settings, make_app: Callable[[Settings], Flask], log_stream: io.StringIO
) -> None:
    logging.getLogger().setLevel("INFO")
    client = make_app(all_settings).test_client()
    signed_post(client, ISSUE_CREATED, delivery="log-4")
    client.post("/webhooks/jira", data=b"{}", headers={"X-Hub-Signature": "sha256=00"})

    assert [(line["level"], line["message"]) for line in receiver_lines(log_stream)] == [
        ("INFO", "delivery rejected")
    ]


def test_times_are_utc_iso_8601_with_milliseconds() -> None:
    from datetime import UTC, datetime

    formatter = JsonFormatter()
    for created in (1_700_000_000.0, 1_700_000_000.9996, 1_700_000_061.25):
        record = logging.makeLogRecord({"msg": "t", "name": "x", "levelname": "INFO"})
        record.created = created
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert json.loads(formatter.format(record))["time"] == expected


def test_gunicorn_lines_are_json_lines_in_the_same_stream(
    log_stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    from gunicorn.config import Config

    config = Config()
    config.set("errorlog", "-")
    gunicorn_log = gunicorn_logger_class()(config)
    gunicorn_log.info("Booting worker with pid: %s", 4242)
    gunicorn_log.error("Worker (pid:%s) was sent SIGKILL!", 4243)

    assert [(line["level"], line["message"]) for line in lines(log_stream)] == [
        ("INFO", "Booting worker with pid: 4242"),
        ("ERROR", "Worker (pid:4243) was sent SIGKILL!"),
    ]
    assert capsys.readouterr().err == ""  # gunicorn's own plain-text handler is gone


@pytest.mark.parametrize("secret", ["e", "ting", "worker", "a-long-random-webhook-secret-0123"])
def test_scrubbing_touches_whole_values_only_never_keys_or_parts_of_words(secret: str) -> None:
    formatter = JsonFormatter([secret])

    def logged(msg: str, *args: object, **extras: object) -> dict[str, object]:
        record = logging.makeLogRecord(
            {"msg": msg, "args": args, "name": "x", "levelname": "INFO", **extras}
        )
        entry: dict[str, object] = json.loads(formatter.format(record))  # every line parses
        assert set(entry) == {"time", "level", "logger", "message", *extras}  # keys as logged
        return entry

    plain = logged("Worker exiting (pid: 42)", status="waiting", issue="XD-1")
    assert plain["message"] == "Worker exiting (pid: 42)"  # no part of a word is touched
    assert plain["status"] == "waiting"

    said = logged("token is %s", secret, header=f"Bearer {secret}", nested={"list": [secret, 1]})
    assert said["message"] == f"token is {REDACTED}"
    assert said["header"] == f"Bearer {REDACTED}"
    assert said["nested"] == {"list": [REDACTED, 1]}

    keyed = logged(f"url ?token={secret}&x=1", **{secret: "a key is never scrubbed"})
    assert keyed["message"] == f"url ?token={REDACTED}&x=1"
    assert keyed[secret] == "a key is never scrubbed"
