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
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
import tomllib
from dataclasses import dataclass
from difflib import SequenceMatcher
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from mutants import SCOPES  # noqa: E402

UNIT = ("tests/unit",)
CATALOGUE_TEST = (
    "tests/unit/test_mutation_catalogue.py::test_every_mutation_still_applies_exactly_once"
)


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
        "lab/plan/flavours.py",
        'delay_sql="CHANGE REPLICATION SOURCE TO SOURCE_DELAY={seconds}"',
        'delay_sql="CHANGE MASTER TO MASTER_DELAY={seconds}"',
    ),
    Mutation(
        "dialect: MariaDB stops the IO thread instead of the SQL thread",
        "lab/plan/flavours.py",
        'stop_sql_thread="STOP SLAVE SQL_THREAD"',
        'stop_sql_thread="STOP SLAVE IO_THREAD"',
    ),
    Mutation(
        "dialect: Oracle RESET REPLICA without ALL",
        "lab/plan/flavours.py",
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
        "lab/operator/lint/dblb.py",
        'idle_ms, idle_source = context.pool_ms("maxIdleTime")',
        'idle_ms, idle_source = context.pool_ms("maxLifeTime")',
    ),
    Mutation(
        "lint HA003: a mysql-check accepted as a health check",
        "lab/operator/lint/dblb.py",
        'check = _effective(sections, section, "option", "httpchk")',
        'check = _effective(sections, section, "option")',
    ),
    Mutation(
        "lint DB001: flush 2 accepted",
        "lab/operator/lint/db.py",
        'lambda v: v != "1",',
        'lambda v: v == "0",',
    ),
    Mutation(
        "lint AP001: any route accepted",
        "lab/operator/lint/web.py",
        "if not routes or routes[0] not in GROUPWARE_ROUTES:",
        "if not routes:",
    ),
    Mutation(
        "lint NF001: a wildcard export accepted",
        "lab/operator/lint/filestore.py",
        "if hosts.get(client.host.lower()) not in allowed:",
        "if hosts.get(client.host.lower()) not in (*allowed, None):",
    ),
    Mutation(
        "placement: operator .cnf files sorted before the lab's own",
        "lab/operator/placement.py",
        'return f"{OX_CONF_D}/zz-operator-{index:02d}-{name}"',
        'return f"{OX_CONF_D}/operator-{index:02d}-{name}"',
    ),
    Mutation(
        "lint DB006: a node-local setting other than the first let through (lab up too)",
        "lab/operator/lint/db.py",
        "if s.key in NODE_LOCAL:",
        "if s.key in NODE_LOCAL[:1]:",
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
        "lab/operator/placement.py",
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
        "place: a pause on hosts held only for the check period",
        "lab/plan/failover.py",
        'return iso_seconds(merged["evs.inactive_timeout"]) + iso_seconds(',
        'return 0 * iso_seconds(merged["evs.inactive_timeout"]) + iso_seconds(',
    ),
    Mutation(
        "place: provider options keep their padding",
        "lab/plan/failover.py",
        "return {key.strip(): value.strip() for key, value in pairs}",
        "return {key: value for key, value in pairs}",
    ),
    Mutation(
        "place: a fault on hosts not recorded as healed when the scenario fails",
        "lab/chaos/scenarios/place.py",
        "            with make():\n                yield\n        finally:\n            history.healed(fault)",
        "            with make():\n                yield\n            history.healed(fault)\n        finally:\n            pass",
    ),
    Mutation(
        "health: a node that is not Synced passes",
        "lab/roles/health.py",
        'if comment != VERIFY["wsrep_local_state_comment"]:',
        'if comment not in (VERIFY["wsrep_local_state_comment"], "Donor/Desynced"):',
    ),
    Mutation(
        "health: a cluster smaller than the inventory passes",
        "lab/roles/health.py",
        "if size != str(expected_size):",
        "if size > str(expected_size):",
    ),
    Mutation(
        "health: a disconnected node passes",
        "lab/roles/health.py",
        'for key in ("wsrep_ready", "wsrep_connected"):',
        'for key in ("wsrep_ready",):',
    ),
    Mutation(
        "health: a rising HAProxy server counts as UP",
        "lab/roles/health.py",
        "for listener, server, status in servers if status != UP]",
        'for listener, server, status in servers if not status.startswith(UP)\n        and not status.startswith("DOWN ")]',
    ),
    Mutation(
        "health: the wait gives up at the first problem",
        "lab/roles/health.py",
        "        last = problems()\n        return not last",
        "        last = problems()\n        if last:\n            raise StartupError('unhealthy')\n        return True",
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
        'return [f for f in found if f.rule.startswith("HA") and f.rule not in BLOCKS_UP]',
        'return [f for f in found if f.rule.startswith("HX") and f.rule not in BLOCKS_UP]',
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
        "lab/verify/checks/web.py",
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
    Mutation(
        "list-append: wr edges taken from a read's first element",
        "lab/chaos/checkers/list_append.py",
        'add(writer.get((key, seen[-1])), op, "wr")',
        'add(writer.get((key, seen[0])), op, "wr")',
    ),
    Mutation(
        "list-append: rw edges to the writer of the read's last element",
        "lab/chaos/checkers/list_append.py",
        'add(op, writer.get((key, order[len(seen)])), "rw")',
        'add(op, writer.get((key, order[len(seen) - 1])), "rw")',
    ),
    Mutation(
        "list-append: G1c searched over rw edges too",
        "lab/chaos/checkers/list_append.py",
        '"G1c": _cycle_through(inside, {"ww", "wr"}, "wr", 1),',
        '"G1c": _cycle_through(inside, {"ww", "wr", "rw"}, "wr", 1),',
    ),
    Mutation(
        "list-append: a read's prefix compared only by its first element",
        "lab/chaos/checkers/list_append.py",
        "if order[: len(seen)] != seen:",
        "if order[:1] != seen[:1]:",
    ),
    Mutation(
        "list-append: G1b judged on a read's first element",
        "lab/chaos/checkers/list_append.py",
        "source = writer.get((key, seen[-1]))\n            if source and source is not op and final_append.get((source.index, key)) != seen[-1]:",
        "source = writer.get((key, seen[0]))\n            if source and source is not op and final_append.get((source.index, key)) != seen[0]:",
    ),
    Mutation(
        "list-append: lost writes inferred from a transaction begun before the acknowledgement",
        "lab/chaos/checkers/list_append.py",
        "            if began > op.end:",
        "            if began > op.start:",
    ),
    Mutation(
        "list-append: lost writes judged on the earliest-begun writer a read shows",
        "lab/chaos/checkers/list_append.py",
        "if w is not None and (key not in latest or w.start > latest[key][0]):",
        "if w is not None and (key not in latest or w.start < latest[key][0]):",
    ),
    Mutation(
        "measure: write gap counts the killed node's acknowledgements",
        "lab/chaos/runner.py",
        'and op.node not in (failed_node, "")',
        'and op.node != ""',
    ),
    Mutation(
        "measure: write gap from invoke time",
        "lab/chaos/runner.py",
        "        and op.end > fault_at\n        and op.node not in",
        "        and op.start > fault_at\n        and op.node not in",
    ),
    Mutation(
        "measure: worst gap takes the luckiest client",
        "lab/chaos/runner.py",
        'worst = max(worst, (min(back) - fault_at) if back else float("inf"))',
        'worst = min(worst or float("inf"), (min(back) - fault_at) if back else float("inf"))',
    ),
    Mutation(
        "measure: worst gap's recovery begun before the failure",
        "lab/chaos/runner.py",
        'back = [op.end for op in mine if op.outcome == "ok" and op.start >= min(failed)]',
        'back = [op.end for op in mine if op.outcome == "ok" and op.end >= min(failed)]',
    ),
    Mutation(
        "measure: longest stall from invoke times",
        "lab/chaos/runner.py",
        'acked = sorted(op.end for op in history.ops if op.outcome == "ok" and start <= op.end <= end)',
        'acked = sorted(op.start for op in history.ops if op.outcome == "ok" and start <= op.start <= end)',
    ),
    Mutation(
        "measure: longest stall counts unknown operations as acknowledged",
        "lab/chaos/runner.py",
        'acked = sorted(op.end for op in history.ops if op.outcome == "ok" and start <= op.end <= end)',
        'acked = sorted(op.end for op in history.ops if op.outcome != "fail" and start <= op.end <= end)',
    ),
    Mutation(
        "measure: recovery counts an operation in flight across the failure",
        "lab/chaos/history.py",
        'after = [op.end for op in relevant if op.outcome == "ok" and op.start >= noticed]',
        'after = [op.end for op in relevant if op.outcome == "ok" and op.end >= noticed]',
    ),
    Mutation(
        "measure: certification conflicts counted as outages",
        "lab/chaos/history.py",
        'return op.outcome != "ok" and not op.error.startswith(CONFLICT)',
        'return op.outcome != "ok"',
    ),
    Mutation(
        "measure: the error window ends at the heal even when recovery came later",
        "lab/chaos/runner.py",
        "until = max(until, fault.end or fault.start)",
        "until = fault.end or fault.start",
    ),
    Mutation(
        "measure: unknown operations counted as errors",
        "lab/chaos/runner.py",
        '"errors": sum(op.outcome == "fail" for op in window),',
        '"errors": sum(op.outcome != "ok" for op in window),',
    ),
    Mutation(
        "history: a final read of null accepted",
        "lab/chaos/history.py",
        "        if final:\n            raise ValueError",
        "        if False:\n            raise ValueError",
    ),
    Mutation(
        "history: a read's elements not checked",
        "lab/chaos/history.py",
        '        for element in value:\n            _integer(element, f"an element of {mop!r}")',
        "        pass",
    ),
    Mutation(
        "lab check: without a meta line the lost-write check is skipped",
        "lab/chaos/checkers/registry.py",
        "    if finals & {TXN, READ_INSERTS}:",
        "    if finals & {READ_INSERTS}:",
    ),
    Mutation(
        "lab check: a checker's traceback exits 1",
        "lab/cli/check.py",
        '    except LabError as exc:\n        print(f"lab: error: {exc}", file=sys.stderr)\n        return 2\n    scenario',
        '    except LabError as exc:\n        print(f"lab: error: {exc}", file=sys.stderr)\n        return 1\n    scenario',
    ),
    Mutation(
        "lint: HAProxy's first of duplicated lines taken",
        "lab/operator/parsers.py",
        "        found = self.get(*keyword)\n        return found[-1] if found else None",
        "        found = self.get(*keyword)\n        return found[0] if found else None",
    ),
    Mutation(
        "lint: the first defaults section taken instead of the last above",
        "lab/operator/lint/dblb.py",
        '        if other.kind == "defaults":\n            found = other',
        '        if other.kind == "defaults":\n            found = found or other',
    ),
    Mutation(
        "lint: a defaults section below a listener applied to it",
        "lab/operator/lint/dblb.py",
        "        if other is section or other.line > section.line:\n            break",
        "        if other is section:\n            continue",
    ),
    Mutation(
        "lint: the write listener always the one on :3306",
        "lab/operator/lint/dblb.py",
        '    for port, label in ((context.write_port(), "write"), (context.read_port(), "read")):',
        '    for port, label in ((str(WRITE_PORT), "write"), (context.read_port(), "read")):',
    ),
    Mutation(
        "lint HA003: option httpchk from the defaults ignored",
        "lab/operator/lint/dblb.py",
        '        check = _effective(sections, section, "option", "httpchk")',
        '        check = section.first("option", "httpchk")',
    ),
    Mutation(
        "lint HA004: default-server of the defaults ignored",
        "lab/operator/lint/dblb.py",
        '        *(w for _, w in (defaults.get("default-server") if defaults else [])),\n',
        "",
    ),
    Mutation(
        "lint HA005: timeout check ignored",
        "lab/operator/lint/dblb.py",
        "    if check is None:\n        return MarkDown(timing, timing.inter_ms, False)",
        "    if True:\n        return MarkDown(timing, timing.inter_ms, False)",
    ),
    Mutation(
        "lint HA005: the worst case without the first check's phase",
        "lab/operator/lint/dblb.py",
        "        return self.timing.inter_ms + self.best_ms",
        "        return self.best_ms",
    ),
    Mutation(
        "lint HA005: a check of a dead server waits timeout connect even above inter",
        "lab/operator/lint/dblb.py",
        "    return MarkDown(timing, min(connect_ms or timing.inter_ms, timing.inter_ms), True)",
        "    return MarkDown(timing, connect_ms or timing.inter_ms, True)",
    ),
    Mutation(
        "lint HA008: socketTimeout 0 compared as 0 ms",
        "lab/operator/lint/dblb.py",
        "    if socket_ms == 0:\n        return  # no socket timeout at all: OX002's business",
        "    if socket_ms < 0:\n        return",
    ),
    Mutation(
        "lint: oxlab.toml's [hosts] not honoured",
        "lab/operator/lint/engine.py",
        "        found.update(dict(self.project.hosts))\n        return {",
        "        return {",
    ),
    Mutation(
        "lint HA007: a bind with an address not read as the port",
        "lab/operator/parsers.py",
        'any(_in_range(one.rsplit(":", 1)[-1], int(port)) for one in w[1].split(","))',
        'any(one == f":{port}" for one in w[1].split(","))',
    ),
    Mutation(
        "lint OX004: autoReconnect=TRUE missed",
        "lab/operator/lint/groupware.py",
        '        if value.strip().lower() == "true":\n            yield Finding(\n                "OX004",',
        '        if value.strip() == "true":\n            yield Finding(\n                "OX004",',
    ),
    Mutation(
        "lint OX004: autoReconnect in a JDBC URL missed",
        "lab/operator/lint/engine.py",
        '        elif s.key in ("readUrl", "writeUrl"):',
        "        elif False:",
    ),
    Mutation(
        "lint: my.cnf option names with dashes not normalised",
        "lab/operator/parsers.py",
        'name = key.strip().lower().replace("-", "_")',
        "name = key.strip().lower()",
    ),
    Mutation(
        "lint DB007: wsrep_on = off (lower case) missed",
        "lab/operator/lint/db.py",
        'if found and found[1].value.strip().lower() in ("0", "off", "false"):',
        'if found and found[1].value.strip() in ("0", "OFF", "false"):',
    ),
    Mutation(
        "lint DB007: an OFF a later file overrides stops lab up",
        "lab/operator/lint/db.py",
        'found = context.db_setting("wsrep_on")  # the value mysqld runs with: the last one',
        'found = next(((f, s) for f, s in context.db_settings() if s.key == "wsrep_on" and s.value.lower() == "off"), context.db_setting("wsrep_on"))',
    ),
    Mutation(
        "lint HA007: a bind's address list read by its last port only",
        "lab/operator/parsers.py",
        'len(w) > 1 and any(_in_range(one.rsplit(":", 1)[-1], int(port)) for one in w[1].split(","))',
        'len(w) > 1 and _in_range(w[1].rsplit(":", 1)[-1], int(port))',
    ),
    Mutation(
        "lint HA007: a port range's last port left out",
        "lab/operator/parsers.py",
        "return int(first) <= port <= int(last or first)",
        "return int(first) <= port < int(last or first) or port == int(first)",
    ),
    Mutation(
        "AJP13: the client sends more than the maximum send body size when asked",
        "lab/oxnode/ajp.py",
        "size = min(r.integer(), MAX_SEND_BODY)",
        "size = r.integer()",
    ),
    Mutation(
        "properties: a continued line not joined",
        "lab/oxnode/config.py",
        "        while _continues(line) and number < len(lines):",
        "        while False:",
    ),
    Mutation(
        "exports: a line's -defaults dropped",
        "lab/operator/parsers.py",
        '                defaults += tuple(filter(None, entry[1:].split(",")))',
        "                pass",
    ),
    Mutation(
        "lint DB008: a member's port taken as part of its host",
        "lab/operator/lint/db.py",
        'unknown = [m for m in members if m and m.split(":")[0].lower() not in hosts]',
        "unknown = [m for m in members if m and m.lower() not in hosts]",
    ),
    Mutation(
        "lint DB009: the IST need ignored",
        "lab/operator/lint/db.py",
        "    if gcache < ist_bytes:",
        "    if gcache < 0:",
    ),
    Mutation(
        "lint AP001: Route= in another case missed",
        "lab/operator/lint/web.py",
        'routes = [a.split("=", 1)[1] for a in d.args if a.lower().startswith("route=")]',
        'routes = [a.split("=", 1)[1] for a in d.args if a.startswith("route=")]',
    ),
    Mutation(
        "lint AP002: STICKYSESSION= in another case missed",
        "lab/operator/lint/web.py",
        'if a.lower().startswith("stickysession=")',
        'if a.startswith("stickysession=")',
    ),
    Mutation(
        "lint AP006: <location> in lower case not read",
        "lab/operator/lint/web.py",
        'if len(words) > 1 and words[0].lower() == "location":',
        'if len(words) > 1 and words[0] == "Location":',
    ),
    Mutation(
        "lint AP006: ProxyPass /path backend not read",
        "lab/operator/lint/web.py",
        '        if d.args[0].startswith("/"):\n            mappings.append',
        "        if False:\n            mappings.append",
    ),
    Mutation(
        "lint: host names compared case-sensitively",
        "lab/operator/lint/engine.py",
        "        return {name.lower(): node for name, node in found.items()}",
        "        return found",
    ),
    Mutation(
        "lint NF002: anongid not checked",
        "lab/operator/lint/filestore.py",
        "wrong = (squash_all and (uid, gid) != (OX_UID, OX_UID)) or client.chosen(",
        "wrong = (squash_all and uid != OX_UID) or client.chosen(",
    ),
    Mutation(
        "lab up: lint's blocking findings not enforced",
        "lab/operator/placement.py",
        "    if blocking:\n        raise ConfigError",
        "    if False:\n        raise ConfigError",
    ),
    Mutation(
        "lab up: no :3306 listener no longer stops it",
        "lab/operator/lint/dblb.py",
        "    haproxy_write_listener,\n    blocks_up=True,\n)",
        "    haproxy_write_listener,\n)",
    ),
    Mutation(
        "AJP13: a body chunk one byte over mod_proxy_ajp's packet",
        "lab/oxnode/ajp.py",
        "MAX_CHUNK = MAX_PACKET - 8  # Send Body Chunk: magic, length, type, chunk length, NUL",
        "MAX_CHUNK = MAX_PACKET - 7  # Send Body Chunk: magic, length, type, chunk length, NUL",
    ),
    Mutation(
        "AJP13: a request body packet one byte over the maximum send body size",
        "lab/oxnode/ajp.py",
        "MAX_SEND_BODY = MAX_PACKET - 6",
        "MAX_SEND_BODY = MAX_PACKET - 5",
    ),
    Mutation(
        "AJP13: the client accepts packets over 8 KB",
        "lab/oxnode/ajp.py",
        "        payload = read_packet(stream, CONTAINER_MAGIC)\n",
        "        payload = read_packet(stream, CONTAINER_MAGIC, 65536)\n",
    ),
    Mutation(
        "AJP13: a body chunk without its NUL terminator",
        "lab/oxnode/ajp.py",
        'payload = bytes([SEND_BODY_CHUNK]) + struct.pack(">H", len(chunk)) + chunk + b"\\x00"',
        'payload = bytes([SEND_BODY_CHUNK]) + struct.pack(">H", len(chunk)) + chunk',
    ),
    Mutation(
        "clustercheck: wsrep_reject_queries=ALL_KILL taken for healthy",
        "lab/images/db/clustercheck.py",
        '    if reject != "NONE":',
        '    if reject == "ALL":',
    ),
    Mutation(
        "clustercheck: a Joined node (3) admitted with AVAILABLE_WHEN_DONOR",
        "lab/images/db/clustercheck.py",
        "state_ok = state == SYNCED or (state == DONOR_DESYNCED and opts.available_when_donor)",
        'state_ok = state == SYNCED or (state in ("2", "3") and opts.available_when_donor)',
    ),
    Mutation(
        "clustercheck: the writer is the name that sorts last",
        "lab/images/db/clustercheck.py",
        "    return all(me < peer for peer in healthy_peers)",
        "    return all(me > peer for peer in healthy_peers)",
    ),
    Mutation(
        "clustercheck: a lone healthy node is not the writer",
        "lab/images/db/clustercheck.py",
        "    return all(me < peer for peer in healthy_peers)",
        "    return bool(healthy_peers) and all(me < peer for peer in healthy_peers)",
    ),
    Mutation(
        "replcheck: read_only=ON in lower case taken for writable",
        "lab/images/db/replcheck.py",
        '        if read_only == "1" or read_only.upper() == "ON":',
        '        if read_only in ("1", "ON"):',
    ),
    Mutation(
        "replcheck: stopped threads also blamed on an unknown lag",
        "lab/images/db/replcheck.py",
        '        if io == "Yes" and sql == "Yes":\n            failures.append("replication lag is unknown")',
        '        failures.append("replication lag is unknown")',
    ),
    Mutation(
        "filestore checker: unknown outcomes not judged",
        "lab/chaos/checkers/filestore.py",
        'if op.f in ("upload", "download") and op.outcome != "ok" and start <= op.start <= end',
        'if op.f in ("upload", "download") and op.outcome == "fail" and start <= op.start <= end',
    ),
    Mutation(
        "filestore checker: an unhealed outage ends at its start",
        "lab/chaos/checkers/filestore.py",
        "    end = fault.end if fault.end is not None else max((op.end for op in history.ops), default=0)",
        "    end = fault.end if fault.end is not None else fault.start",
    ),
    Mutation(
        "filestore checker: a .part directory taken for a partial file",
        "lab/chaos/checkers/filestore.py",
        '        if path.rsplit("/", 1)[-1].endswith(".part"):',
        '        if ".part" in path:',
    ),
    Mutation(
        "filestore checker: what an earlier run left counted",
        "lab/chaos/checkers/filestore.py",
        "    for location in sorted((named - old_named) - files):",
        "    for location in sorted(named - files):",
    ),
    Mutation(
        "one-writer: the scan stops at the next write of the same node",
        "lab/chaos/checkers/writers.py",
        "            if later.node != op.node:\n                overlaps += 1",
        "            if later.node == op.node:\n                break\n            if later.node != op.node:\n                overlaps += 1",
    ),
    Mutation(
        "warm-up: exactly the count asked for is not enough",
        "lab/chaos/runner.py",
        "poll(lambda: history.acked() >= acked, timeout=timeout, what=what)",
        "poll(lambda: history.acked() > acked, timeout=timeout, what=what)",
    ),
    Mutation(
        "workload: the pace is ignored",
        "lab/chaos/clients/workloads.py",
        "                if self.pace_s:\n",
        "                if False:\n",
    ),
    Mutation(
        "verify: a section runs without the hosts of its roles",
        "lab/verify/run.py",
        "    checks = [check for section, check in chosen if not missing[section]]",
        "    checks = [check for section, check in chosen]",
    ),
    Mutation(
        "lab test: the smoke scenario ignores the load balancer option",
        "lab/cli/testing.py",
        "            if same(scenario) and scenario.dblb == dblb:",
        "            if same(scenario):",
    ),
    Mutation(
        "lab list: a paused node counts as running",
        "lab/cli/listing.py",
        'if s != "running"]',
        'if s not in ("running", "paused")]',
    ),
    Mutation(
        "chaos run: the scenario's own --topology refused too",
        "lab/cli/chaos.py",
        "        if wanted not in (None, own):",
        "        if wanted is not None:",
    ),
    Mutation(
        "bench --record: a run appends instead of replacing its section",
        "lab/bench.py",
        "    if start in text and end in text:",
        "    if False:",
    ),
    Mutation(
        "chaos on hosts: a lab flag given with --inventory is not refused",
        "lab/cli/chaos.py",
        '        refused = options.given(args, *options.LAB_FLAGS, "client")',
        '        refused = options.given(args, "client")',
    ),
    Mutation(
        "run on hosts: a missing role of the scenario is not checked",
        "lab/chaos/scenarios/registry.py",
        "    missing = [r for r in scenario.hosts_need if not target.role(r)]",
        "    missing: list[str] = []",
    ),
    Mutation(
        "shards: split in the order the runner collected (random seeds disagree)",
        "lab/suite_split.py",
        "    by_id = sorted(tests, key=lambda t: t.nodeid)",
        "    by_id = list(tests)",
    ),
    Mutation(
        "storage: a run with chaos or durable tests gets fast storage",
        "lab/roles/db/storage.py",
        '    return given or ("disk" if needing_disk else "fast")',
        '    return given or "fast"',
    ),
    Mutation(
        "storage: chaos runs on a lab whose fsync is elided",
        "lab/roles/db/storage.py",
        '    if storage == "fast":\n        raise ConfigError(',
        '    if storage == "never":\n        raise ConfigError(',
    ),
    Mutation(
        "storage: the lab fixtures ignore the run's choice",
        "lab/pytest_plugin.py",
        '    storage = getattr(pytestconfig, "_ox_lab_storage", None) or _request(pytestconfig).storage',
        "    storage = _request(pytestconfig).storage",
    ),
    Mutation(
        "images: a run on the stand-in hosts does not build their images first",
        "lab/pytest_plugin.py",
        '    return "standin" if uses.intersection(STANDIN_FIXTURES) else "role"',
        '    return "role"',
    ),
    Mutation(
        "longest first: a --dist mode without workers counts as distributed",
        "lab/pytest_plugin.py",
        '    return config.getoption("dist", default="no") != "no" and bool(',
        '    return config.getoption("dist", default="no") != "no" or bool(',
    ),
    Mutation(
        "longest first: xdist's reorder by test count left on under workers",
        "lab/pytest_plugin.py",
        "        config.option.loadscopereorder = False",
        "        config.option.loadscopereorder = True",
    ),
    Mutation(
        "chaos start: exactly STARTED_ACKS acknowledged counts as going",
        "lab/chaos/runner.py",
        "lambda: workload.acked() > STARTED_ACKS,",
        "lambda: workload.acked() >= STARTED_ACKS,",
    ),
    Mutation(
        "chaos start: the error names the first failures, not the last",
        "lab/chaos/runner.py",
        'failed = [op for op in workload.history.ops if op.outcome != "ok"][-3:]',
        'failed = [op for op in workload.history.ops if op.outcome != "ok"][:3]',
    ),
    Mutation(
        "checksums: a composite primary key chunked by its first column",
        "lab/roles/db/consistency.py",
        "chunk_key = keys[0] if len(keys) == 1 and keys[0] in integer else None",
        "chunk_key = keys[0] if keys and keys[0] in integer else None",
    ),
    Mutation(
        "checksums: Galera nodes checksummed before applying what they received",
        "lab/roles/db/consistency.py",
        'sync = "SET SESSION wsrep_sync_wait = 1; " if galera else ""',
        'sync = ""',
    ),
    Mutation(
        "health truth: only a freeze that began before the check excuses the write",
        "lab/chaos/checkers/health_truth.py",
        "if fault.start <= write_end and sample.at <= ended:",
        "if fault.start <= sample.at and sample.at <= ended:",
    ),
    Mutation(
        "health truth: a peer's freeze counts as the node's own",
        "lab/chaos/checkers/health_truth.py",
        "    if fault.target != sample.node or fault.name not in PEER_FREEZES:\n        return None\n    write_end",
        "    if fault.name not in PEER_FREEZES:\n        return None\n    write_end",
    ),
    Mutation(
        "engine files: engines told apart by their daemon ID alone",
        "lab/infra/docker_env.py",
        'for key in ("ID", "Name", "DockerRootDir"))',
        'for key in ("ID",))',
    ),
    Mutation(
        "engine files: every engine's runs share one directory",
        "lab/infra/docker_env.py",
        'path = os.path.join(tempfile.gettempdir(), f"oxlab-engine-{key}")',
        'path = os.path.join(tempfile.gettempdir(), "oxlab-engine")',
    ),
    Mutation(
        "how_joined: a restart not yet logged answers with the previous start's way in",
        "lab/roles/db/galera.py",
        "            return STARTING\n",
        "            return how_joined(self.logs())\n",
    ),
    Mutation(
        "how_joined: a restored view is 'seeded, no transfer' before the node is synced",
        "lab/roles/db/galera.py",
        'return "seeded, no transfer" if SYNCED.search(latest) else JOINING',
        'return "seeded, no transfer"',
    ),
    Mutation(
        "started_at: the container's start time as last cached",
        "lab/infra/nodes.py",
        'since a start since the last look is what callers ask about."""\n        self.reload()',
        'since a start since the last look is what callers ask about."""',
    ),
)


