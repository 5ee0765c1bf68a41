"""The embedded Queue: one worker thread plays Pub/Sub and its push subscription locally.

``publish`` only enqueues. The worker hands each message to the handler, retries a
``TransientError`` with exponential backoff and jitter (waiting on the injected clock), and
dead-letters a message once its attempts are spent, or at once for any other exception. Logs
name the event by id and type only. The worker outlives every handler failure.
"""

import queue
import random
import threading
import time
from collections.abc import Callable

from shared import logs
from shared.clock import Clock
from shared.errors import QueueUnavailable, TransientError
from shared.queue.base import ThinMessage

# Whatever the handler returns (push.handle returns its outcome) is ignored.
Handler = Callable[[ThinMessage], object]
DeadLetter = Callable[[ThinMessage, Exception], None]


class InProcQueue:
    def __init__(
        self,
        handler: Handler,
        clock: Clock,
        max_attempts: int = 5,
        backoff: float = 1.0,
        on_dead_letter: DeadLetter | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._handler = handler
        self._clock = clock
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._on_dead_letter = on_dead_letter
        self.attempts: list[tuple[str, int]] = []
        self._messages: queue.Queue[ThinMessage | None] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="omniroo-inproc-queue", daemon=True)
        self._worker.start()

    def publish(self, message: ThinMessage) -> None:
        with self._idle:
            if self._closed:
                raise QueueUnavailable("in-process queue is closed")
            self._pending += 1
            # Enqueued under the lock, so that it can never land behind close()'s sentinel.
            self._messages.put(message)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait (in real time) until every published message has been handled or dead-lettered."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Refuse new messages, let the worker finish those already queued, and stop it."""
        with self._idle:
            if self._closed:
                return
            self._closed = True
            self._messages.put(None)
        self._worker.join(timeout)

    def _run(self) -> None:
        while (message := self._messages.get()) is not None:
            try:
                self._deliver(message)
            except BaseException:  # the worker must survive anything, even a logging failure
                logs.alert("in-process queue worker error", event_id=message.event_id)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _deliver(self, message: ThinMessage) -> None:
        for attempt in range(1, self._max_attempts + 1):
            self.attempts.append((message.event_id, attempt))
            try:
                self._handler(message)
                return
            except TransientError as exc:
                if attempt == self._max_attempts:
                    self._dead_letter(message, exc, attempt)
                    return
                logs.warning(
                    "event delivery will be retried",
                    event_id=message.event_id,
                    type=message.type,
                    attempt=attempt,
                    error_type=type(exc).__name__,
                )
                self._clock.sleep(self._delay(attempt))
            except Exception as exc:
                self._dead_letter(message, exc, attempt)
                return

    def _delay(self, attempt: int) -> float:
        ceiling = self._backoff * 2.0 ** (attempt - 1)
        # Jitter keeps messages that failed together from retrying in lockstep; not security.
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311

    def _dead_letter(self, message: ThinMessage, error: Exception, attempts: int) -> None:
        # The error's text may quote a remote's answer about a customer: log its type only.
        fields = {
            "event_id": message.event_id,
            "project_id": message.project_id,
            "type": message.type,
            "attempts": attempts,
            "error_type": type(error).__name__,
        }
        if self._on_dead_letter is None:
            logs.alert("event dead-lettered", **fields)
            return
        logs.warning("event dead-lettered", **fields)
        try:
            self._on_dead_letter(message, error)
        except Exception as exc:
            logs.alert("dead-letter handler failed", **fields, dl_error_type=type(exc).__name__)
