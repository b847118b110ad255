"""The rule engine of `lab lint`: a Finding, the LintContext every rule reads (the operator's
files parsed once), the RULES registry and BLOCKS_UP, the rules whose findings also stop
`lab up`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lab.infra.errors import LabError
from lab.operator import parsers
from lab.operator.parsers import Section, Setting
from lab.operator.project import OperatorFile, Project
from lab.oxnode.config import PoolSettings
from lab.plan.flavours import Flavour
from lab.plan.resolved import Plan
from lab.plan.topology import Topology
from lab.roles.dblb.haproxy_config import READ_PORT, WRITE_PORT

ERROR, WARNING, INFO = "error", "warning", "info"

# configdb.properties keys -> OX's pool settings (their defaults are OX's documented ones)
POOL_KEYS = {
    "maxIdleTime": "max_idle_time_ms",
    "maxLifeTime": "max_life_time_ms",
    "socketTimeout": "socket_timeout_ms",
    "connectTimeout": "connect_timeout_ms",
}
OX_UID = "1001"  # the guide: open-xchange is "typically 1001:1001", equal on every machine
GROUPWARE_ROUTES = ("OX1", "OX2")  # the routes the lab gives oxgw01/oxgw02 (--jkroute)
PROVISIONING_PATH = "/servlet/axis2/services"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    file: Path
    line: int
    what: str
    why: str
    fix: str

    def render(self, base: Path | None = None) -> str:
        path = self.file
        if base:
            try:
                path = self.file.relative_to(base.resolve())
            except ValueError:
                pass
        where = f"{path}:{self.line}"
        return f"{self.rule} {self.severity} {where}: {self.what}; why: {self.why}; do: {self.fix}"


@dataclass
class LintContext:
    """The operator's files, parsed once, and what the lab knows about the target."""

    project: Project
    topology: Topology
    flavours: tuple[Flavour, ...]
    _cache: dict[str, object] = field(default_factory=dict)

    def files(self, role: str, key: str | None = None) -> list[OperatorFile]:
        """The operator's files of a role this topology has (a smaller topology, say a
        `galera` lab of a `guide-galera` project, runs the roles it has)."""
        if role not in self.topology.roles:
            return []
        return self.project.files_of(role, key)

    def one(self, role: str, key: str) -> OperatorFile | None:
        found = self.files(role, key)
        return found[0] if found else None

    def hosts(self) -> dict[str, str]:
        """Host names the files may use -> lab node: every node as itself, plus [hosts];
        in lower case, as DNS compares names."""
        found = {name: name for name in self.topology.node_names}
        found.update(dict(self.project.hosts))
        return {name.lower(): node for name, node in found.items()}

    def db_settings(self) -> list[tuple[OperatorFile, Setting]]:
        """Every server option the operator's .cnf files set, in the order mysqld reads."""
        ordered = self.files("db", "ox_cnf") + self.files("db", "cnf")
        return [(f, s) for f in ordered for s in parsers.server_settings(f.text).values()]

    def db_setting(self, key: str) -> tuple[OperatorFile, Setting] | None:
        found = [(f, s) for f, s in self.db_settings() if s.key == key]
        return found[-1] if found else None

    def configdb(self) -> tuple[OperatorFile, dict[str, Setting]] | None:
        f = self.one("groupware", "configdb_properties")
        return (f, parsers.properties(f.text)) if f else None

    def pool_ms(self, key: str) -> tuple[int, str]:
        """A JDBC/pool setting in ms: the operator's configdb.properties, or OX's default."""
        found = self.configdb()
        if found:
            f, props = found
            for setting, value in jdbc_settings(props, key):
                if value.strip().isdigit():
                    return int(value), f"{f.name}:{setting.line}"
        return int(getattr(PoolSettings(), POOL_KEYS[key])), "OX's default"

    def haproxy(self) -> tuple[OperatorFile, list[Section]] | None:
        f = self.one("dblb", "haproxy_cfg")
        return (f, parsers.haproxy_sections(f.text)) if f else None

    def listener_on(self, port: str) -> Section | None:
        found = self.haproxy()
        return parsers.servers_for_port(found[1], port) if found else None

    def write_port(self) -> str:
        return self._url_port("writeUrl", str(WRITE_PORT))

    def read_port(self) -> str:
        return self._url_port("readUrl", str(READ_PORT))

    def _url_port(self, key: str, default: str) -> str:
        """The port of configdb.properties' readUrl/writeUrl (the guide's listeners)."""
        found = self.configdb()
        url = found[1].get(key) if found else None
        port = re.search(r"//[^/:]+:(\d+)", url.value) if url else None
        return port.group(1) if port else default


Rule = Callable[[LintContext], Iterator[Finding]]
RULES: dict[str, tuple[str, Rule]] = {}  # id -> (one-line summary, rule)
# Rules whose findings also stop `lab up` before Docker (placement.operator_notes): the
# cluster could not form on such files. One list: `lab lint` reports what `lab up` refuses.
BLOCKS_UP: set[str] = set()


def register(rule_id: str, summary: str, check: Rule, blocks_up: bool = False) -> None:
    """Make `check` lint rule `rule_id`. A call right after the function, not a
    decorator: mutmut leaves decorated functions unmutated, and the rules are the
    decisions its score must cover (tools/mutants.py)."""
    if rule_id in RULES:
        raise LabError(f"lint rule {rule_id} is registered twice")
    RULES[rule_id] = (summary, check)
    if blocks_up:
        BLOCKS_UP.add(rule_id)


def explain(plan: Plan, rules: Sequence[str]) -> list[str]:
    """The operator's settings behind a chaos figure: lint's findings of `rules` on the
    plan's files, rendered (empty on the lab's own files)."""
    if plan.project is None or not rules:
        return []
    base = plan.project.path.parent
    found = lint(plan.project, plan.topology, (plan.flavour,))
    return [f.render(base) for f in found if f.rule in rules]


def lint(
    project: Project,
    topology: Topology,
    flavours: tuple[Flavour, ...],
    only: Sequence[str] | set[str] | None = None,
) -> list[Finding]:
    """Every rule (or the `only` ones) over the operator's files; sorted by file and line."""
    context = LintContext(project, topology, flavours)
    chosen = [fn for rule_id, (_, fn) in RULES.items() if only is None or rule_id in only]
    findings = [f for fn in chosen for f in fn(context)]
    return sorted(findings, key=lambda f: (str(f.file), f.line, f.rule))


def blocking_findings(plan: Plan) -> list[Finding]:
    """The findings that stop `lab up` on the plan's files (BLOCKS_UP)."""
    if plan.project is None:
        return []
    return lint(plan.project, plan.topology, (plan.flavour,), only=BLOCKS_UP)


def jdbc_settings(props: dict[str, Setting], name: str) -> list[tuple[Setting, str]]:
    """Every place configdb.properties sets the JDBC property `name`, with its value:
    `name=v`, `readProperty.name=v`, OX's `readProperty.N=name=v`, or `?name=v` in a
    read/write URL."""
    found = []
    for s in props.values():
        key, _, value = s.value.partition("=")
        if s.key == name or s.key.endswith(f".{name}"):
            found.append((s, s.value))
        elif s.key.startswith(("readProperty.", "writeProperty.")) and key == name:
            found.append((s, value))
        elif s.key in ("readUrl", "writeUrl"):
            found += [(s, v) for v in re.findall(rf"[?&]{name}=([^&]*)", s.value)]
    return found