def stale(root: Path = ROOT) -> list[str]:
    """Mutations whose text is not found exactly once in their file (a refactor moved the
    code): each would test nothing. A unit test keeps this list empty."""
    return [
        f"{m.name}: {m.path}"
        for m in MUTATIONS
        if not (root / m.path).is_file() or (root / m.path).read_text().count(m.old) != 1
    ]


# What mutmut 3 itself does to one token (its operator table): a catalogue mutation that
# is only this, in a module mutmut mutates, is one of its mutants already and is scored
# there, so the catalogue does not keep it (tools/mutants.py; issue 32)
MUTMUT_SWAPS = {
    ("<", "<="),
    ("<=", "<"),
    (">", ">="),
    (">=", ">"),
    ("==", "!="),
    ("!=", "=="),
    ("True", "False"),
    ("False", "True"),
    ("and", "or"),
    ("or", "and"),
    ("is", "is not"),
    ("in", "not in"),
    ("+", "-"),
    ("-", "+"),
}


def _tokens(text: str) -> list[str]:
    try:
        return [
            t.string
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in _LAYOUT
        ]
    except (tokenize.TokenError, SyntaxError):  # a fragment tokenize cannot close
        return text.split()


_LAYOUT = {
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
    tokenize.COMMENT,
}


def mutmut_scope(root: Path = ROOT) -> list[str]:
    """pyproject.toml's [tool.mutmut] only_mutate: the modules mutmut mutates."""
    with (root / "pyproject.toml").open("rb") as f:
        return list(tomllib.load(f)["tool"]["mutmut"]["only_mutate"])


def mutmut_expresses(mutation: Mutation, scope: list[str]) -> bool:
    """True when mutmut makes this very mutant: the module is in its scope and the change
    is one token that its operator table swaps (`<` for `<=`, True for False, n for
    n + 1). A renamed variable, a removed clause or a string swapped for another it does
    not make, and those stay in the catalogue; so do mutations of a module of which only
    some functions are scored (tools/mutants.py's SCOPES)."""
    if not any(fnmatch(mutation.path, glob) for glob in scope) or mutation.path in SCOPES:
        return False  # not mutated, or only some of its functions scored (runner.py)
    old, new = _tokens(mutation.old), _tokens(mutation.new)
    changed = [
        (old[i1:i2], new[j1:j2])
        for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
        if op != "equal"
    ]
    if len(changed) != 1:
        return False
    before, after = (" ".join(side) for side in changed[0])
    if (before, after) in MUTMUT_SWAPS:
        return True
    return before.isdigit() and after.isdigit() and int(after) == int(before) + 1


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
            # the catalogue's own test fails on any mutated copy (the mutation's text is
            # gone): it would be credited with every catch after it in file order
            "--deselect",
            CATALOGUE_TEST,
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
