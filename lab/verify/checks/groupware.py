"""The guide's groupware checks: each node's --jkroute equals the route= of the
BalancerMember that points at it ("the --jkroute parameter must equal the route
parameter at the web server's proxy_ajp load balancing configuration"), and the
distributed filestore test (touch as open-xchange on one node, list and remove it on
the other; the uid and gid equal on every machine)."""

from __future__ import annotations

import re
import shlex
import uuid

from lab.infra.hosts.remote import Host, HostError
from lab.verify.result import Result, guarded, passed
from lab.verify.target import Target

OX_ETC = "/opt/open-xchange/etc"
# OX's route setting: AJP_JVM_ROUTE (ajp.properties, what oxinstaller --jkroute writes)
# or com.openexchange.server.backendRoute (server.properties, OX 7.10+)
ROUTE_KEYS = ("AJP_JVM_ROUTE", "com.openexchange.server.backendRoute")
APACHE_DIRS = "/etc/apache2 /etc/httpd"
FILESTORE = "/var/opt/filestore"
OX_USER = "open-xchange"
# The node's own userspace NFS client (lab/oxnode/libnfs.py), where the kernel has no NFS
USERSPACE_CLIENT = "/opt/oxlab/lab/oxnode/libnfs.py"
MEMBER = re.compile(r"^\s*BalancerMember\s+(?:ajp|http)://([^:/\s]+)(?::\d+)?\S*\s*(.*)$", re.I)


def node_route(host: Host) -> tuple[str, str]:
    """(route, where it is set) from the node's OX configuration."""
    pattern = "|".join(re.escape(k) for k in ROUTE_KEYS)
    out = host.run(f"grep -rEH '^({pattern})[[:space:]]*[=:]' {OX_ETC}", sudo=True)
    for line in out.output.splitlines():
        path, _, setting = line.partition(":")
        value = re.split(r"[=:]", setting, maxsplit=1)[-1].strip()
        if value:
            return value, path
    raise HostError(f"{host}: no {' or '.join(ROUTE_KEYS)} under {OX_ETC}")


def balancer_members(web: Host) -> tuple[list[tuple[str, str]], str]:
    """([(member host, route)], the file) from the web server's proxy_ajp configuration."""
    out = web.run(f"grep -rlE '^[[:space:]]*BalancerMember' {APACHE_DIRS} 2>/dev/null", sudo=True)
    files = [f for f in out.output.split() if f.startswith("/")]
    if not files:
        raise HostError(f"{web}: no BalancerMember under {APACHE_DIRS}")
    text = web.read_text(files[0]) or ""
    members = []
    for line in text.splitlines():
        found = MEMBER.match(line)
        if found:
            route = re.search(r"\broute=(\S+)", found.group(2))
            members.append((found.group(1), route.group(1) if route else ""))
    return members, files[0]


def names_of(host: Host) -> set[str]:
    """Every name a BalancerMember may use for the host: inventory name, address, its
    hostname and addresses."""
    names = {host.name, host.address}
    out = host.run("hostname; hostname -f; hostname -I")
    names |= set(out.output.split())
    return names


def routes(target: Target) -> list[Result]:
    web = target.role("web")[0]
    try:
        members, conf = balancer_members(web)
    except HostError as exc:
        return [Result("groupware", web.name, "jkroute = route", False, str(exc))]
    return [
        guarded("groupware", node.name, "jkroute = route", _route, node, members, conf, web)
        for node in target.role("groupware")
    ]


def judge_route(
    node: str, route: str, names: set[str], members: list[tuple[str, str]], where: str
) -> tuple[list[str], str]:
    mine = [r for host, r in members if host in names]
    problems = []
    if len(mine) != 1:
        problems.append(f"{len(mine)} BalancerMembers point at {node} in {where}")
    elif mine[0] != route:
        problems.append(f"its route is {route} but the balancer sends route={mine[0]} to it")
    others = [r for host, r in members if host not in names]
    if route in others:
        problems.append(f"route {route} also belongs to another BalancerMember")
    return problems, f"node route {route}; {where}: route={', '.join(mine) or 'none'}"


def _route(node: Host, members: list[tuple[str, str]], conf: str, web: Host) -> Result:
    route, path = node_route(node)
    problems, evidence = judge_route(
        node.name, route, names_of(node), members, f"{web.name}:{conf}"
    )
    return passed("groupware", node.name, "jkroute = route", problems, f"{path}: {evidence}")


# -- the distributed filestore -------------------------------------------------------------


