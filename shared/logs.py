"""Structured logs: one JSON object per line on stdout, which Cloud Logging parses.

Only ids, types, codes and counts are meant to be logged. As a second line of defence every
string is escaped by JSON (no forged lines from ``\\r\\n``) and anything shaped like a secret or
an email address is masked before it is written.
"""

import json
import logging
import re
import sys
from typing import Any

_SECRET = re.compile(
    r"(sk|rk|pk)_(live|test)_[0-9A-Za-z]+|whsec_[0-9A-Za-z_]+|pat-[a-z0-9]+-[0-9a-f-]+"
    r"|(?i:bearer)\s+\S+|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
)
_SAFE_TYPES = (bool, int, float, type(None))

logger = logging.getLogger("omniroo")


def mask(text: str) -> str:
    return _SECRET.sub("[redacted]", text)


def _clean(value: Any) -> Any:
    if isinstance(value, _SAFE_TYPES):
        return value
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return mask(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        entry = {"severity": record.levelname, "message": mask(record.getMessage())}
        entry.update({key: _clean(value) for key, value in fields.items()})
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=True, sort_keys=True)


class _StdoutHandler(logging.Handler):
    """Writes to whatever ``sys.stdout`` is at the time, so captured output sees every line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            self.handleError(record)


def setup(level: int = logging.INFO) -> None:
    """Install the JSON handler once per process."""
    if any(isinstance(h, _StdoutHandler) for h in logger.handlers):
        return
    handler = _StdoutHandler()
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def info(message: str, **fields: Any) -> None:
    logger.info(message, extra={"fields": fields})


def warning(message: str, **fields: Any) -> None:
    logger.warning(message, extra={"fields": fields})


def alert(message: str, **fields: Any) -> None:
    """Something an operator must look at; log-based alert policies match ``alert: true``."""
    logger.error(message, extra={"fields": {**fields, "alert": True}})
