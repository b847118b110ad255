"""Line-numbered readers for the operator's files: my.cnf, haproxy.cfg, Apache
configuration, Java properties, /etc/exports. Only as deep as lint and the lab need (a
setting, where it is); the real tools check the syntax (lab/operator/syntax.py)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from lab.oxnode.config import property_lines


@dataclass(frozen=True)
class Setting:
    """`key = value` at `line`; section is the [group] of a .cnf file ('' elsewhere)."""

    key: str
    value: str
    line: int
    section: str = ""


def cnf_settings(text: str) -> list[Setting]:
    """my.cnf options, names normalised as the server does (dashes are underscores)."""
    found = []
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith((";", "!")):
            continue
        header = re.fullmatch(r"\[([^\]]+)\]", line)
        if header:
            section = header.group(1).strip().lower()
            continue
        key, _, value = line.partition("=")
        name = key.strip().lower().replace("-", "_")
        for prefix in ("loose_", "maximum_"):
            name = name.removeprefix(prefix)
        found.append(Setting(name, value.strip().strip("\"'"), number, section))
    return found


SERVER_SECTIONS = ("mysqld", "server", "mariadb", "galera", "mariadbd", "mysqld_safe")


def server_settings(text: str) -> dict[str, Setting]:
    """The last value of each option the server reads (its sections, last one wins)."""
    return {s.key: s for s in cnf_settings(text) if s.section in SERVER_SECTIONS}


def properties(text: str) -> dict[str, Setting]:
    """Java properties, read as OX reads its .properties files (the groupware node's one
    reader, lab/oxnode/config.py): each setting with the line it starts on."""
    return {key: Setting(key, value, line) for key, value, line in property_lines(text)}


@dataclass
class Section:
    """One haproxy.cfg section (global, defaults, listen, frontend, backend)."""

    kind: str
    name: str
    line: int
    lines: list[tuple[int, list[str]]] = field(default_factory=list)

    def get(self, *keyword: str) -> list[tuple[int, list[str]]]:
        """The section's lines starting with these words (e.g. "timeout", "client")."""
        n = len(keyword)
        return [(no, w) for no, w in self.lines if [x.lower() for x in w[:n]] == list(keyword)]

    def first(self, *keyword: str) -> tuple[int, list[str]] | None:
        found = self.get(*keyword)
        return found[-1] if found else None


HAPROXY_SECTIONS = (
    "global",
    "defaults",
    "listen",
    "frontend",
    "backend",
    "resolvers",
    "peers",
    "userlist",
    "program",
    "http-errors",
    "ring",
    "mailers",
    "cache",
)


def haproxy_sections(text: str) -> list[Section]:
    sections: list[Section] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0].lower() in HAPROXY_SECTIONS:
            sections.append(Section(words[0].lower(), words[1] if len(words) > 1 else "", number))
        elif sections:
            sections[-1].lines.append((number, words))
    return sections


def binds(section: Section, port: str) -> bool:
    """Whether a `bind` of the section listens on `port`: HAProxy's `bind` takes a comma
    list of `[address]:port` or `[address]:first-last` (its manual, "bind")."""
    return any(
        len(w) > 1 and any(_in_range(one.rsplit(":", 1)[-1], int(port)) for one in w[1].split(","))
        for _, w in section.get("bind")
    )


def _in_range(ports: str, port: int) -> bool:
    first, _, last = ports.partition("-")
    if not first.isdigit() or not (last or first).isdigit():
        return False
    return int(first) <= port <= int(last or first)


def servers_for_port(sections: list[Section], port: str) -> Section | None:
    """The section whose servers take the connections to `port`: the default_backend of
    the frontend or listen that binds it (with the binding section's lines in front of
    its own; HAProxy's manual lists default_backend for both), else that section."""
    for section in sections:
        if section.kind not in ("listen", "frontend") or not binds(section, port):
            continue
        use = section.first("default_backend")
        for other in sections:
            if use and other.kind == "backend" and other.name == use[1][1]:
                return Section(other.kind, other.name, other.line, section.lines + other.lines)
        return section
    return None


@dataclass(frozen=True)
class Directive:
    """An Apache directive with its arguments and the blocks it sits in."""

    name: str
    args: tuple[str, ...]
    line: int
    blocks: tuple[str, ...] = ()  # e.g. ("<VirtualHost *:443>", "<Proxy balancer://x>")


