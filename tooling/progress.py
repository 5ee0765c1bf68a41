"""A plain-text progress bar on stderr for the operator's long commands.

On a terminal it redraws one line (``\\r``); anywhere else (a pipe, a CI log) it prints a line
at most every ``every`` seconds and at the end, so logs stay readable. stdout stays free for the
command's result, which scripts read.
"""

import sys
import time
from typing import TextIO

WIDTH = 30


class Bar:
    def __init__(self, label: str, stream: TextIO | None = None, every: float = 5.0) -> None:
        self._label = label
        self._stream = stream or sys.stderr
        self._every = every
        self._last = -float("inf")
        self._drawn = ""
        self._tty = self._stream.isatty()

    def show(self, done: int, total: int, note: str = "", force: bool = False) -> None:
        line = render(self._label, done, total, note)
        now = time.monotonic()
        if line == self._drawn or (not force and not self._tty and now - self._last < self._every):
            return
        self._last, self._drawn = now, line
        if self._tty:
            self._stream.write("\r" + line + "\x1b[K")
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._tty and self._drawn:
            self._stream.write("\n")
            self._stream.flush()


def render(label: str, done: int, total: int, note: str = "") -> str:
    """``label [#########.....] 450/1000  45%  note``; a total of 0 means not known yet."""
    if total <= 0:
        return f"{label} {done}  {note}".rstrip()
    share = min(1.0, done / total)
    filled = int(share * WIDTH)
    bar = "#" * filled + "." * (WIDTH - filled)
    return f"{label} [{bar}] {done}/{total} {share:4.0%}  {note}".rstrip()
