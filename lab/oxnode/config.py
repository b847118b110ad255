"""The node's configuration files, as oxinstaller writes them and the node reads them:
/opt/open-xchange/etc/{configdb,system,ajp,filestore}.properties and mpasswd.
Java properties (read as java.util.Properties reads them: the one reader, which the
lab's lint uses too); pure functions, unit-tested."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ETC = Path(os.environ.get("OX_ETC", "/opt/open-xchange/etc"))
MASTER_ADMIN = "oxadminmaster"


def render_properties(values: dict[str, str], header: str = "") -> str:
    """`key=value` lines, escaped as java.util.Properties.store escapes them, so that
    property_lines reads back exactly `values`."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines += [f"{_escape(key, True)}={_escape(value, False)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _escape(text: str, key: bool) -> str:
    special = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}
    out = []
    for at, char in enumerate(text):
        if char in special:
            out.append(special[char])
        elif (char == " " and (key or at == 0)) or (key and char in "=:#!"):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def parse_properties(text: str) -> dict[str, str]:
    """A .properties file's values, the last of repeated keys winning."""
    return {key: value for key, value, _ in property_lines(text)}


def property_lines(text: str) -> list[tuple[str, str, int]]:
    """(key, value, the line it starts on) of Java properties as java.util.Properties.load
    reads them, which is how OX reads its .properties files: a key ends at the first
    unescaped `=`, `:` or white space; a line ending in an odd number of backslashes goes
    on in the next (its leading white space dropped); `#` and `!` start comment lines,
    which never go on; `\\t`, `\\uXXXX` and `\\x` escapes. Values lose trailing white
    space, as OX's configuration service trims them. Read into a dict, a later repeat of
    a key wins."""
    found = []
    lines = re.split(r"\r\n|\r|\n", text)  # Java's line ends only (not \v, \x1c, U+2028)
    number = 0
    while number < len(lines):
        start = number + 1
        line = lines[number].lstrip(" \t\f")
        number += 1
        if not line or line.startswith(("#", "!")):
            continue
        while _continues(line) and number < len(lines):
            line = line[:-1] + lines[number].lstrip(" \t\f")
            number += 1
        if _continues(line):
            line = line[:-1]
        key, value = _split_property(line)
        found.append((key, value.rstrip(), start))
    return found