def apache_directives(text: str) -> list[Directive]:
    found = []
    stack: list[str] = []
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        start = number + 1
        line = lines[number].strip()
        while line.endswith("\\") and number + 1 < len(lines):  # continuation lines
            number += 1
            line = line[:-1] + " " + lines[number].strip()
        number += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("</"):
            if stack:
                stack.pop()
            continue
        try:
            words = shlex.split(line.strip("<>"), posix=True)
        except ValueError:
            words = line.strip("<>").split()
        if not words:
            continue
        directive = Directive(words[0].lower(), tuple(words[1:]), start, tuple(stack))
        found.append(directive)
        if line.startswith("<"):
            stack.append(line)
    return found


@dataclass(frozen=True)
class ExportClient:
    host: str
    options: tuple[str, ...]

    def option(self, name: str) -> str | None:
        """An option's value ("1001" for anonuid=1001), "" for a flag, None if absent;
        the last of repeated options (a line's defaults come first)."""
        for opt in reversed(self.options):
            key, _, value = opt.partition("=")
            if key == name:
                return value
        return None

    def chosen(self, flag: str, opposite: str, default: bool) -> bool:
        """Whether `flag` is in force: it comes after its `opposite` (ro/rw,
        all_squash/no_all_squash); neither given: the server's `default` (exports(5):
        ro and no_all_squash)."""
        for opt in reversed(self.options):
            if opt in (flag, opposite):
                return opt == flag
        return default


@dataclass(frozen=True)
class Export:
    path: str
    clients: tuple[ExportClient, ...]
    line: int


def _position(directives: Sequence[Directive], directive: Directive) -> int:
    """Where this very directive is (by identity: two may read alike)."""
    return next(i for i, d in enumerate(directives) if d is directive)


def inside(directives: Sequence[Directive], opener: Directive) -> list[Directive]:
    """The directives within the block `opener` opens (`<VirtualHost *:80>`), nested ones
    included: those after it until the first back at its depth. Two blocks with the same
    header stay apart, which the header text alone cannot do."""
    start = _position(directives, opener) + 1
    depth = len(opener.blocks)
    found = []
    for directive in directives[start:]:
        if len(directive.blocks) <= depth:
            break
        found.append(directive)
    return found


def enclosing(directives: Sequence[Directive], directive: Directive) -> Directive | None:
    """The directive that opens the innermost block `directive` sits in (None at the top):
    the nearest one before it, one level out."""
    depth = len(directive.blocks)
    before = directives[: _position(directives, directive)]
    return (
        next((d for d in reversed(before) if len(d.blocks) == depth - 1), None) if depth else None
    )


def exports(text: str) -> list[Export]:
    """/etc/exports as exports(5) reads it: `path [-defaults] client(opts) ...`; a line
    continued by a backslash; `#` comments; a quoted path; the options after a dash are
    every later client's on that line (its own options after them); a bare client gets
    the server's defaults, and `(opts)` after white space is a client of its own: anyone."""
    found = []
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        start = number + 1
        line = lines[number].split("#", 1)[0].rstrip()
        number += 1
        while line.endswith("\\") and number < len(lines):
            line = line[:-1] + " " + lines[number].split("#", 1)[0].strip()
            number += 1
        line = line.strip()
        if not line:
            continue
        try:
            path, *entries = shlex.split(line)
        except ValueError:
            path, *entries = line.split()
        defaults: tuple[str, ...] = ()
        clients = []
        for entry in entries:
            if entry.startswith("-"):
                defaults += tuple(filter(None, entry[1:].split(",")))
                continue
            host, _, opts = entry.partition("(")
            own = tuple(filter(None, opts.rstrip(")").split(",")))
            clients.append(ExportClient(host or "*", defaults + own))
        found.append(Export(path, tuple(clients), start))
    return found


IP_ADDRESS = re.compile(r"(?<![\w./])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?![\w./])")


def ip_addresses(text: str) -> list[tuple[int, str]]:
    """(line, address) of each IPv4 address outside comments (loopback and 0.0.0.0 aside)."""
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0]
        for address in IP_ADDRESS.findall(line):
            if not address.startswith(("127.", "0.0.0.0")):
                found.append((number, address))
    return found