def filestore(target: Target) -> list[Result]:
    server = target.role("filestore")[0]
    nodes = target.role("groupware")
    results = [guarded("filestore", server.name, "owner = open-xchange", _owner, server, nodes)]
    if len(nodes) >= 2:
        results.append(
            guarded(
                "filestore",
                f"{nodes[0].name} → {nodes[1].name}",
                "touch, ls, rm",
                _touch_list_remove,
                server,
                nodes[0],
                nodes[1],
            )
        )
    return results


def _ids(host: Host) -> str:
    out = host.run(f"id -u {OX_USER} && id -g {OX_USER}")
    if out.exit_code != 0:
        return "no user"
    return ":".join(out.output.split()[:2])


def _owner(server: Host, nodes: list[Host]) -> Result:
    path = str(server.variables.get("oxlab_filestore_path", FILESTORE))
    owner = server.output(f"stat -c %u:%g {shlex.quote(path)}", sudo=True).strip()
    ids = {n.name: _ids(n) for n in nodes}
    problems = [
        f"{path} on {server.name} is owned by {owner}, {OX_USER} is {i} on {name}"
        for name, i in ids.items()
        if i != owner
    ]
    evidence = f"{path} {owner}; {OX_USER} " + ", ".join(f"{i} on {n}" for n, i in ids.items())
    return passed("filestore", server.name, "owner = open-xchange", problems, evidence)


def as_open_xchange(node: Host, server: Host, action: str, name: str) -> tuple[int, str, str]:
    """The guide's `su open-xchange` file operation on the node: on its NFS mount, or
    (where the kernel has no NFS) through the node's userspace NFS client. Returns
    (exit code, output, how)."""
    path = f"{FILESTORE}/{name}"
    mounted = node.run(f"findmnt -n -o FSTYPE --target {FILESTORE}").output.strip()
    if mounted.startswith("nfs"):
        command = {"touch": f"touch {path}", "ls": f"ls -la {FILESTORE}", "rm": f"rm {path}"}[
            action
        ]
        out = node.run(f"su -s /bin/sh {OX_USER} -c {shlex.quote(command)}", sudo=True)
        return out.exit_code, out.output, f"NFS mount ({mounted})"
    if node.run(f"test -f {USERSPACE_CLIENT}").exit_code != 0:
        return 1, f"{FILESTORE} is not an NFS mount ({mounted or 'not mounted'})", "no NFS"
    uid, _, gid = _ids(node).partition(":")
    code = (
        "import sys\nfrom lab.oxnode.libnfs import NfsClient\n"
        f"c = NfsClient({server.name!r}, '/filestore', {uid or 0}, {gid or 0})\n"
        f"a, name = sys.argv[1], '/{name}'\n"
        "if a == 'touch': c.write_file(name, b'')\n"
        "elif a == 'ls': c.read_file(name); print(name[1:])\n"  # opens it: it is there
        "elif a == 'rm': c.unlink(name, missing_ok=False)\n"
    )
    command = f"PYTHONPATH=/opt/oxlab python3 -c {shlex.quote(code)} {action}"
    out = node.run(f"su -s /bin/sh {OX_USER} -c {shlex.quote(command)}", sudo=True)
    return out.exit_code, out.output, "the node's userspace NFS client (this kernel has no NFS)"


def _touch_list_remove(server: Host, first: Host, second: Host) -> Result:
    name = f"oxlab-verify-{uuid.uuid4().hex[:6]}"
    where = f"{first.name} → {second.name}"
    code, out, how = as_open_xchange(first, server, "touch", name)
    if code != 0:
        return Result(
            "filestore",
            where,
            "touch, ls, rm",
            False,
            f"touch as {OX_USER} on {first.name} failed: {out.strip()[-200:]}",
        )
    try:
        code, listing, _ = as_open_xchange(second, server, "ls", name)
        problems = [] if name in listing else [f"{second.name} does not list {name}"]
    finally:
        removed, rm_out, _ = as_open_xchange(second, server, "rm", name)
    if removed != 0:
        problems.append(f"rm on {second.name} failed: {rm_out.strip()[-200:]}")
    owner = server.run(f"stat -c %u:%g {FILESTORE}/{name}", sudo=True)
    if owner.exit_code == 0:
        problems.append(f"{name} still on {server.name} after rm")
    evidence = f"{name} created on {first.name}, listed and removed on {second.name}, via {how}"
    return passed("filestore", where, "touch, ls, rm", problems, evidence)
