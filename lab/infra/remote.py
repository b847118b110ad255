"""One way to reach a machine of the cluster: a lab container (`docker exec`, as root)
and an operator's host (SSH through testinfra, `sudo -n` where the login is not root)
are both a Remote. Faults, leftovers, `lab exec` and the checks that read files go
through these four verbs, so a fault is written once for both transports."""

from __future__ import annotations

from typing import Protocol

from lab.infra.nodes import ExecResult


class Remote(Protocol):
    """A machine the lab reaches: run a shell command line as root (bounded by a
    timeout, so a frozen machine cannot hang the lab), start one in the background, and
    read or write one file."""

    @property
    def name(self) -> str: ...

    def sh(self, command: str, timeout_s: int = 30) -> ExecResult: ...

    def spawn(self, command: str) -> None: ...

    def read_text(self, path: str) -> str | None: ...

    def put_file(self, path: str, data: bytes) -> None: ...
