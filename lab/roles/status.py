"""Human-readable status of a lab: the guide's wsrep verification table per node and
HAProxy's view of its backends, as `lab status` prints it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from lab.infra.errors import StartupError
from lab.infra.text import fit, table
from lab.roles.db.node import NotReady
from lab.roles.db.storage import describe_storage
from lab.roles.dblb.front import Backend, DblbPair
from lab.roles.dblb.haproxy_config import READ_PORT, STATS_PORT, WRITE_PORT
from lab.roles.dblb.role import haproxies
from lab.roles.health import VERIFY
from lab.roles.system import Lab

FILES_LABEL = "ox-lab.files"  # RunIdentity details: the plan's file records (JSON)
CONFIG_LABEL = "ox-lab.config"


def gtid_rows(lab: Lab) -> list[dict[str, str]]:
    assert lab.gtid is not None
    pair = lab.gtid
    rows = []
    for node in pair.nodes:
        row = {"node": node.name, "role": "slave" if node is pair.slave else "master"}
        down = node.not_running()
        if down:
            row["gtid position"] = down
            rows.append(row)
            continue
        try:
            row["gtid position"] = node.gtid_position()
            status = node.replica_status() if node is pair.slave else None
            if status is not None:
                lag = pair.lag()
                row["io"] = status.get("Slave_IO_Running", status.get("Replica_IO_Running", "?"))
                row["sql"] = status.get("Slave_SQL_Running", status.get("Replica_SQL_Running", "?"))
                row["lag"] = lag.describe()
        except (NotReady, StartupError) as exc:
            row["gtid position"] = f"error: {str(exc).splitlines()[0][:80]}"
        rows.append(row)
    return rows


# a container's role -> the oxlab.toml roles whose files it runs with
FILE_ROLES = {
    "galera": ("db", "clustercheck"),
    "gtid": ("db", "replcheck"),
    "dblb": ("dblb",),
    "groupware": ("groupware",),
    "web": ("web",),
    "filestore": ("filestore",),
}


def operator_file_rows(lab: Lab) -> list[dict[str, str]]:
    """Which of the operator's files each node runs with (path and hash), from the
    labels `lab up` gave the run; empty for a lab on the lab's own files."""
    nodes = lab.nodes()
    if not nodes:
        return []
    records = json.loads(nodes[0].container.labels.get(FILES_LABEL, "[]") or "[]")
    rows = []
    for node in nodes:
        mine = [r for r in records if r["role"] in FILE_ROLES.get(node.role, ())]
        if mine:
            rows.append(
                {
                    "node": node.name,
                    "operator files": ", ".join(
                        f"{Path(r['path']).name} ({r['sha256'][:12]})" for r in mine
                    ),
                }
            )
    return rows


def haproxy_verdicts(backends: Sequence[Backend]) -> dict[str, str]:
    """Per server, what HAProxy decided about it, for rows of nodes that do not answer:
    "HAProxy marked it DOWN" (in every listener) or per listener where they differ."""
    by_server: dict[str, list[Backend]] = {}
    for b in backends:
        by_server.setdefault(b.server, []).append(b)
    verdicts = {}
    for server, rows in by_server.items():
        states = {b.status.split()[0] for b in rows}
        if len(states) == 1:
            verdicts[server] = f"HAProxy marked it {rows[0].status}"
        else:
            verdicts[server] = "HAProxy: " + ", ".join(f"{b.listener} {b.status}" for b in rows)
    return verdicts


def with_haproxy_verdicts(
    rows: list[dict[str, str]], column: str, verdicts: dict[str, str]
) -> list[dict[str, str]]:
    """A node that does not answer gets HAProxy's verdict on it in the same cell."""
    for row in rows:
        if row.get(column) and row["node"] in verdicts and "not" in row[column]:
            row[column] += f"; {verdicts[row['node']]}"
    return rows


