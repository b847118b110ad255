"""oxlab.toml: the operator's project file. It names the topology, the flavours (the
matrix), the failover profile, and per role the operator's own files, which the lab then
runs unchanged. Read with the standard library's tomllib and checked completely before
Docker is touched: every problem is one line naming oxlab.toml and the line.

    [lab]
    topology = "guide-galera"
    flavours = ["mariadb-10.11"]
    profile = "fast"

    [hosts]                       # the names the operator's files use -> lab roles
    "db1.prod.example.net" = "galera1"

    [db]
    cnf = ["db/tuning.cnf"]    # placed after the lab's own .cnf files: they win
    [dblb]
    haproxy_cfg = "dblb/haproxy.cfg"
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from lab.infra.errors import ConfigError
from lab.infra.vocabulary import current

PROJECT_FILE = "oxlab.toml"


@dataclass(frozen=True)
class FileKey:
    """One key of a role's table naming a file (`many`: a list of files)."""

    role: str
    key: str
    many: bool = False


# where each file goes and what it may override: docs/configuration.md, and
# lab/operator/placement.py
FILE_KEYS: tuple[FileKey, ...] = (
    FileKey("db", "cnf", many=True),
    FileKey("db", "ox_cnf"),
    FileKey("dblb", "haproxy_cfg"),
    FileKey("dblb", "keepalived_conf", many=True),  # `--dblb keepalived`: one, or one per member
    FileKey("clustercheck", "settings"),
    FileKey("replcheck", "settings"),
    FileKey("web", "proxy_ajp_conf"),
    FileKey("web", "site"),
    FileKey("groupware", "configdb_properties"),
    FileKey("filestore", "exports"),
)
VERIFY_KEYS = ("inventory", "credentials")  # [verify]: files, relative to oxlab.toml


@dataclass(frozen=True)
class LintLimits:
    """[lint]: the operator's thresholds for lint's rules that depend on their load.
    DB009: gcache.size at least `gcache_redo_multiple` x the redo log, and at least the
    write-sets an outage of `ist_outage_s` produces at `write_mb_per_s` (a node down that
    long rejoins by IST, not SST). DB010: evs.suspect_timeout at least `stall_budget_s`,
    the longest a node of yours may stall (CPU starved, IO, a VM paused) while another
    dies without the two being suspected together."""

    gcache_redo_multiple: float = 1.0
    ist_outage_s: float = 60.0
    write_mb_per_s: float = 0.5
    # the lab's 2-core CI hosts stalled a mysqld's timers 2.6 s (and a 1.5 s freeze of a
    # survivor during a kill at suspect_timeout PT1S left the cluster non-Primary)
    stall_budget_s: float = 3.0


LINT_KEYS = tuple(LintLimits.__dataclass_fields__)
LAB_KEYS = ("topology", "flavours", "profile", "sst_method", "join", "dblb")
ROLES = tuple(dict.fromkeys(k.role for k in FILE_KEYS))


@dataclass(frozen=True)
class OperatorFile:
    """One of the operator's files, read once: the lab, lint and reports use this text."""

    role: str
    key: str
    path: Path
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def name(self) -> str:
        return self.path.name

    def record(self) -> dict[str, str]:
        """How a report names the file: path and hash."""
        return {"role": self.role, "key": self.key, "path": str(self.path), "sha256": self.sha256}


@dataclass(frozen=True)
class Project:
    """A parsed oxlab.toml; names are checked against the lab's tables by the plan."""

    path: Path
    topology: str | None
    flavours: tuple[str, ...]
    profile: str | None
    sst_method: str | None
    join: str | None
    hosts: tuple[tuple[str, str], ...]  # (host name in the operator's files, lab node)
    files: tuple[OperatorFile, ...]
    dblb: str | None = None  # the load balancer option (`--dblb`)
    # [verify]: the staging cluster `lab verify` checks over SSH, and its logins
    inventory: Path | None = None
    credentials: Path | None = None
    lint: LintLimits = LintLimits()

    def file(self, role: str, key: str) -> OperatorFile | None:
        return next((f for f in self.files if (f.role, f.key) == (role, key)), None)

    def files_of(self, role: str, key: str | None = None) -> list[OperatorFile]:
        return [f for f in self.files if f.role == role and key in (None, f.key)]

    def line_of(self, key: str, table: str | None = None) -> int:
        """The line of `key` (inside [table] when given) in oxlab.toml, for messages."""
        return line_of(self.path.read_text(encoding="utf-8"), key, table)

    def where(self, key: str, table: str | None = None) -> str:
        return f"{self.path}:{self.line_of(key, table)}"


def line_of(text: str, key: str, table: str | None = None) -> int:
    """1-based line of `key = ...` in TOML text (inside [table] if given); 1 if not found."""
    current: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            current = header.group(1).strip()
            if table is None and current == key:
                return number
            continue
        if (table is None or current == table) and re.match(
            rf"\s*\"?{re.escape(key)}\"?\s*=", line
        ):
            return number
    return 1


