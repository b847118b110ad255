"""The options both doors share, written once: the `lab` command and the pytest plugin
take the same names with the same defaults (pytest's older names stay as aliases), and
one builder turns them into a LabRequest: flags over oxlab.toml over the lab's defaults.

An option is a row: its flags, what argparse / pytest's addoption need, and where it
applies (`cli`, `pytest`). `add(parser, "seed", ...)` puts the row's option on an
argparse parser; `add_pytest_options` puts the pytest rows into pytest's group."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.chaos.runner import CLIENT_CHOICES
from lab.infra.errors import ConfigError
from lab.operator.project import Project, find_project, load_project
from lab.plan.failover import DEFAULT_PROFILE, PROFILES
from lab.plan.flavours import DEFAULT_FLAVOUR, FLAVOURS
from lab.plan.topology import DBLB_MODES, DEFAULT_DBLB, DEFAULT_TOPOLOGY, TOPOLOGIES, LabRequest
from lab.roles.db.galera_config import DEFAULT_JOIN, DEFAULT_SST_METHOD, SST_METHODS
from lab.roles.db.storage import DEFAULT_STORAGE, STORAGE_MODES
from lab.verify.target import Target, target_from_inventory

DEFAULT_NAME = "default"  # the lab `lab up` keeps when no --name is given


@dataclass(frozen=True)
class Option:
    """One option of both doors: `flag` on `lab` and pytest, `aliases` on pytest only
    (the names it had before the doors agreed)."""

    flag: str
    dest: str
    attrs: dict[str, Any]
    aliases: tuple[str, ...] = ()
    pytest: bool = True  # pytest takes it (topology and dblb are the fixtures' choice)
    cli: bool = True  # `lab` takes it (--shard and --longest-first cut a test run only)


OPTIONS: dict[str, Option] = {
    o.dest: o
    for o in (
        Option(
            "--config",
            "config",
            {
                "metavar": "PATH",
                "help": "the operator's oxlab.toml (default: ./oxlab.toml if there is one)",
            },
            aliases=("--lab-config",),
        ),
        Option(
            "--topology",
            "topology",
            {"help": f"one of {', '.join(TOPOLOGIES)} (default {DEFAULT_TOPOLOGY})"},
            pytest=False,
        ),
        Option(
            "--flavour",
            "flavour",
            {
                "action": "append",
                "help": f"one of {', '.join(FLAVOURS)}; default: oxlab.toml's flavours, "
                f"else {DEFAULT_FLAVOUR} (repeatable where several run: matrix, lint, "
                "images build, pytest)",
            },
        ),
        Option(
            "--profile",
            "profile",
            {"help": f"failover profile: {', '.join(PROFILES)} (default {DEFAULT_PROFILE})"},
            aliases=("--failover-profile",),
        ),
        Option(
            "--sst",
            "sst",
            {"help": f"SST method: {', '.join(SST_METHODS)} (default {DEFAULT_SST_METHOD})"},
            aliases=("--sst-method",),
        ),
        Option(
            "--join",
            "join",
            {
                "help": "Galera: seeded (every node from the image's seeded state, no state "
                "transfer, joins at once) or sst (the guide's path: fresh datadirs, serial "
                f"joins by SST); default {DEFAULT_JOIN}"
            },
        ),
        Option(
            "--dblb",
            "dblb",
            {
                "help": "the load balancer in front of the databases: "
                + "; ".join(f"{name} ({text})" for name, text in DBLB_MODES.items())
                + f"; default {DEFAULT_DBLB}"
            },
            pytest=False,
        ),
        Option(
            "--storage",
            "storage",
            {
                "choices": list(STORAGE_MODES),
                "help": "the databases' fsync: "
                + "; ".join(f"{name} ({text})" for name, text in STORAGE_MODES.items())
                + f". Default {DEFAULT_STORAGE}; under pytest: fast when no selected test "
                "is marked chaos or durable, else disk",
            },
        ),
        Option(
            "--shard",
            "shard",
            {
                "metavar": "K/N",
                "help": "run the K-th of N shards of near-equal measured time "
                "(.test_durations, refreshed by `lab bench suite`); N runners with "
                "K = 1..N run every test exactly once",
            },
            cli=False,
        ),
        Option(
            "--longest-first",
            "longest_first",
            {
                "action": "store_true",
                "help": "start the modules with the most measured time first (on by "
                "itself under -n)",
            },
            cli=False,
        ),
        Option(
            "--lab-docker-hosts",
            "docker_hosts",
            {
                "metavar": "H1,H2",
                "help": "Docker engines as DOCKER_HOST names them (unix://, tcp://, ssh://): "
                "xdist worker gwN runs its labs on engine N mod the count (without -n: the "
                "first); each lab stays whole on one engine",
            },
            cli=False,
        ),
        Option(
            "--inventory",
            "inventory",
            {
                "metavar": "FILE",
                "help": "Ansible inventory of your hosts, groups named after the roles "
                "(default: oxlab.toml's [verify] inventory)",
            },
            aliases=("--lab-inventory",),
        ),
        Option(
            "--credentials",
            "credentials",
            {
                "metavar": "FILE",
                "help": "for --inventory: [client] user/password, [groupware] login/password "
                "(default: oxlab.toml's [verify] credentials)",
            },
            aliases=("--lab-credentials",),
        ),
        Option(
            "--seed",
            "seed",
            {"type": int, "default": 1, "help": "chaos: fault schedule seed (reproducible)"},
            aliases=("--chaos-seed",),
        ),
        Option(
            "--client",
            "client",
            {
                "action": "append",
                "choices": CLIENT_CHOICES,
                "help": "chaos workloads' client: ox-pool (OX's JDBC pool with your "
                "configdb.properties; default) or aggressive (2 s timeouts); sysbench runs "
                "sysbench's oltp_write_only beside it (repeatable)",
            },
            aliases=("--chaos-client",),
        ),
        Option(
            "--report-dir",
            "report_dir",
            {"default": "lab-reports", "help": "where chaos reports and histories go"},
            aliases=("--chaos-report-dir",),
        ),
    )
}
# what a lab is made of
LAB_FLAGS = ("topology", "flavour", "profile", "sst", "join", "dblb", "storage")


def add(parser: argparse.ArgumentParser, *dests: str, **overrides: Any) -> None:
    """The shared options `dests` on one command (`overrides` change the attributes, as
    a default that differs)."""
    for dest in dests:
        option = OPTIONS[dest]
        parser.add_argument(option.flag, dest=dest, **{**option.attrs, **overrides})


def add_lab_flags(parser: argparse.ArgumentParser) -> None:
    """What a lab is made of: flags over oxlab.toml over the lab's defaults."""
    add(parser, *LAB_FLAGS)


