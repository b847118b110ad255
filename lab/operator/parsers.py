"""Line-numbered readers for the operator's files: my.cnf, haproxy.cfg, Apache
configuration, Java properties, /etc/exports. Only as deep as lint and the lab need (a
setting, where it is); the real tools check the syntax (lab/operator/syntax.py)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field


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
    """Java properties (key=value or key: value), as OX reads its .properties files."""
    found = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        match = re.match(r"([^=:\s]+)\s*[=:]?\s*(.*)", line)
        if match:
            found[match.group(1)] = Setting(match.group(1), match.group(2).strip(), number)
    return found


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
    return any(len(w) > 1 and w[1].rsplit(":", 1)[-1] == port for _, w in section.get("bind"))


def servers_for_port(sections: list[Section], port: str) -> Section | None:
    """The section whose servers take the connections to `port`: a listen, or the
    frontend's default_backend (with the frontend's lines in front of its own)."""
    for section in sections:
        if section.kind not in ("listen", "frontend") or not binds(section, port):
            continue
        use = section.first("default_backend") if section.kind == "frontend" else None
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
        """An option's value ("1001" for anonuid=1001), "" for a flag, None if absent."""
        for opt in self.options:
            key, _, value = opt.partition("=")
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class Export:
    path: str
    clients: tuple[ExportClient, ...]
    line: int


def exports(text: str) -> list[Export]:
    """/etc/exports: `path client(opts) client(opts)`; a bare client gets the defaults."""
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        path, *entries = line.split()
        clients = []
        for entry in entries:
            host, _, opts = entry.partition("(")
            clients.append(
                ExportClient(host or "*", tuple(filter(None, opts.rstrip(")").split(","))))
            )
        found.append(Export(path, tuple(clients), number))
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
