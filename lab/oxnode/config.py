"""The node's configuration files, as oxinstaller writes them and the node reads them:
/opt/open-xchange/etc/{configdb,system,ajp,filestore}.properties and mpasswd.
Plain `key=value` properties; pure functions, unit-tested."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ETC = Path(os.environ.get("OX_ETC", "/opt/open-xchange/etc"))
MASTER_ADMIN = "oxadminmaster"


def render_properties(values: dict[str, str], header: str = "") -> str:
    lines = [f"# {line}" for line in header.splitlines()]
    lines += [f"{key}={value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def parse_properties(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


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
