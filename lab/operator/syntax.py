"""The real tools' syntax checks on the operator's files, inside the lab's role images:
`haproxy -c`, `apache2ctl -t`, and mysqld's own option parsing (`--validate-config` where
the flavour has it, MariaDB's `--help --verbose` otherwise). A malformed file becomes one
finding naming the file and line. Without Docker or the images, one info line says the
checks were skipped and why; lint's rules still run."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import docker
import docker.errors

from lab.infra.docker_env import LABEL_OWNER, LABEL_RUN, connect, owner_token
from lab.infra.errors import ConfigError, LabError
from lab.infra.nodes import Node, Placement, put_file
from lab.infra.tls import make_certificates
from lab.operator.lint import ERROR, INFO, Finding
from lab.operator.placement import database_files, web_files
from lab.operator.project import OperatorFile
from lab.plan.flavours import MARIADB
from lab.plan.resolved import Plan
from lab.roles.dblb.keepalived_config import KEEPALIVED_CONF, adapt_keepalived_conf
from lab.roles.images import db_image, dblb_image, image_present, web_image
from lab.roles.web.front_end import CERT_FILE, CONF, KEY_FILE, SITE

CHECK_TIMEOUT_S = 60
# the haproxy image's wrapper of `keepalived --config-test` (it prints FILE:N: error:)
KEEPALIVED_CONFIG_TEST = f"lab-keepalived-config-test {KEEPALIVED_CONF} 2>&1"


@dataclass(frozen=True)
class SyntaxCheck:
    """One tool run: the image, the files it needs, the command, whose file it checks."""

    tool: str
    image: str
    files: tuple[Placement, ...]
    command: str
    checked: tuple[OperatorFile, ...]
    network: str = "none"  # "bridge": the tool looks for a network interface (keepalived)


def checks_for(plan: Plan) -> list[SyntaxCheck]:
    checks = []
    haproxy = plan.file("dblb", "haproxy_cfg")
    if haproxy:
        checks.append(
            SyntaxCheck(
                "haproxy -c",
                dblb_image(plan.flavour).tag,
                (Placement("/etc/haproxy/haproxy.cfg", haproxy.text.encode(), str(haproxy.path)),),
                "haproxy -c -f /etc/haproxy/haproxy.cfg 2>&1",
                (haproxy,),
            )
        )
    for f in plan.files("dblb", "keepalived_conf"):
        # as it will run: on the lab's interface and an address (lines kept in place)
        adapted = adapt_keepalived_conf(f.text, "192.0.2.254", 24)
        checks.append(
            SyntaxCheck(
                "keepalived --config-test",
                dblb_image(plan.flavour).tag,
                (Placement(KEEPALIVED_CONF, adapted.encode(), str(f.path)),),
                KEEPALIVED_CONFIG_TEST,
                (f,),
                network="bridge",
            )
        )
    web = plan.files("web")
    if web:
        files = web_files(plan)
        certs = make_certificates(["web"], ["127.0.0.1"], "lint")
        placed = [
            Placement(CERT_FILE, certs.cert_pem, "lab"),
            Placement(KEY_FILE, certs.key_pem, "lab"),
        ]
        placed += [Placement(p, certs.cert_pem, "lab") for p in files.cert_paths]
        placed += [Placement(p, certs.key_pem, "lab") for p in files.key_paths]
        if files.proxy_ajp_conf:
            placed += [
                Placement(p, files.proxy_ajp_conf, "") for p in (CONF, *files.proxy_ajp_paths)
            ]
        if files.site:
            placed.append(Placement(SITE, files.site, ""))
        checks.append(
            SyntaxCheck(
                "apache2ctl -t", web_image().tag, tuple(placed), "apache2ctl -t 2>&1", tuple(web)
            )
        )
    cnf = plan.files("db", "cnf") + plan.files("db", "ox_cnf")
    if cnf:
        mariadb = plan.flavour.dialect.family == MARIADB
        command = (
            "lab-mysqld --user=mysql --help --verbose 2>&1 > /dev/null"
            if mariadb
            else "lab-mysqld --user=mysql --validate-config 2>&1"
        )
        checks.append(
            SyntaxCheck(
                "mysqld --help --verbose" if mariadb else "mysqld --validate-config",
                db_image(plan.flavour).tag,
                tuple(p for p in database_files(plan) if p.target.endswith(".cnf")),
                command,
                tuple(cnf),
            )
        )
    return checks


def skipped_checks(plan: Plan) -> str:
    """The one line `lab lint --no-syntax` prints: which of the real tools' checks it
    skipped, on which of the operator's files."""
    checks = checks_for(plan)
    if not checks:
        return "syntax checks: none apply to these files"
    done = "; ".join(f"{c.tool} on {', '.join(f.name for f in c.checked)}" for c in checks)
    return f"syntax checks skipped (--no-syntax): {done}"