def add_name(
    parser: argparse.ArgumentParser, what: str = "the lab", default: str = DEFAULT_NAME
) -> None:
    parser.add_argument(
        "--name", default=default, help=f"{what} (default {default}; several may run)"
    )


def add_width(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--width", type=int, default=100, help="terminal columns")


def add_pytest_options(addoption: Callable[..., None]) -> None:
    """The rows pytest takes, under the same names as `lab`, old names as aliases."""
    for option in OPTIONS.values():
        if option.pytest:
            addoption(option.flag, *option.aliases, dest=option.dest, **option.attrs)


def config_parent() -> argparse.ArgumentParser:
    """--config on every command (before or after the command's name)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--config", default=argparse.SUPPRESS, **OPTIONS["config"].attrs)
    return parent


def project_of(config: str | None, *search: Path) -> Project | None:
    """--config PATH, else oxlab.toml in the first of `search` that has one, else none
    (the lab's own files)."""
    if config:
        return load_project(Path(config))
    found = find_project(*(search or (Path.cwd(),)))
    return load_project(found) if found else None


def request_of(
    value: Callable[[str], Any], project: Project | None, one_flavour: bool = True
) -> LabRequest:
    """The LabRequest of the doors' options (`value(dest)`, None where not given)."""
    flavours: Sequence[str] = value("flavour") or ()
    if one_flavour and len(flavours) > 1:
        raise ConfigError(
            f"--flavour given {len(flavours)} times; this command runs one lab "
            "(`lab matrix` runs several flavours)"
        )
    return LabRequest.of(
        project,
        topology=value("topology"),
        flavour=flavours[0] if flavours else None,
        profile=value("profile"),
        sst_method=value("sst"),
        join=value("join"),
        dblb=value("dblb"),
        storage=value("storage"),
    )


def flavours_of(value: Callable[[str], Any], project: Project | None) -> list[str]:
    """Every --flavour, else oxlab.toml's flavours, else the default one."""
    return list(value("flavour") or (project.flavours if project else ()) or [DEFAULT_FLAVOUR])


def args_value(args: argparse.Namespace) -> Callable[[str], Any]:
    return lambda dest: getattr(args, dest, None)


def project(args: argparse.Namespace) -> Project | None:
    return project_of(getattr(args, "config", None))


def request(args: argparse.Namespace, one_flavour: bool = True) -> LabRequest:
    """Flags win over oxlab.toml, which wins over the lab's defaults."""
    return request_of(args_value(args), project(args), one_flavour)


def given(args: argparse.Namespace, *dests: str) -> list[str]:
    """Which of `dests` the user gave (their flags), for a command that cannot honour
    them and says so rather than silently overriding."""
    return [OPTIONS[d].flag for d in dests if getattr(args, d, None) not in (None, [], False)]


def add_inventory(parser: argparse.ArgumentParser, inventory_help: str | None = None) -> None:
    add(parser, "inventory", **({"help": inventory_help} if inventory_help else {}))
    add(parser, "credentials")


def inventory_target(args: argparse.Namespace, from_project: bool = True) -> Target | None:
    """The operator's hosts: --inventory (else, if `from_project`, oxlab.toml's [verify]
    inventory) with --credentials (else [verify] credentials); None without an inventory."""
    known = project(args)
    inventory = args.inventory or (from_project and known and known.inventory)
    if not inventory:
        return None
    credentials = args.credentials or (known and known.credentials)
    if not credentials:
        raise ConfigError(
            "--inventory needs a credentials file (--credentials FILE or oxlab.toml "
            "[verify] credentials): the OX database user and a groupware test user"
        )
    return target_from_inventory(Path(inventory), Path(credentials))


class _Subcommands:
    """A command's own subcommands (`chaos run`, `images build`), each taking --config."""

    def __init__(self, parser: argparse.ArgumentParser, dest: str) -> None:
        self._sub = parser.add_subparsers(dest=dest, required=True)

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return self._sub.add_parser(name, parents=[config_parent()], **kwargs)  # type: ignore[no-any-return]


def subcommands(parser: argparse.ArgumentParser, dest: str) -> _Subcommands:
    return _Subcommands(parser, dest)
