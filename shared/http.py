"""Turning typed errors into HTTP answers, the same way for every HTTP function."""

import json

from shared import logs
from shared.errors import BadRequest, NotFound, OmnirooError, TransientError

Response = tuple[str, int, dict[str, str]]
_JSON = {"Content-Type": "application/json"}


def reply(status: int, **body: object) -> Response:
    return json.dumps(body), status, _JSON


def error_response(exc: OmnirooError, where: str) -> Response:
    """4xx with the reason for what the caller can fix; 5xx (retry) for the rest."""
    if isinstance(exc, (BadRequest, NotFound)):
        logs.warning(f"{where} refused", reason=str(exc), status=exc.status)
        return reply(exc.status, error=str(exc))
    if isinstance(exc, TransientError):
        logs.alert(f"{where} failed, asking the sender to retry", error_type=type(exc).__name__)
        return reply(exc.status, error="temporarily unavailable, retry later")
    logs.alert(f"{where} failed", error_type=type(exc).__name__)
    return reply(500, error="internal error")