def syntax_findings(
    plan: Plan, progress: Callable[[str], None], client: docker.DockerClient | None = None
) -> list[Finding]:
    """Run every check; an unavailable Docker or image is one info finding, not a failure."""
    checks = checks_for(plan)
    if not checks or plan.project is None:
        return []
    try:
        client = client or connect()
    except LabError as exc:
        return [_skipped(plan, f"Docker is not reachable ({exc})")]
    findings = []
    for check in checks:
        if not image_present(client, check.image):
            findings.append(_skipped(plan, f"{check.image} is not built (`lab images build`)"))
            continue
        code, output = _run(client, plan, check)
        if code != 0:
            findings.append(_finding(check, output))
    return findings


def require_valid_syntax(plan: Plan, client: docker.DockerClient) -> None:
    """Before `lab up` starts anything: a file the real tool rejects stops it here, as
    one line naming the file and line (ConfigError), instead of a role that never starts."""
    if plan.project is None:
        return
    base = plan.project.path.resolve().parent
    for finding in syntax_findings(plan, lambda _: None, client):
        if finding.severity == ERROR:
            raise ConfigError(finding.render(base))


def _run(client: docker.DockerClient, plan: Plan, check: SyntaxCheck) -> tuple[int, str]:
    """The check in a throwaway container of the role image, names resolving to
    loopback so `haproxy -c` can resolve the operator's server names."""
    hosts = {name: "127.0.0.1" for name in plan.host_map()}
    container = client.containers.create(
        check.image,
        ["sh", "-c", f"timeout {CHECK_TIMEOUT_S} {check.command}"],
        labels={LABEL_RUN: "lint", LABEL_OWNER: owner_token()},
        extra_hosts=hosts,
        network_mode=check.network,
    )
    try:
        for placement in check.files:
            put_file(Node(container), placement.target, placement.data)
        container.start()
        code = int(container.wait(timeout=CHECK_TIMEOUT_S + 10).get("StatusCode", 1))
        return code, container.logs().decode(errors="replace")
    finally:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass


def _finding(check: SyntaxCheck, output: str) -> Finding:
    """The tool's first error line, placed at the file and line it names (or the line
    of the option it names), in the operator's file."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    index = next(
        (i for i, line in enumerate(lines) if re.search(r"ALERT|ERROR|error|unknown", line)), 0
    )
    error = " ".join(lines[index : index + 2]) if lines else "(no output)"
    target, line = check.checked[0], 1
    numbered = re.search(r"(?:line |:)(\d+)\b", error)
    for f in check.checked:
        placed = [p.target for p in check.files if p.source == str(f.path)]
        if f.name in error or any(target in error for target in placed):
            target = f
            if numbered:
                line = int(numbered.group(1))
            break
    else:
        option = re.search(r"(?:variable|option) '?-*([\w-]+)", error)
        if option:
            wanted = option.group(1).replace("-", "_")
            for f in check.checked:
                for number, text in enumerate(f.text.splitlines(), 1):
                    if text.strip().replace("-", "_").startswith(wanted):
                        target, line = f, number
    return Finding(
        "SYNTAX",
        ERROR,
        target.path,
        line,
        f"{check.tool}: {error[:300]}",
        "the real tool rejects the file, so the role would not start",
        "fix the line the tool names",
    )


def _skipped(plan: Plan, reason: str) -> Finding:
    assert plan.project is not None
    return Finding(
        "SYNTAX",
        INFO,
        plan.project.path,
        1,
        f"syntax checks skipped: {reason}",
        "lint's rules ran without Docker",
        "run again with Docker and the role images",
    )
