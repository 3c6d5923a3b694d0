"""Shared fixtures: recorded webhook samples, settings from a dict, a fresh app per test, signed posts."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from plugin.spine.deliveries import Deliveries
from plugin.spine.inbox import Inbox
from plugin.spine.queue import DeliveryQueue, make_queue
from plugin.spine.signature import sign
from plugin.spine.store import Store, metadata
from tests.fakes import ALL_TABLES, EpochClock
from webhooks.settings import Settings, load_settings
from webhooks.web.app import create_app

SAMPLES = Path(__file__).parent / "samples"
# Recorded from real Jira instances (see each file's name for its source).
RECORDED_SAMPLES = sorted(SAMPLES.glob("*.json"))
# Written by us from documented shapes where no recording was at hand.
HANDWRITTEN_SAMPLES = sorted((SAMPLES / "handwritten").glob("*.json"))
ALL_SAMPLES = RECORDED_SAMPLES + HANDWRITTEN_SAMPLES

WEBHOOK_SECRET = "test-webhook-secret"
SHARED_TOKEN = "test-shared-token"


REPO_ROOT = Path(__file__).resolve().parent.parent


def load_sample(name: str) -> bytes:
    """Return a sample's raw bytes by file name (with or without `.json`), recorded or handwritten."""
    name = name if name.endswith(".json") else f"{name}.json"
    for path in (SAMPLES / name, SAMPLES / "handwritten" / name):
        if path.exists():
            return path.read_bytes()
    raise FileNotFoundError(f"no sample named {name}")


def load_sample_json(name: str) -> Any:
    """Return a sample decoded."""
    return json.loads(load_sample(name))


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """A complete, valid environment for a Cloud site; tests change or drop entries."""
    return {
        "CROSSDEPT_JIRA_URL": "https://example.atlassian.net",
        "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
        "CROSSDEPT_JIRA_EMAIL": "crossdept@example.com",
        "CROSSDEPT_JIRA_API_TOKEN": "test-jira-api-token",
        "CROSSDEPT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CROSSDEPT_DATA_DIR": str(tmp_path / "data"),
        # The samples were captured years ago; the age check's own tests turn it back on.
        "CROSSDEPT_MAX_DELIVERY_AGE": "0",
    }


@pytest.fixture
def settings(environ: dict[str, str]) -> Settings:
    """Settings loaded from `environ` the way the service loads them."""
    return load_settings(environ)


@pytest.fixture
def make_settings(environ: dict[str, str]) -> Callable[..., Settings]:
    """Build settings from `environ` with changes: `make_settings(CROSSDEPT_X="1", CROSSDEPT_Y=None)`."""

    def build(**changes: str | None) -> Settings:
        merged = dict(environ)
        for name, value in changes.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return load_settings(merged)

    return build


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Inbox]:
    """The real inbox on a fresh SQLite store and SQLite queue in this test's directory."""
    (tmp_path / "store").mkdir(exist_ok=True)
    store = Store(f"sqlite:///{tmp_path / 'store' / 'crossdept.db'}")
    store.create_all(ALL_TABLES)
    queue = make_queue(f"sqlite:///{tmp_path / 'queue' / 'queue.db'}", name=f"t{uuid.uuid4().hex}")
    yield Inbox(store, queue)
    store.dispose()


@pytest.fixture
def make_app(inbox: Inbox) -> Callable[[Settings], Flask]:
    """Build a fresh app on this test's inbox from given settings."""

    def build(settings: Settings) -> Flask:
        app = create_app(settings, inbox=inbox)
        app.testing = True
        return app

    return build


