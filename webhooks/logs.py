"""One JSON line per log record, with the delivery and issue it concerns and no secret in it."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
REDACTED = "[redacted]"


class JsonFormatter(logging.Formatter):
    """Format records as one JSON object per line; scrub known secret values from the result.

    Runs once per webhook delivery, so it avoids per-call setup: one encoder, the secrets'
    JSON-escaped forms computed up front, and the time's seconds part formatted once a second.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is scrubbed whole. A secret with quotes
        # or backslashes appears escaped inside the JSON text, so its escaped form goes too.
        scrub: list[str] = []
        for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
            scrub.append(secret)
            escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
            if escaped != secret:
                scrub.append(escaped)
        self._secrets = scrub
        self._encoder = json.JSONEncoder(default=str, ensure_ascii=False)
        self._second: tuple[int, str] = (-1, "")

    def _time(self, created: float) -> str:
        second = int(created)
        cached = self._second  # one tuple read: safe when threads race to refresh it
        if cached[0] != second:
            cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._second = cached
        return f"{cached[1]}.{int((created - second) * 1000):03d}+00:00"

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
        line: str = self._encoder.encode(entry)
        for secret in self._secrets:
            if secret in line:
                line = line.replace(secret, REDACTED)
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