def render_status(lab: Lab, width: int = 100) -> str:
    req = lab.request
    run = lab.run.run_id if lab.run else "?"
    out = [
        f"lab {lab.options.name!r} (run {run}): topology {req.topology}, "
        f"flavour {req.flavour}, failover profile {req.profile}"
        + ("" if req.dblb == "single" else f", dblb {req.dblb}"),
        f"databases' storage: {req.storage} ({describe_storage(req.storage)})",
    ]
    # HAProxy's page and the Galera nodes asked at once: a status page must answer
    # quickly while the cluster is under load
    with ThreadPoolExecutor(max_workers=2) as pool:
        asked_haproxy = pool.submit(dblb_backends, lab)
        galera_rows = lab.galera.status_table() if lab.galera else []
        backends, haproxy_error = asked_haproxy.result()
    verdicts = haproxy_verdicts(backends)
    files = operator_file_rows(lab)
    if files:
        config = lab.nodes()[0].container.labels.get(CONFIG_LABEL, "")
        out.append(f"Operator files from {config}:")
        out.append(table(files, ["node", "operator files"], width=width))
    if lab.galera:
        out.append('Galera nodes (show status like "%wsrep%"):')
        rows = with_haproxy_verdicts(galera_rows, "error", verdicts)
        answering = [r for r in rows if not r.get("error")]
        if answering:
            # the guide's table as `show status` prints it: one variable a line, a column
            # per node (fits 100 columns for any cluster the lab runs)
            names = ["wsrep_cluster_size", *VERIFY, "joined by"]
            transposed = [
                {"variable": name, **{r["node"]: r.get(name, "?") for r in answering}}
                for name in names
            ]
            out.append(table(transposed, ["variable", *(r["node"] for r in answering)], width))
        # a node that does not answer is one sentence, not a row of empty cells
        out += [f"  {r['node']}: {r['error']}" for r in rows if r.get("error")]
    if lab.gtid:
        out.append("GTID master/slave (SHOW REPLICA STATUS on the slave):")
        rows = with_haproxy_verdicts(gtid_rows(lab), "gtid position", verdicts)
        out.append(table(rows, ["node", "role", "io", "sql", "lag", "gtid position"], width))
    if lab.web:
        out.append(
            f"Front end: {lab.web.https_url}/ (log in as testuser/secret; CA certificate: "
            f"{lab.web.ca_path}, e.g. curl --cacert {lab.web.ca_path} "
            f"-d name=testuser -d password=secret '{lab.web.https_url}/ajax/login?action=login')"
        )
        if lab.ox:
            out.append(
                "Groupware nodes: "
                + ", ".join(
                    f"{n.name} (route {n.route}, http://{n.ip}:8080, ajp {n.ip}:8009)"
                    for n in lab.ox.nodes
                )
            )
    if lab.dblb:
        if haproxy_error:
            out.append(f"HAProxy dblb: {haproxy_error}")
        else:
            ip = lab.dblb.ip
            out.append(
                f"HAProxy dblb: writes mysql://{ip}:{WRITE_PORT}  reads mysql://{ip}:{READ_PORT}"
            )
            out.append(f"  stats http://{ip}:{STATS_PORT}/")
            if isinstance(lab.dblb, DblbPair):
                out.append(floating_address_line(lab.dblb))
            rows = [
                {
                    "listener": b.listener,
                    "server": b.server,
                    "role": "backup" if b.backup else "active",
                    "status": b.status,
                    "last check": b.check,
                    "sessions": str(b.sessions),
                    "queued": str(b.queued),
                }
                for b in backends
            ]
            columns = ["listener", "server", "role", "status", "last check", "sessions", "queued"]
            out.append(table(rows, columns, width))
    if lab.request.dblb == "local":
        out += local_haproxy_lines(lab)
    return "\n".join(fit(line, width) for line in out)


def floating_address_line(pair: DblbPair) -> str:
    """Who holds the pair's address: one member, nobody, or both (split brain)."""
    holders = [m.name for m in pair.holders()]
    if len(holders) > 1:
        return f"  SPLIT BRAIN: {' and '.join(holders)} both hold {pair.vip} (VRRP cut?)"
    held = f"held by {holders[0]}" if holders else "held by nobody"
    return f"  floating address {pair.vip} (keepalived VRRP, nopreempt): {held}"


def local_haproxy_lines(lab: Lab) -> list[str]:
    """`--dblb local`: each groupware node's own HAProxy and the writer it chose."""
    lines = []
    for haproxy in haproxies(lab):
        try:
            writers = [
                b.server
                for b in haproxy.backends()
                if b.listener == haproxy.WRITE and b.status == "UP"
            ]
            chose = ", ".join(writers) or "no writer UP"
        except (requests.RequestException, StartupError) as exc:
            chose = f"not answering ({str(exc).splitlines()[0][:80]})"
        lines.append(f"HAProxy on {haproxy.name} (OX uses 127.0.0.1): writes to {chose}")
    return lines


def dblb_backends(lab: Lab) -> tuple[list[Backend], str]:
    """HAProxy's view of its servers, or why it cannot be read (one line)."""
    if not lab.dblb:
        return [], ""
    down = lab.dblb.not_running()
    if down:
        return [], down
    try:
        return lab.dblb.backends(), ""
    except (requests.RequestException, StartupError) as exc:
        return [], f"not answering ({str(exc).splitlines()[0][:120]})"
