"""Mutation check for the lab's pure decision code: each mutation below breaks one
checker, codec table or decision on purpose, in a copy of the repository, and the tests
that guard it must go red. Prints which test caught each mutation; exit 1 if any survived.

    .venv/bin/python tools/mutate.py            # every mutation
    .venv/bin/python tools/mutate.py -k ajp     # those whose name contains "ajp"

Each mutation is an exact text replacement that must match once, so a refactor that
moves the code makes this tool fail loudly instead of silently testing nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNIT = ("tests/unit",)


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...] = UNIT


MUTATIONS = (
    Mutation(
        "list-append: reads of unknown (info) writes counted as G1a",
        "lab/chaos/checkers/list_append.py",
        'elif source.outcome == "fail" and source is not op:',
        'elif source.outcome != "ok" and source is not op:',
    ),
    Mutation(
        "list-append: failed transactions kept in the graph",
        "lab/chaos/checkers/list_append.py",
        'if a is not None and b is not None and a is not b and "fail" not in (a.outcome, b.outcome):',
        "if a is not None and b is not None and a is not b:",
    ),
    Mutation(
        "list-append: concurrent reads flagged as stale",
        "lab/chaos/checkers/list_append.py",
        "w for end, value, w in acknowledged[key] if end < op.start and value not in present",
        "w for end, value, w in acknowledged[key] if end < op.end and value not in present",
    ),
    Mutation(
        "list-append: info appends treated as acknowledged in the stale-read check",
        "lab/chaos/checkers/list_append.py",
        '    for op in txns:\n        if op.outcome == "ok":\n            for f, key, value in _mops(op):\n                if f == "append":\n                    acknowledged',
        '    for op in txns:\n        if op.outcome != "fail":\n            for f, key, value in _mops(op):\n                if f == "append":\n                    acknowledged',
    ),
    Mutation(
        "list-append: garbage-read detection removed",
        "lab/chaos/checkers/list_append.py",
        "            if source is None:\n                verdict.add(",
        "            if source is None:\n                continue\n                verdict.add(",
    ),
    Mutation(
        "list-append: garbage reads only a finding",
        "lab/chaos/checkers/list_append.py",
        '    "garbage-read",\n    "internal",',
        '    "internal",',
    ),
    Mutation(
        "list-append: internal consistency not checked",
        "lab/chaos/checkers/list_append.py",
        "    _internal(txns, verdict)\n",
        "",
    ),
    Mutation(
        "list-append: only the most specific cycle class per component",
        "lab/chaos/checkers/list_append.py",
        "            if cycle:\n                verdict.add(kind, _explain(cycle, by_index))\n",
        "            if cycle:\n                verdict.add(kind, _explain(cycle, by_index))\n                break\n",
    ),
    Mutation(
        "list-append: a non-simple walk reported as a G2-item cycle",
        "lab/chaos/checkers/list_append.py",
        "if path is not None and _simple([(a, b, kind), *path]):",
        "if path is not None:",
    ),
    Mutation(
        "list-append: non-repeatable reads inside a transaction forbidden",
        "lab/chaos/checkers/list_append.py",
        '            elif earlier is not None and seen != earlier + own:\n                verdict.add(\n                    "non-repeatable-read",',
        '            elif earlier is not None and seen != earlier + own:\n                verdict.add(\n                    "internal",',
    ),
    Mutation(
        "bank: money created (total above the start) missed",
        "lab/chaos/checkers/bank.py",
        "if sum(balances.values()) != total:",
        "if sum(balances.values()) < total:",
    ),
    Mutation(
        "bank: wrong number of accounts missed",
        "lab/chaos/checkers/bank.py",
        "if len(balances) != accounts:",
        "if False:",
    ),
    Mutation(
        "workloads: 1047/1180 at COMMIT counted as failed",
        "lab/chaos/clients/workloads.py",
        "known = ROLLED_BACK_AT_COMMIT if at_commit else ROLLED_BACK",
        "known = ROLLED_BACK",
    ),
    Mutation(
        "health-truth: any fault of another node excuses a stall",
        "lab/chaos/checkers/health_truth.py",
        "if fault.target == sample.node or fault.name not in PEER_FREEZES or fault.start > sample.at:",
        "if fault.target == sample.node or fault.start > sample.at:",
    ),
    Mutation(
        "health-truth: a rejoining peer excuses a stall without evidence",
        "lab/chaos/checkers/health_truth.py",
        "        and p.status != 200\n",
        "",
    ),
    Mutation(
        "AJP13: route and ssl_cert attribute codes swapped",
        "lab/oxnode/ajp.py",
        '0x06: "route", 0x07: "ssl_cert"',
        '0x06: "ssl_cert", 0x07: "route"',
    ),
    Mutation(
        "AJP13: GET and HEAD method codes swapped",
        "lab/oxnode/ajp.py",
        '"OPTIONS", "GET", "HEAD",',
        '"OPTIONS", "HEAD", "GET",',
    ),
    Mutation(
        "AJP13: Set-Cookie and Set-Cookie2 response codes swapped",
        "lab/oxnode/ajp.py",
        '"Location", "Set-Cookie", "Set-Cookie2",',
        '"Location", "Set-Cookie2", "Set-Cookie",',
    ),
    Mutation(
        "AJP13: unknown header code not checked",
        "lab/oxnode/ajp.py",
        "            if not 0 <= index < len(codes):\n",
        "            if False:\n",
    ),
    Mutation(
        "oxnode: replication monitor's decision ignored",
        "lab/oxnode/replication.py",
        "return seen_on_slave is not None and seen_on_slave >= expected",
        "return True",
    ),
    Mutation(
        "oxnode: a connection the restarted peer closed taken for alive",
        "lab/oxnode/cluster.py",
        "        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))",
        "        return True",
    ),
    Mutation(
        "oxnode: path parameters not removed before mapping",
        "lab/oxnode/servlet.py",
        'segment = unquote(part.split(";", 1)[0])',
        "segment = unquote(part)",
    ),
    Mutation(
        "web: the guide's plain <Location> pattern (path parameters pass)",
        "lab/roles/web/front_end.py",
        'PROVISIONING_PATTERN = r"(?i)^/servlet(;[^/]*)?/axis2(;[^/]*)?/services(;[^/]*)?(/|$)"',
        'PROVISIONING_PATTERN = r"(?i)^/servlet/axis2/services(/|$)"',
    ),
    Mutation(
        "dialect: Oracle delayed replication with MASTER_DELAY",
        "lab/spec/flavours.py",
        'delay_sql="CHANGE REPLICATION SOURCE TO SOURCE_DELAY={seconds}"',
        'delay_sql="CHANGE MASTER TO MASTER_DELAY={seconds}"',
    ),
    Mutation(
        "dialect: MariaDB stops the IO thread instead of the SQL thread",
        "lab/spec/flavours.py",
        'stop_sql_thread="STOP SLAVE SQL_THREAD"',
        'stop_sql_thread="STOP SLAVE IO_THREAD"',
    ),
    Mutation(
        "dialect: Oracle RESET REPLICA without ALL",
        "lab/spec/flavours.py",
        'reset_replica_all="RESET REPLICA ALL"',
        'reset_replica_all="RESET REPLICA"',
    ),
    Mutation(
        "replcheck: a NULL lag taken for healthy",
        "lab/images/db/replcheck.py",
        '            failures.append("replication lag is unknown")',
        "            pass",
    ),
    Mutation(
        "clustercheck: a frozen server's 503 says '?' instead of the node",
        "lab/images/db/clustercheck.py",
        'node = (variables or {}).get("wsrep_node_name") or opts.node_name',
        'node = (variables or {}).get("wsrep_node_name", "?")',
    ),
    Mutation(
        "nemesis: a leftover that cannot be healed is not reported",
        "lab/chaos/nemesis/leftovers.py",
        '            healing.failed.append(f"{node.name}: could not start or unpause it ({status}): {exc}")\n',
        "            pass\n",
    ),
    Mutation(
        "history: an unknown outcome accepted when loading",
        "lab/chaos/history.py",
        '            if record["outcome"] not in OUTCOMES:\n',
        "            if False:\n",
    ),
    Mutation(
        "nightly: the cleanup test leaves every nightly cell",
        "tests/integration/test_cleanup.py",
        "pytestmark = [pytest.mark.docker, pytest.mark.galera]",
        "pytestmark = [pytest.mark.docker]",
        ("tests/unit/test_nightly_coverage.py",),
    ),
    Mutation(
        "lint HA001: HAProxy timeouts compared with maxLifeTime instead of maxIdleTime",
        "lab/spec/operator/lint.py",
        'idle_ms, idle_source = context.pool_ms("maxIdleTime")',
        'idle_ms, idle_source = context.pool_ms("maxLifeTime")',
    ),
    Mutation(
        "lint HA002: two active writers allowed",
        "lab/spec/operator/lint.py",
        "if len(active) > 1:",
        "if len(active) > 2:",
    ),
    Mutation(
        "lint HA003: a mysql-check accepted as a health check",
        "lab/spec/operator/lint.py",
        'check = _effective(sections, section, "option", "httpchk")',
        'check = _effective(sections, section, "option")',
    ),
    Mutation(
        "lint DB001: flush 2 accepted",
        "lab/spec/operator/lint.py",
        'lambda v: v != "1",',
        'lambda v: v == "0",',
    ),
    Mutation(
        "lint AP001: any route accepted",
        "lab/spec/operator/lint.py",
        "if not routes or routes[0] not in GROUPWARE_ROUTES:",
        "if not routes:",
    ),
    Mutation(
        "lint NF001: a wildcard export accepted",
        "lab/spec/operator/lint.py",
        "if hosts.get(client.host, client.host) not in allowed:",
        'if hosts.get(client.host, client.host) not in (*allowed, "*"):',
    ),
    Mutation(
        "placement: operator .cnf files sorted before the lab's own",
        "lab/spec/operator/placement.py",
        'return f"{OX_CONF_D}/zz-operator-{index:02d}-{name}"',
        'return f"{OX_CONF_D}/operator-{index:02d}-{name}"',
    ),
    Mutation(
        "placement: a node-local setting in a shared file let through",
        "lab/spec/operator/placement.py",
        "if key in NODE_LOCAL:",
        "if key in NODE_LOCAL[:1]:",
    ),
    Mutation(
        "pool checker: a dropped idle connection accepted",
        "lab/chaos/checkers/pool.py",
        'if op.outcome != "ok":',
        'if op.outcome == "info":',
    ),
    Mutation(
        "oxnode pool: idle connections reused past maxIdleTime",
        "lab/oxnode/dbpool.py",
        "idle_ms <= self.settings.max_idle_time_ms",
        "idle_ms >= 0",
    ),
    Mutation(
        "gap evidence: a gap far beyond the mark-down called bounded by it",
        "lab/chaos/report/gap_evidence.py",
        "elif gap <= bound + CLOSE_TO_S:",
        "elif gap <= bound + 10 * CLOSE_TO_S:",
    ),
    Mutation(
        "gap evidence: the faster of HAProxy and Galera taken as the bound",
        "lab/chaos/report/gap_evidence.py",
        "bound = max(t for t in (down, view, 0.0) if t is not None)",
        "bound = min(t for t in (down, view) if t is not None) if down or view else 0.0",
    ),
    Mutation(
        "sysbench: a restart after the fault not counted as an outage",
        "lab/chaos/clients/sysbench.py",
        "        if restarts:\n            stalled",
        "        if False:\n            stalled",
    ),
    Mutation(
        "consistency: a chunk one node lacks not reported",
        "lab/roles/db/consistency.py",
        "if len(set(seen.values())) > 1:",
        "if len({v for v in seen.values() if v is not None}) > 1:",
    ),
    Mutation(
        "observability: a slow answer taken as answered",
        "lab/chaos/checkers/observability.py",
        'elif float(p.get("seconds", 0.0)) > deadline_s:',
        'elif float(p.get("seconds", 0.0)) > 10 * deadline_s:',
    ),
    Mutation(
        "replcheck: Seconds_Behind_Master preferred over pt-heartbeat",
        "lab/images/db/replcheck.py",
        "    if heartbeat_s is not None:\n        if heartbeat_s > opts.max_lag_s:",
        '    if heartbeat_s is not None and lag in ("", "None", "NULL"):\n        if heartbeat_s > opts.max_lag_s:',
    ),
    Mutation(
        "oxnode pool: maxActive not enforced",
        "lab/oxnode/dbpool.py",
        "self._active = threading.BoundedSemaphore(max(1, settings.max_active))",
        "self._active = threading.BoundedSemaphore(10**6)",
    ),
    Mutation(
        "status: a split verdict reported as one",
        "lab/roles/status.py",
        "if len(states) == 1:",
        "if len(states) >= 1:",
    ),
    Mutation(
        "seeded view: every node restores the view under the same UUID",
        "lab/roles/db/galera_config.py",
        'f"my_uuid: {node_uuid(run_id, node_name)}",',
        'f"my_uuid: {uuids[0]}",',
    ),
    Mutation(
        "joined by: the first start read instead of the latest",
        "lab/roles/db/galera.py",
        "def how_joined(log: str, start: int = -1) -> str:",
        "def how_joined(log: str, start: int = 0) -> str:",
    ),
    Mutation(
        "joined by: an IST reported as an SST",
        "lab/roles/db/galera.py",
        "bypass = installed.groups() == required.groups()",
        "bypass = installed is None",
    ),
    Mutation(
        "seeded state: pc.recovery=false not seen",
        "lab/spec/operator/placement.py",
        'elif key == "wsrep_provider_options" and NO_PC_RECOVERY.search(s.value):',
        'elif key == "wsrep_provider_options" and NO_PC_RECOVERY.match(s.value):',
    ),
    Mutation(
        "compose: seeded Galera nodes wait for one another",
        "lab/compose.py",
        'if index and compose_plan.join == "sst":',
        "if index:",
    ),
    Mutation(
        "suite timing: teardown time not counted",
        "lab/suite_timing.py",
        "        self.seconds[directory] += report.duration\n",
        '        self.seconds[directory] += report.duration if report.when != "teardown" else 0\n',
    ),
    Mutation(
        "one-address-holder: two holders not a split brain",
        "lab/chaos/checkers/floating.py",
        'split = [p for p in samples if len(p["holders"]) > 1]',
        'split = [p for p in samples if len(p["holders"]) > 2]',
    ),
    Mutation(
        "one-writer: overlapping writes on two nodes not counted",
        "lab/chaos/checkers/writers.py",
        "            if later.node != op.node:",
        "            if later.node == op.node:",
    ),
    Mutation(
        "local HAProxies: a new writer adopted as fast as the old is dropped",
        "lab/roles/dblb/haproxy_config.py",
        "rise=max(profile.write.rise, profile.write.fall + 2)",
        "rise=profile.write.rise",
    ),
    Mutation(
        "keepalived: the returning member preempts",
        "lab/roles/dblb/keepalived_config.py",
        '            "    nopreempt",\n',
        "",
    ),
    Mutation(
        "failures-confined: other users' failures ignored",
        "lab/chaos/checkers/confined.py",
        'theirs = [op for op in during if op.outcome != "ok" and op.node not in (route, "")]',
        'theirs = [op for op in during if op.outcome != "ok" and op.node in (route, "")]',
    ),
    Mutation(
        "failures-confined: a user still failing on the faulty node counted as moved",
        "lab/chaos/checkers/confined.py",
        'if mine and mine[-1].node == route and mine[-1].outcome != "ok":',
        'if mine and mine[-1].node == route and mine[-1].outcome == "ok":',
    ),
    Mutation(
        "unchecked-rotation: connects that waited out the timeout not counted",
        "lab/chaos/checkers/floating.py",
        'bad = [op for op in unchecked if op.outcome != "ok" or op.end - op.start >= slow_s]',
        'bad = [op for op in unchecked if op.outcome != "ok"]',
    ),
    Mutation(
        "unchecked-rotation: a later flap of the checked path moves 'served again'",
        "lab/chaos/checkers/floating.py",
        "since = min(fails, default=fault.start)",
        "since = max(fails, default=fault.start)",
    ),
    Mutation(
        "verify: a node that is not Synced passes",
        "lab/verify/checks/database.py",
        'if comment != "Synced":',
        'if comment not in ("Synced", "Donor/Desynced"):',
    ),
    Mutation(
        "verify: a cluster smaller than the inventory passes",
        "lab/verify/checks/database.py",
        "if size != str(expected_size):",
        "if size > str(expected_size):",
    ),
    Mutation(
        "verify: a write listener of backups only passes",
        "lab/verify/checks/dblb.py",
        "if not active:",
        "if False:",
    ),
    Mutation(
        "verify: lint's HAProxy rules judge no file on the host",
        "lab/verify/checks/dblb.py",
        'return [f for f in found if f.rule.startswith("HA")]',
        'return [f for f in found if f.rule.startswith("HX")]',
    ),
    Mutation(
        "verify: a route that differs from its BalancerMember passes",
        "lab/verify/checks/groupware.py",
        "elif mine[0] != route:",
        "elif False:",
    ),
    Mutation(
        "verify: a slave behind in one GTID domain passes",
        "lab/verify/checks/database.py",
        "return all(mine.get(d, -1) >= seq for d, seq in positions(want).items())",
        "return any(mine.get(d, -1) >= seq for d, seq in positions(want).items())",
    ),
    Mutation(
        "verify: any 404 counted as denied",
        "lab/verify/checks/front.py",
        'return status == 403 or (status == 404 and "%2F" in path.upper())',
        "return status in (403, 404)",
    ),
    Mutation(
        "hosts: an unknown host key reported as a generic SSH failure",
        "lab/infra/hosts/remote.py",
        'if "host key verification failed" in text or "no host key is known" in text:',
        "if False:",
    ),
    Mutation(
        "verify: a service that does not answer aborts the run instead of failing its check",
        "lab/verify/result.py",
        "    except UNANSWERED as exc:",
        "    except LabError as exc:",
    ),
    Mutation(
        "hosts: the fault journal ignores healed lines",
        "lab/chaos/nemesis/hosts.py",
        'entries.pop(record["healed"], None)',
        "pass",
    ),
    Mutation(
        "hosts: a journaled fault healed on whatever host has the name",
        "lab/chaos/nemesis/hosts.py",
        "if host is None or host.address != entry.address:",
        "if host is None:",
    ),
    Mutation(
        "hosts: a host in two database roles accepted",
        "lab/infra/hosts/inventory.py",
        "if len(databases) > 1:",
        "if len(databases) > 2:",
    ),
)


def copy_repository(target: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run_tests(where: Path, tests: tuple[str, ...]) -> tuple[bool, str]:
    """(went red, the first failing test)"""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *tests,
            "-x",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "--tb=no",
            "-rf",
        ],
        cwd=where,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, re.M)
    return proc.returncode != 0, failed[0] if failed else proc.stdout.strip()[-200:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only mutations whose name contains this")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if args.k.lower() in m.name.lower()]
    survived = 0
    with tempfile.TemporaryDirectory(prefix="oxlab-mutate-") as tmp:
        copy = Path(tmp)
        copy_repository(copy)
        clean, detail = run_tests(copy, UNIT)
        if clean:
            print(f"the unmutated suite is red already: {detail}", file=sys.stderr)
            return 2
        for mutation in chosen:
            path = copy / mutation.path
            original = path.read_text()
            if original.count(mutation.old) != 1:
                print(f"{mutation.name}: the text to mutate is not found once in {mutation.path}")
                return 2
            path.write_text(original.replace(mutation.old, mutation.new))
            started = time.monotonic()
            try:
                red, caught_by = run_tests(copy, mutation.tests)
            finally:
                path.write_text(original)
            survived += not red
            verdict = f"caught by {caught_by}" if red else "SURVIVED"
            print(f"{mutation.name}: {verdict} ({time.monotonic() - started:.0f} s)", flush=True)
    print(f"{len(chosen) - survived} of {len(chosen)} mutations caught")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
