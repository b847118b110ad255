"""Files the control machine keeps for a run (its CA certificate) belong to the run's
engine: with labs on several engines, one engine's cleanup sees only its own labels and
must not remove a CA file a live lab on another engine still serves clients with (CI
once lost the guide lab's CA when a lab on a second engine was taken down)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from lab.infra.docker_env import LABEL_RUN, RunIdentity, remove_orphan_run_files


@dataclass
class Listing:
    items: list[Any] = field(default_factory=list)

    def list(self, **_: Any) -> list[Any]:
        return self.items


@dataclass
class Labelled:
    attrs: dict[str, Any]


@dataclass(eq=False)
class Engine:
    """An engine as docker's client shows it: its daemon ID and its labelled containers."""

    daemon_id: str
    containers: Listing = field(default_factory=Listing)
    networks: Listing = field(default_factory=Listing)
    volumes: Listing = field(default_factory=Listing)

    root: str = "/var/lib/docker"

    def info(self) -> dict[str, str]:
        return {"ID": self.daemon_id, "Name": "host1", "DockerRootDir": self.root}

    def running(self, run: RunIdentity) -> Engine:
        self.containers.items.append(Labelled({"Config": {"Labels": run.labels()}}))
        return self


def write_ca(path: str) -> str:
    with open(path, "w", encoding="ascii") as f:
        f.write("-----BEGIN CERTIFICATE-----\n")
    return path


def test_a_ca_file_of_another_engines_live_run_survives_this_engines_cleanup() -> None:
    run_a, run_b = RunIdentity.new("on-a", keep=True), RunIdentity.new("on-b", keep=True)
    a = Engine("engine-a-oxlab-test").running(run_a)
    b = Engine("engine-b-oxlab-test")  # run_b was taken down: nothing of it is left
    ca_a, ca_b = write_ca(run_a.ca_file(a)), write_ca(run_b.ca_file(b))  # type: ignore[arg-type]
    try:
        assert os.path.dirname(ca_a) != os.path.dirname(ca_b), "each engine's own directory"
        removed = remove_orphan_run_files(b)  # type: ignore[arg-type]
        assert removed == [ca_b], "engine b's orphan goes"
        assert os.path.exists(ca_a), "engine a's live run keeps its CA file"
        assert remove_orphan_run_files(a) == [], "and engine a's own cleanup keeps it too"  # type: ignore[arg-type]
        a.containers.items.clear()
        assert remove_orphan_run_files(a) == [ca_a], "until its run is gone"  # type: ignore[arg-type]
    finally:
        for path in (ca_a, ca_b):
            if os.path.exists(path):
                os.remove(path)


def test_two_engines_on_one_machine_with_one_daemon_id_keep_their_files_apart() -> None:
    """A second dockerd beside the first reports the same ID (both read /etc/docker's
    key): their data roots tell them apart."""
    run = RunIdentity.new("beside", keep=False)
    first = Engine("same-id-oxlab-test")
    second = Engine("same-id-oxlab-test", root="/var/lib/oxlab-engine2")
    assert os.path.dirname(run.ca_file(first)) != os.path.dirname(run.ca_file(second))  # type: ignore[arg-type]


def test_a_runs_ca_file_name_says_its_lab_and_run() -> None:
    run = RunIdentity.new("named", keep=False)
    path = run.ca_file(Engine("engine-c-oxlab-test"))  # type: ignore[arg-type]
    assert os.path.basename(path) == f"oxlab-named-{run.run_id}-ca.pem"
    assert LABEL_RUN in run.labels()