def _continues(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _split_property(line: str) -> tuple[str, str]:
    """(key, value) of one logical line, escapes resolved."""
    at = 0
    while at < len(line) and line[at] not in "=: \t\f":
        at += 2 if line[at] == "\\" else 1
    key, rest = line[:at], line[at:].lstrip(" \t\f")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return _unescape(key), _unescape(rest)


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u"):
            return chr(int(code[1:], 16))
        return {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(code, code)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", one, text)


def read_properties(name: str) -> dict[str, str]:
    path = ETC / name
    return parse_properties(path.read_text()) if path.exists() else {}


def write_properties(name: str, values: dict[str, str], header: str = "") -> None:
    ETC.mkdir(parents=True, exist_ok=True)
    (ETC / name).write_text(render_properties(values, header))


def jdbc_url(host: str, database: str = "configdb") -> str:
    """OX's JDBC form; host may carry a port ("dblb:3307")."""
    return f"jdbc:mysql://{host}/{database}"


@dataclass(frozen=True)
class DbAddress:
    host: str
    port: int
    database: str

    @classmethod
    def from_url(cls, url: str) -> DbAddress:
        """jdbc:mysql://host[:port]/db -> address (port 3306 by default)."""
        parts = urlsplit(url.removeprefix("jdbc:"))
        if parts.scheme != "mysql" or not parts.hostname:
            raise ValueError(f"not a jdbc:mysql:// URL: {url!r}")
        return cls(parts.hostname, parts.port or 3306, parts.path.lstrip("/"))


@dataclass(frozen=True)
class PoolSettings:
    """OX's JDBC and pool settings from configdb.properties (OX's documented defaults):
    the JDBC connection properties (readProperty.N=connectTimeout=15000) and the pool's
    maxIdleTime, maxLifeTime, maxActive, maxWait, all in milliseconds."""

    connect_timeout_ms: int = 15000
    socket_timeout_ms: int = 15000  # 0: no limit, as in Connector/J
    max_idle_time_ms: int = 60000
    max_life_time_ms: int = 600000
    max_active: int = 100
    max_wait_ms: int = 10000
    # Connector/J's useSSL: OX's configdb.properties does not set it, and OX's
    # "Database connection encryption" guide adds useSSL=true to encrypt; OX's
    # com.mysql.jdbc.Driver (5.1) with MariaDB, which announces itself as 5.5.5-…,
    # then connects without TLS
    use_ssl: bool = False

    @classmethod
    def from_properties(cls, values: dict[str, str]) -> PoolSettings:
        jdbc = {}
        for name, value in values.items():
            if name.startswith(("readProperty.", "writeProperty.")) and "=" in value:
                key, _, setting = value.partition("=")
                jdbc[key.strip()] = setting.strip()
        merged = {**jdbc, **values}

        def ms(key: str, default: int) -> int:
            raw = merged.get(key, "")
            return int(raw) if raw.lstrip("-").isdigit() else default

        d = cls()
        return cls(
            connect_timeout_ms=ms("connectTimeout", d.connect_timeout_ms),
            socket_timeout_ms=ms("socketTimeout", d.socket_timeout_ms),
            max_idle_time_ms=ms("maxIdleTime", d.max_idle_time_ms),
            max_life_time_ms=ms("maxLifeTime", d.max_life_time_ms),
            max_active=ms("maxActive", d.max_active),
            max_wait_ms=ms("maxWait", d.max_wait_ms),
            use_ssl=merged.get("useSSL", "").strip().lower() == "true",
        )


@dataclass(frozen=True)
class ConfigDb:
    """configdb.properties: where the node reads and writes the configuration database."""

    read_url: str
    write_url: str
    user: str
    password: str
    replication_monitor: bool = True
    pool: PoolSettings = PoolSettings()

    def properties(self) -> dict[str, str]:
        """configdb.properties as OX ships it: the URLs and user, the JDBC connection
        properties readProperty.N / writeProperty.N, the pool settings."""
        p = self.pool
        jdbc = [
            f"user={self.user}",
            f"password={self.password}",
            "useUnicode=true",
            "characterEncoding=UTF-8",
            "autoReconnect=false",
            "useServerPrepStmts=false",
            "useTimezone=true",
            "serverTimezone=UTC",
            f"connectTimeout={p.connect_timeout_ms}",
            f"socketTimeout={p.socket_timeout_ms}",
        ]
        return {
            "readUrl": self.read_url,
            **{f"readProperty.{i}": v for i, v in enumerate(jdbc, 1)},
            "writeUrl": self.write_url,
            **{f"writeProperty.{i}": v for i, v in enumerate(jdbc, 1)},
            "maxIdleTime": str(p.max_idle_time_ms),
            "maxLifeTime": str(p.max_life_time_ms),
            "maxActive": str(p.max_active),
            "maxWait": str(p.max_wait_ms),
            "com.openexchange.database.replicationMonitor": str(self.replication_monitor).lower(),
        }

    @classmethod
    def from_properties(cls, values: dict[str, str]) -> ConfigDb:
        def prop(prefix: str, key: str) -> str:
            for name, value in values.items():
                if name.startswith(prefix) and value.startswith(f"{key}="):
                    return value.split("=", 1)[1]
            return ""

        return cls(
            read_url=values.get("readUrl", ""),
            write_url=values.get("writeUrl", ""),
            user=prop("readProperty", "user"),
            password=prop("readProperty", "password"),
            replication_monitor=values.get(
                "com.openexchange.database.replicationMonitor", "true"
            ).lower()
            == "true",
            pool=PoolSettings.from_properties(values),
        )


def hash_password(password: str) -> str:
    return "{SHA-256}" + hashlib.sha256(password.encode()).hexdigest()


def check_password(stored: str, password: str) -> bool:
    return stored == hash_password(password)