def find_project(*directories: Path) -> Path | None:
    """oxlab.toml in the first of `directories` that has one (cwd, then the rootdir)."""
    for directory in directories:
        candidate = directory / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def load_project(path: Path) -> Project:
    """Parse and check oxlab.toml; ConfigError('oxlab.toml:LINE: ...') on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the project file ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}:{_toml_line(exc, text)}: not valid TOML: {_toml_reason(exc)}"
        ) from None
    base = path.parent
    problems: list[str] = []

    spelled: dict[str, str] = {}  # a role table the file names by an earlier name

    def problem(message: str, key: str, table: str | None = None) -> None:
        where = spelled.get(table, table) if table else None
        problems.append(f"{path}:{line_of(text, key, where)}: {message}")

    for table in list(data):
        today = current(table)
        if today != table and today in ROLES:  # [database] is [db] (lab/infra/vocabulary.py)
            if today in data:
                problem(f"[{table}] and [{today}] are the same table; keep [{today}]", table)
                continue
            data[today] = data.pop(table)
            spelled[today] = table

    known_tables = {"lab", "hosts", "verify", "lint", *ROLES}
    for table in data:
        if table not in known_tables:
            problem(f"unknown table [{table}]; known: {', '.join(sorted(known_tables))}", table)
    lab = _table(data, "lab", problem)
    for key in lab:
        if key not in LAB_KEYS:
            problem(f"unknown key {key!r} in [lab]; known: {', '.join(LAB_KEYS)}", key, "lab")
    raw_flavours = lab.get("flavours", [])
    flavours: list[str] = []
    if isinstance(raw_flavours, list) and all(isinstance(f, str) for f in raw_flavours):
        flavours = list(raw_flavours)
    else:
        problem('flavours must be a list of names, e.g. ["mariadb-10.11"]', "flavours", "lab")
    strings: dict[str, str | None] = {}
    for key in ("topology", "profile", "sst_method", "join", "dblb"):
        value = lab.get(key)
        if value is not None and not isinstance(value, str):
            problem(f"{key} must be a string", key, "lab")
            value = None
        strings[key] = value  # type: ignore[assignment]
    hosts = []
    for host, node in _table(data, "hosts", problem).items():
        if not isinstance(node, str):
            problem(f"host {host!r} must map to a lab node name (a string)", host, "hosts")
            continue
        hosts.append((host, node))
    verify_paths: dict[str, Path | None] = {}
    verify = _table(data, "verify", problem)
    for key in verify:
        if key not in VERIFY_KEYS:
            problem(
                f"unknown key {key!r} in [verify]; known: {', '.join(VERIFY_KEYS)}", key, "verify"
            )
    for key in VERIFY_KEYS:
        value = verify.get(key)
        if value is not None and not isinstance(value, str):
            problem(f"verify.{key} must name a file path", key, "verify")
            value = None
        verify_paths[key] = (base / value).resolve() if value else None
    limits: dict[str, float] = {}
    for key, value in _table(data, "lint", problem).items():
        if key not in LINT_KEYS:
            problem(f"unknown key {key!r} in [lint]; known: {', '.join(LINT_KEYS)}", key, "lint")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problem(f"lint.{key} must be a number of at least 0", key, "lint")
        else:
            limits[key] = float(value)
    files = []
    for role in ROLES:
        keys = {k.key: k for k in FILE_KEYS if k.role == role}
        for key, value in _table(data, role, problem).items():
            spec = keys.get(key)
            if spec is None:
                problem(f"unknown key {key!r} in [{role}]; known: {', '.join(keys)}", key, role)
                continue
            names = value if spec.many and isinstance(value, list) else [value]
            if spec.many and not isinstance(value, list):
                problem(f"{role}.{key} must be a list of file paths", key, role)
                continue
            for name in names:
                if not isinstance(name, str):
                    problem(f"{role}.{key} must name a file path", key, role)
                    continue
                file_path = (base / name).resolve()
                try:
                    content = file_path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    reason = getattr(exc, "strerror", None) or str(exc)
                    problem(f"{role}.{key}: cannot read {name} ({reason})", key, role)
                    continue
                files.append(OperatorFile(role, key, file_path, content))
    if problems:
        raise ConfigError("; ".join(problems))
    return Project(
        path=path,
        topology=strings["topology"],
        flavours=tuple(flavours),
        profile=strings["profile"],
        sst_method=strings["sst_method"],
        join=strings["join"],
        hosts=tuple(hosts),
        files=tuple(files),
        dblb=strings["dblb"],
        inventory=verify_paths["inventory"],
        credentials=verify_paths["credentials"],
        lint=LintLimits(**limits),
    )


def _table(data: dict[str, object], name: str, problem: object) -> dict[str, object]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        problem(f"{name} must be a table ([{name}])", name)  # type: ignore[operator]
        return {}
    return value


def _toml_line(exc: tomllib.TOMLDecodeError, text: str) -> int:
    found = re.search(r"line (\d+)", str(exc))
    return int(found.group(1)) if found else max(1, len(text.splitlines()))


def _toml_reason(exc: tomllib.TOMLDecodeError) -> str:
    return re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
