"""Concurrent clients for workloads and samplers: one daemon thread each, stopped by an
event and joined (bounded, so a client stuck on a frozen server cannot hang the run)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

JOIN_TIMEOUT_S = 30.0


@contextmanager
def clients_running(
    target: Callable[..., None], args: Iterable[tuple[Any, ...]], stop: threading.Event
) -> Iterator[None]:
    """Run target(*a) for each a in `args` until the block ends, then stop and join."""
    threads = [threading.Thread(target=target, args=a, daemon=True) for a in args]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=JOIN_TIMEOUT_S)
