"""The one shape every guide role of a lab has (`roles/<role>/role.py`): how it is
launched in the guide's order, found again from its containers' labels (`lab status`
on a kept lab), what keeps it from its healthy steady state, and which nodes it has.
`Lab` (system.py) keeps only the guide's order and asks each role in turn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from docker.models.containers import Container

from lab.infra.nodes import Node

if TYPE_CHECKING:
    from lab.roles.system import Lab


class Role(Protocol):
    name: str  # the guide's name for it: db, dblb, groupware, web

    def launch(self, lab: Lab) -> object:
        """Start the role's containers on the lab's network, set up as the guide says."""
        ...

    def attach(self, lab: Lab, containers: Sequence[Container]) -> None:
        """Take the role's part of a running lab's containers (by their labels)."""
        ...

    def problems(self, lab: Lab) -> list[str]:
        """What keeps it from its healthy steady state (empty: healthy)."""
        ...

    def nodes(self, lab: Lab) -> list[Node]: ...


def labelled(containers: Sequence[Container], role: str) -> list[Container]:
    """The containers of one role, by the lab's role label, in node-name order."""
    from lab.infra.docker_env import LABEL_NODE, LABEL_ROLE

    found = [c for c in containers if c.labels.get(LABEL_ROLE) == role]
    return sorted(found, key=lambda c: c.labels.get(LABEL_NODE, c.name))
