"""The guide's names for its roles, the one vocabulary of the lab: a role's image folder
(`lab/images/<role>/`), its table in oxlab.toml (`[<role>]`), its folder in the
examples (`examples/guide/<role>/`), its `lab verify` section, its container label and
its inventory groups all use the name in the first column. Names the lab used before
(`[database]`, `--section haproxy`, ...) are still understood, never printed."""

from __future__ import annotations

from dataclasses import dataclass

from lab.infra.errors import ConfigError


@dataclass(frozen=True)
class RoleName:
    name: str  # the guide's role, as every part of the lab spells it
    guide: str  # the guide's section that sets it up
    what: str
    groups: tuple[str, ...]  # the inventory groups (and container labels) of its machines
    old: tuple[str, ...] = ()  # earlier names, still accepted on input


VOCABULARY: tuple[RoleName, ...] = (
    RoleName(
        "db",
        "Galera database setup; Master/Slave",
        "the configdb databases",
        ("galera", "dbmaster", "dbslave"),
        ("database", "mysql"),
    ),
    RoleName(
        "dblb", "Loadbalancer options", "HAProxy in front of the databases", ("dblb",), ("haproxy",)
    ),
    RoleName(
        "web", "Apache", "Apache's front end balancing over AJP", ("web",), ("frontend", "apache")
    ),
    RoleName(
        "groupware", "Open-Xchange", "the OX groupware nodes", ("groupware",), ("ox", "oxnode")
    ),
    RoleName(
        "filestore", "distributed file storage", "the NFS filestore", ("filestore",), ("nfs",)
    ),
)
ROLE_NAMES = tuple(r.name for r in VOCABULARY)
_OLD = {old: r.name for r in VOCABULARY for old in r.old}


def role_name(word: str, where: str) -> str:
    """The guide's name for `word`, which may be an earlier name of the role (any case);
    a ConfigError naming `where` and the known names otherwise."""
    lowered = word.lower()
    if lowered in ROLE_NAMES:
        return lowered
    if lowered in _OLD:
        return _OLD[lowered]
    raise ConfigError(f"{where}: unknown role {word!r}; known: {', '.join(ROLE_NAMES)}")


def current(word: str) -> str:
    """`word` in today's vocabulary: an earlier name of a role becomes the role's name,
    anything else (a verify section such as galera) is returned as it is."""
    lowered = word.lower()
    return _OLD.get(lowered, lowered if lowered in ROLE_NAMES else word)