@pytest.fixture
def app(settings: Settings, make_app: Callable[[Settings], Flask]) -> Flask:
    """A fresh app per test, from the default test settings."""
    return make_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the fresh app."""
    return app.test_client()


Body = bytes | str | Mapping[str, Any] | list[Any]


def encode_body(body: Body) -> bytes:
    """Return the bytes to send: JSON for objects and lists, UTF-8 for text, bytes unchanged."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def signed_post(
    client: FlaskClient,
    body: Body,
    *,
    secret: str | None = WEBHOOK_SECRET,
    delivery: str | None = "auto",
    headers: Mapping[str, str] | None = None,
    path: str = "/webhooks/jira",
) -> TestResponse:
    """POST a body to the webhook as Jira Cloud would: signed, with a fresh delivery identifier.

    `secret=None` sends no signature; `delivery=None` sends no X-Atlassian-Webhook-Identifier.
    `headers` are added last, so a test can override any of the above.
    """
    raw = encode_body(body)
    sent: dict[str, str] = {"Content-Type": "application/json; charset=utf-8"}
    if secret is not None:
        sent["X-Hub-Signature"] = sign(secret.encode(), raw)
    if delivery == "auto":
        sent["X-Atlassian-Webhook-Identifier"] = uuid.uuid4().hex
    elif delivery is not None:
        sent["X-Atlassian-Webhook-Identifier"] = delivery
    sent.update(headers or {})
    return client.post(path, data=raw, headers=sent)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store on SQLite, and on PostgreSQL when CROSSDEPT_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/crossdept.db"
    else:
        url = os.environ.get("CROSSDEPT_TEST_DATABASE_URL", "")
        if not url:
            pytest.skip("CROSSDEPT_TEST_DATABASE_URL is not set: no PostgreSQL to test against")
    store = Store(url)
    metadata.drop_all(store.engine)
    store.create_all(ALL_TABLES)
    yield store
    store.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite store only, for modules whose tests need a real file but not every backend."""
    store = Store(f"sqlite:///{tmp_path}/crossdept.db")
    store.create_all(ALL_TABLES)
    yield store
    store.dispose()


@pytest.fixture
def clock() -> EpochClock:
    """A clock the test moves by hand, in Unix seconds (what the store records)."""
    return EpochClock()


@pytest.fixture
def deliveries(store: Store, clock: EpochClock) -> Deliveries:
    """The deliveries table on this module's `store`, timed by `clock`."""
    return Deliveries(store, clock=clock)


@pytest.fixture(params=["sqlite", "redis"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeliveryQueue]:
    """A fresh queue on SQLite (in a directory not made yet), and on Redis when
    CROSSDEPT_TEST_QUEUE_URL is set."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/new-dir/queue.db"
    else:
        url = os.environ.get("CROSSDEPT_TEST_QUEUE_URL", "")
        if not url:
            pytest.skip("CROSSDEPT_TEST_QUEUE_URL is not set: no Redis to test against")
    queue = make_queue(url, name=f"test-{uuid.uuid4().hex}")
    yield queue
    queue.flush()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger back as it was: CLI commands configure logging for their process."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def cli_environment(tmp_path: Path) -> dict[str, str]:
    """A complete environment for commands, Jira unreachable, the data directory not yet made."""
    return {
        "CROSSDEPT_DATA_DIR": str(tmp_path / "data"),
        "CROSSDEPT_RULES": str(REPO_ROOT / "config" / "rules.yaml"),
        "CROSSDEPT_JIRA_URL": "http://127.0.0.1:9",
        "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
        "CROSSDEPT_JIRA_EMAIL": "bot@example.com",
        "CROSSDEPT_JIRA_API_TOKEN": "not-a-real-token",
        "CROSSDEPT_JIRA_ACCOUNT_ID": "crossdept-bot",
        "CROSSDEPT_ALLOW_UNSIGNED": "true",
        "CROSSDEPT_SHARED_TOKEN": "shared-token-for-tests",
        "CROSSDEPT_MAX_DELIVERY_AGE": "0",  # the samples were captured years ago
    }


@pytest.fixture
def runner(cli_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner whose process environment is exactly `cli_environment`'s CROSSDEPT_*."""
    for name in list(os.environ):
        if name.startswith("CROSSDEPT_"):
            monkeypatch.delenv(name)
    for name, value in cli_environment.items():
        monkeypatch.setenv(name, value)
    return CliRunner()


@pytest.fixture
def data_deliveries(tmp_path: Path) -> Deliveries:
    """The deliveries of the store in `cli_environment`'s data directory, as commands see it."""
    (tmp_path / "data").mkdir(exist_ok=True)
    store = Store(f"sqlite:///{tmp_path}/data/crossdept.db")
    store.create_all(ALL_TABLES)
    return Deliveries(store)
