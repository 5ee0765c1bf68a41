"""Calls made side by side: a drain round's Stripe list pages, kind by kind, and its HubSpot
batch calls, a few at a time."""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor


def each[T, R](work: Callable[[T], R], items: Sequence[T], parallel: int) -> list[R]:
    """``work`` on every item, at most ``parallel`` at once, results in the items' order; the
    first error is raised once every call has ended (none is left running behind it)."""
    if len(items) <= 1 or parallel <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = [pool.submit(work, item) for item in items]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]  # type: ignore[misc]
    return [f.result() for f in futures]
