"""What the emulator and browser tests need from the machine: without it they skip on a
developer's machine and fail under CI (``CI=true``, set by .ci/run), where a skip would count an
unproven test as passing."""

import os
from typing import NoReturn

import pytest


def missing(what: str) -> NoReturn:
    """``what`` is not installed: fail under CI, skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(what)
    else:
        pytest.skip(what)
