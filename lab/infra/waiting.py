"""Polling with a deadline: the one way the lab waits for anything (never a fixed sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from lab.infra.errors import StartupError

T = TypeVar("T")


def poll(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    retry_on: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``probe`` until it returns something truthy, or time runs out.

    Exceptions listed in ``retry_on`` count as "not yet"; anything else propagates at once,
    so a probe can fail fast (e.g. a container that exited) instead of burning the timeout.
    Raises StartupError naming ``what`` and the last retried error when the deadline passes.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = probe()
            if result:
                return result
        except retry_on as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise StartupError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)
