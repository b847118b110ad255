"""What clustercheck and replcheck share: the local MySQL connection (bounded, so a hung
mysqld is a 503 and not a hang), and a quiet threaded HTTP server that answers each
request with a status, a text body and a few headers. Installed beside both scripts."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PORT = 9200


def read_settings(text: str) -> dict[str, str]:
    """KEY=VALUE lines of a sysconfig file (comments, blanks and quotes allowed)."""
    settings = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            settings[key.strip()] = value.strip().strip("\"'")
    return settings


def settings_from(path: str) -> dict[str, str]:
    """The environment, overridden by the sysconfig file at `path` (the operator's)."""
    env = dict(os.environ)
    try:
        with open(path) as f:
            env.update(read_settings(f.read()))
    except OSError:
        pass
    return env


@dataclass(frozen=True)
class Connection:
    socket: str = "/run/mysqld/mysqld.sock"
    user: str = "clustercheckuser"
    password: str = "clustercheckpassword!"
    timeout: float = 2.0

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Connection:
        return cls(
            user=env.get("CLUSTERCHECK_USER", cls.user),
            password=env.get("CLUSTERCHECK_PASSWORD", cls.password),
            timeout=float(env.get("CLUSTERCHECK_CONNECT_TIMEOUT", str(cls.timeout))),
        )

    def query(self, run: Callable[[Any], Any], dict_rows: bool = False) -> tuple[Any, str]:
        """(run(cursor), "") or (None, why the server could not be asked)."""
        import pymysql
        import pymysql.cursors

        try:
            conn = pymysql.connect(
                unix_socket=self.socket,
                user=self.user,
                password=self.password,
                connect_timeout=self.timeout,
                read_timeout=self.timeout,
                cursorclass=pymysql.cursors.DictCursor if dict_rows else pymysql.cursors.Cursor,
            )
        except Exception as exc:  # any failure to talk to mysqld is a 503 with its reason
            return None, str(exc)
        try:
            with conn.cursor() as cur:
                return run(cur), ""
        except Exception as exc:
            return None, str(exc)
        finally:
            conn.close()


Answer = tuple[int, str, dict[str, str]]  # status, body, extra headers


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a checker that hangs up early is normal; nothing worth a traceback


def serve(name: str, answer: Callable[[str], Answer], port: int = PORT) -> None:
    """Serve GET requests with `answer(path)` until the process ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code, body, headers = answer(self.path.rstrip("/"))
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # HAProxy polls every few hundred ms; the server's own log stays readable

    server = _QuietServer(("0.0.0.0", port), Handler)
    print(f"{name} listening on :{port}", file=sys.stderr, flush=True)
    server.serve_forever()
