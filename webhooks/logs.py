"""One JSON line per log record, with the delivery and issue it concerns and no secret in it."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

import orjson

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
REDACTED = "[redacted]"


class JsonFormatter(logging.Formatter):
    """Format records as one JSON object per line; scrub known secret values from the values.

    Scrubbing touches values only, never keys, and replaces a secret only where it stands whole:
    not as part of a longer word, so a short value cannot mangle ordinary text. Runs once per
    webhook delivery, so it avoids per-call setup: one encoder, one compiled pattern, and the
    time's seconds part formatted once a second.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is scrubbed whole.
        ordered = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._scrub: re.Pattern[str] | None = (
            re.compile(
                r"(?<![\w])(?:" + "|".join(re.escape(secret) for secret in ordered) + r")(?![\w])"
            )
            if ordered
            else None
        )
        self._encoder = json.JSONEncoder(default=str, ensure_ascii=False)
        self._second: tuple[int, str] = (-1, "")

    def _time(self, created: float) -> str:
        second = int(created)
        cached = self._second  # one tuple read: safe when threads race to refresh it
        if cached[0] != second:
            cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._second = cached
        return f"{cached[1]}.{int((created - second) * 1000):03d}+00:00"

    def _clean(self, value: Any) -> Any:
        """Scrub secrets from a value: strings, and the strings inside lists and mappings."""
        assert self._scrub is not None
        if isinstance(value, str):
            return self._scrub.sub(REDACTED, value)
        if isinstance(value, dict):
            return {key: self._clean(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._clean(item) for item in value]
        if value is None or isinstance(value, (bool, int, float)):
            return value
        return self._scrub.sub(REDACTED, str(value))

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line: time, level, logger, message, then the extras."""
        entry: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key[0] != "_":
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if self._scrub is not None:
            entry = {key: self._clean(value) for key, value in entry.items()}
        try:
            return orjson.dumps(entry, default=str).decode("utf-8")
        except TypeError:  # e.g. a dict with non-string keys: the standard library's ways
            line: str = self._encoder.encode(entry)
            return line


def configure_logging(
    level: str = "INFO", *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to `stream` (stderr) as JSON lines; replace earlier crossdept setup.

    Pass `settings.secret_values()` as `secrets` so they are scrubbed even if code logs one.
    Returns the handler, which tests may remove again.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_crossdept", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    handler._crossdept = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def gunicorn_logger_class() -> type[Any]:
    """A gunicorn logger whose own lines (start-up, worker boots, errors) go out as JSON lines too.

    gunicorn gives its error log a plain-text handler of its own; this drops that handler and
    lets the records reach the root logger that `configure_logging` set up, so one stream holds
    one format. The access log stays off, as crossdept logs each delivery itself.
    """
    from gunicorn import glogging

    class JsonLinesLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn ships no type hints
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for handler in list(self.error_log.handlers):
                self.error_log.removeHandler(handler)
            self.error_log.propagate = True

    return JsonLinesLogger
