"""What the client-side checks log in with, from a file the operator keeps (never from
the command line, where `ps` and shell history would show it): the OX database user, as
OX's configdb.properties has it, and a test user of the groupware for the front end.

    [client]            # the format of ~/.my.cnf
    user = openexchange
    password = ...
    [groupware]
    login = testuser
    password = ...

Database host checks need none of it: they run `mysql` on the host as root with
/root/.my.cnf, as the guide does."""

from __future__ import annotations

import configparser
import stat
from dataclasses import dataclass
from pathlib import Path

from lab.infra.errors import ConfigError

NEEDED = {"client": ("user", "password"), "groupware": ("login", "password")}


@dataclass(frozen=True)
class Credentials:
    db_user: str
    db_password: str
    ox_login: str
    ox_password: str


def load_credentials(path: Path) -> Credentials:
    """The credentials file, checked: readable, both sections, every key, not readable
    by others (ConfigError naming the file and line otherwise)."""
    path = Path(path)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the credentials file ({exc.strerror})") from None
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        reason = str(exc).splitlines()[0]
        raise ConfigError(f"{path}{f':{line}' if line else ''}: {reason}") from None
    for section, keys in NEEDED.items():
        for key in keys:
            if not parser.get(section, key, fallback=""):
                raise ConfigError(f"{path}: [{section}] needs {key} = ...")
    if path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
        raise ConfigError(f"{path}: readable by others; chmod 600 {path}")
    return Credentials(
        parser.get("client", "user"),
        parser.get("client", "password"),
        parser.get("groupware", "login"),
        parser.get("groupware", "password"),
    )


def write_credentials(path: Path, creds: Credentials) -> Path:
    """The file as load_credentials reads it, mode 600 (lab's own labs and stand-ins)."""
    path.write_text(
        f"[client]\nuser = {creds.db_user}\npassword = {creds.db_password}\n"
        f"[groupware]\nlogin = {creds.ox_login}\npassword = {creds.ox_password}\n"
    )
    path.chmod(0o600)
    return path
