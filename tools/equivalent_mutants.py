"""Surviving mutants reviewed as equivalent: the mutated code behaves as the original for
every input the lab can give it, so no test can tell them apart. Each has a one-line
reason; tools/mutants.py leaves them out of the module's score. A mutant is named by its
module, function and the mutated line before and after (whitespace folded), as
`tools/mutants.py survivors` prints it: mutmut's numbers move when a function changes.

Review rule: a mutant belongs here only when the reason holds for every input; a mutant
that changes what a person reads (a message, a table) is not equivalent, it is untested.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Equivalent:
    path: str
    function: str
    before: str
    after: str
    why: str


INF = "float() reads 'inf' in any case: the same infinity"
EDGE = (
    "an acknowledgement exactly at the window's edge adds a gap of 0 s beside the same gap "
    "to the next one: the longest stall is the same"
)

COOKIE = (
    "stickysession= names a cookie, and a cookie name holds no '=' (RFC 6265: a token): "
    "the value after the first '=' is the value after the last"
)

ONE_FILE = "the filestore role has one file in oxlab.toml (exports): all its files are that one"

ONE_KEY = (
    "one() is asked for the groupware and dblb roles only, each with one file in oxlab.toml "
    "(configdb_properties, haproxy_cfg): all the role's files are that one"
)

SIGNED = "a length the packet limit keeps under 32,768 (MAX_PACKET 8192 is checked first): signed and unsigned 16 bits pack it the same"

PLUGIN_NAME = "a plugin's name only labels it in pytest's plugin list; nothing looks it up"
TABLE_FILE = (
    "the per-directory table is a temporary file run_suite names, writes through the plugin, "
    "reads with json.loads and removes: its name and indentation reach no person"
)

FIRST_PART = (
    "only the part before the first '::' is used: how many splits follow it does not change it"
)

TWO_EQUALS = (
    "the pool reads only numbers and 'true' from a JDBC setting: a value with a second '=' "
    "is neither whichever '=' splits it, so both give the default"
)

MISSING_FAILS = (
    "a status row the server did not give fails its condition whatever the default is, as "
    "long as it is not the passing value; the message shows '?' from its own lookup"
)
MISSING_PASSES = (
    "a setting that is absent counts as off: any default but the one value that turns it on "
    "('ON', '1') gives the same decision"
)

LAST_PART = (
    "only the part after the last ':' is used: how many splits come before it does not change it"
)

FIRST_HASH = "only the part before the first '#' is kept: how many splits follow does not change it"

EQUIVALENT: tuple[Equivalent, ...] = (
    Equivalent(
        "lab/chaos/checkers/writes.py",
        "check_writes_kept",
        'fault_at = history.faults[0].start if history.faults else float("inf")',
        'fault_at = history.faults[0].start if history.faults else float("INF")',
        INF,
    ),
    Equivalent(
        "lab/chaos/runner.py",
        "write_gap",
        'return (min(after) - fault_at) if after else float("inf")',
        'return (min(after) - fault_at) if after else float("INF")',
        INF,
    ),
    Equivalent(
        "lab/chaos/runner.py",
        "worst_gap",
        'worst = max(worst, (min(back) - fault_at) if back else float("inf"))',
        'worst = max(worst, (min(back) - fault_at) if back else float("INF"))',
        INF,
    ),
    Equivalent(
        "lab/chaos/runner.py",
        "longest_stall",
        'acked = sorted(op.end for op in history.ops if op.outcome == "ok" and start <= op.end <= end)',
        'acked = sorted(op.end for op in history.ops if op.outcome == "ok" and start < op.end <= end)',
        EDGE,
    ),
    Equivalent(
        "lab/chaos/runner.py",
        "longest_stall",
        'acked = sorted(op.end for op in history.ops if op.outcome == "ok" and start <= op.end <= end)',
        'acked = sorted(op.end for op in history.ops if op.outcome == "ok" and start <= op.end < end)',
        EDGE,
    ),
    Equivalent(
        "lab/operator/lint/dblb.py",
        "_defaults",
        "found = None",
        'found = ""',
        "every caller tests the defaults section for truth, and '' is as false as None",
    ),
    Equivalent(
        "lab/operator/lint/dblb.py",
        "_defaults",
        "if other is section or other.line > section.line:",
        "if other is section or other.line >= section.line:",
        "two sections of one file never start on the same line",
    ),
    Equivalent(
        "lab/operator/lint/dblb.py",
        "_server_option",
        'return source[index + 1] if index + 1 < len(source) else ""',
        'return source[index + 1] if index + 1 < len(source) else "XXXX"',
        "an option without a value: callers ask only 'is it set' or parse it as a time, "
        "and 'XXXX' is no time either: the default applies",
    ),
    Equivalent(
        "lab/operator/lint/engine.py",
        "blocking_findings",
        "return lint(plan.project, plan.topology, (plan.flavour,), only=BLOCKS_UP)",
        "return lint(plan.project, plan.topology, None, only=BLOCKS_UP)",
        "no rule that stops lab up reads the flavours (DB001-DB010's flavour checks report)",
    ),
    Equivalent(
        "lab/operator/lint/engine.py",
        "LintContext.listener_on",
        "return parsers.servers_for_port(found[1], port) if found else None",
        "return parsers.servers_for_port(found[1], port) if (found) or True else None",
        "every caller returns before it when the project has no haproxy.cfg",
    ),
    Equivalent(
        "lab/operator/lint/db.py",
        "size_bytes",
        r'match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*", value, re.IGNORECASE)',
        r'match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*", value, re.IGNORECASE)',
        "the pattern is matched with re.IGNORECASE: its letters' case does not matter",
    ),
    Equivalent(
        "lab/operator/lint/web.py",
        "sticky",
        'if not any(a.split("=", 1)[1].split("|")[0] == "JSESSIONID" for a in sticky_args):',
        'if not any(a.split("=", )[1].split("|")[0] == "JSESSIONID" for a in sticky_args):',
        COOKIE,
    ),
    Equivalent(
        "lab/operator/lint/web.py",
        "sticky",
        'if not any(a.split("=", 1)[1].split("|")[0] == "JSESSIONID" for a in sticky_args):',
        'if not any(a.rsplit("=", 1)[1].split("|")[0] == "JSESSIONID" for a in sticky_args):',
        COOKIE,
    ),
    Equivalent(
        "lab/operator/lint/web.py",
        "sticky",
        'if not any(a.split("=", 1)[1].split("|")[0] == "JSESSIONID" for a in sticky_args):',
        'if not any(a.split("=", 2)[1].split("|")[0] == "JSESSIONID" for a in sticky_args):',
        COOKIE,
    ),
    Equivalent(
        "lab/operator/lint/filestore.py",
        "export_clients",
        'for f in context.files("filestore", "exports"):',
        'for f in context.files("filestore", ):',
        ONE_FILE,
    ),
    Equivalent(
        "lab/operator/lint/filestore.py",
        "export_clients",
        'for f in context.files("filestore", "exports"):',
        'for f in context.files("filestore", None):',
        ONE_FILE,
    ),
    Equivalent(
        "lab/operator/lint/filestore.py",
        "export_ids",
        'for f in context.files("filestore", "exports"):',
        'for f in context.files("filestore", ):',
        ONE_FILE,
    ),
    Equivalent(
        "lab/operator/lint/filestore.py",
        "export_ids",
        'for f in context.files("filestore", "exports"):',
        'for f in context.files("filestore", None):',
        ONE_FILE,
    ),
    Equivalent(
        "lab/operator/lint/filestore.py",
        "export_ids",
        'squash_all = client.chosen("all_squash", "no_all_squash", default=False)',
        'squash_all = client.chosen("all_squash", "no_all_squash", default=None)',
        "squash_all is only tested for truth, and None is as false as False",
    ),
    Equivalent(
        "lab/operator/lint/engine.py",
        "LintContext.configdb",
        'f = self.one("groupware", "configdb_properties")',
        'f = self.one("groupware", None)',
        ONE_KEY,
    ),
    Equivalent(
        "lab/operator/lint/engine.py",
        "LintContext.haproxy",
        'f = self.one("dblb", "haproxy_cfg")',
        'f = self.one("dblb", None)',
        ONE_KEY,
    ),
    Equivalent(
        "lab/operator/lint/engine.py",
        "LintContext.one",
        "found = self.files(role, key)",
        "found = self.files(role, None)",
        ONE_KEY,
    ),
    Equivalent(
        "lab/operator/lint/engine.py",
        "LintContext.one",
        "found = self.files(role, key)",
        "found = self.files(role, )",
        ONE_KEY,
    ),
    Equivalent(
        "lab/operator/lint/web.py",
        "https_redirect",
        'and "https" in " ".join(o.args)',
        'and "https" in "XX XX".join(o.args)',
        "'https' is looked for within one argument, whatever joins them",
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "is_master",
        "return all(me < peer for peer in healthy_peers)",
        "return all(me <= peer for peer in healthy_peers)",
        "healthy_peer_names leaves out the node's own name (name != me), so no peer equals me",
    ),
    Equivalent(
        "lab/oxnode/dbpool.py",
        "Pool.acquire",
        "if not self._active.acquire(timeout=self.settings.max_wait_ms / 1000):",
        "if not self._active.acquire(timeout=self.settings.max_wait_ms / 1001):",
        "0.1 % off maxWait (199.8 ms for 200 ms): below the scheduler's jitter, no wait can "
        "tell them apart",
    ),
    Equivalent(
        "lab/oxnode/ajp.py",
        "encode_body",
        'return SERVER_MAGIC + struct.pack(">HH", len(data) + 2, len(data)) + data',
        'return SERVER_MAGIC + struct.pack(">hh", len(data) + 2, len(data)) + data',
        SIGNED,
    ),
    Equivalent(
        "lab/oxnode/ajp.py",
        "encode_body_chunks",
        'payload = bytes([SEND_BODY_CHUNK]) + struct.pack(">H", len(chunk)) + chunk + b"\\x00"',
        'payload = bytes([SEND_BODY_CHUNK]) + struct.pack(">h", len(chunk)) + chunk + b"\\x00"',
        SIGNED,
    ),
    Equivalent(
        "lab/oxnode/ajp.py",
        "encode_body_chunks",
        'yield CONTAINER_MAGIC + struct.pack(">H", len(payload)) + payload',
        'yield CONTAINER_MAGIC + struct.pack(">h", len(payload)) + payload',
        SIGNED,
    ),
    Equivalent(
        "lab/oxnode/ajp.py",
        "Writer.packet",
        'return magic + struct.pack(">H", len(payload)) + payload',
        'return magic + struct.pack(">h", len(payload)) + payload',
        SIGNED,
    ),
    Equivalent(
        "lab/oxnode/ajp.py",
        "Reader.string",
        'return raw.decode("utf-8", errors="replace")',
        'return raw.decode(errors="replace")',
        "bytes.decode() defaults to UTF-8",
    ),
    Equivalent(
        "lab/oxnode/ajp.py",
        "Reader.string",
        'return raw.decode("utf-8", errors="replace")',
        'return raw.decode("UTF-8", errors="replace")',
        "codec names are case-insensitive",
    ),
    Equivalent(
        "lab/suite_timing.py",
        "pytest_configure",
        'config.pluginmanager.register(TimingRecorder(Path(path)), "suite-timing-recorder")',
        "config.pluginmanager.register(TimingRecorder(Path(path)), None)",
        PLUGIN_NAME,
    ),
    Equivalent(
        "lab/suite_timing.py",
        "pytest_configure",
        'config.pluginmanager.register(TimingRecorder(Path(path)), "suite-timing-recorder")',
        'config.pluginmanager.register(TimingRecorder(Path(path)), "XXsuite-timing-recorderXX")',
        PLUGIN_NAME,
    ),
    Equivalent(
        "lab/suite_timing.py",
        "pytest_configure",
        'config.pluginmanager.register(TimingRecorder(Path(path)), "suite-timing-recorder")',
        'config.pluginmanager.register(TimingRecorder(Path(path)), "SUITE-TIMING-RECORDER")',
        PLUGIN_NAME,
    ),
    Equivalent(
        "lab/suite_timing.py",
        "TimingRecorder.pytest_sessionfinish",
        "self.path.write_text(json.dumps(rows, indent=1))",
        "self.path.write_text(json.dumps(rows, indent=2))",
        TABLE_FILE,
    ),
    Equivalent(
        "lab/suite_timing.py",
        "TimingRecorder.pytest_sessionfinish",
        "self.path.write_text(json.dumps(rows, indent=1))",
        "self.path.write_text(json.dumps(rows, indent=None))",
        TABLE_FILE,
    ),
    Equivalent(
        "lab/suite_timing.py",
        "TimingRecorder.pytest_sessionfinish",
        "self.path.write_text(json.dumps(rows, indent=1))",
        "self.path.write_text(json.dumps(rows, ))",
        TABLE_FILE,
    ),
    Equivalent(
        "lab/suite_timing.py",
        "run_suite",
        'record = workdir / ".suite-timing.json"',
        'record = workdir / "XX.suite-timing.jsonXX"',
        TABLE_FILE,
    ),
    Equivalent(
        "lab/suite_timing.py",
        "run_suite",
        'record = workdir / ".suite-timing.json"',
        'record = workdir / ".SUITE-TIMING.JSON"',
        TABLE_FILE,
    ),
    Equivalent(
        "lab/suite_split.py",
        "module_of",
        'return nodeid.split("::", 1)[0]',
        'return nodeid.split("::", )[0]',
        FIRST_PART,
    ),
    Equivalent(
        "lab/suite_split.py",
        "module_of",
        'return nodeid.split("::", 1)[0]',
        'return nodeid.split("::", 2)[0]',
        FIRST_PART,
    ),
    Equivalent(
        "lab/suite_timing.py",
        "directory_of",
        'path = nodeid.split("::", 1)[0]',
        'path = nodeid.split("::", )[0]',
        FIRST_PART,
    ),
    Equivalent(
        "lab/suite_timing.py",
        "directory_of",
        'path = nodeid.split("::", 1)[0]',
        'path = nodeid.split("::", 2)[0]',
        FIRST_PART,
    ),
    Equivalent(
        "lab/oxnode/replication.py",
        "ReplicationMonitor.remember",
        "if counter > self._expected.get(key, -1):",
        "if counter >= self._expected.get(key, -1):",
        "storing the counter it already holds changes nothing",
    ),
    Equivalent(
        "lab/oxnode/replication.py",
        "ReplicationMonitor.remember",
        "if counter > self._expected.get(key, -1):",
        "if counter > self._expected.get(key, -2):",
        "replicationMonitor counters start at 0 and only grow (OX's counter table): -1 and -2 are both below every one",
    ),
    Equivalent(
        "lab/roles/health.py",
        "wait_healthy",
        "problems: Callable[[], list[str]], *, timeout: float, what: str, not_before: float = 0.0",
        "problems: Callable[[], list[str]], *, timeout: float, what: str, not_before: float = 1.0",
        "time.monotonic() is far past 1 s on any running host: both defaults are 'no window'",
    ),
    Equivalent(
        "lab/roles/health.py",
        "wait_healthy",
        "poll(healthy, timeout=timeout, what=what, interval=0.3)",
        "poll(healthy, timeout=timeout, what=what, )",
        "how often health is looked at, not what it is or the deadline: the same verdict",
    ),
    Equivalent(
        "lab/roles/health.py",
        "wait_healthy",
        "poll(healthy, timeout=timeout, what=what, interval=0.3)",
        "poll(healthy, timeout=timeout, what=what, interval=1.3)",
        "how often health is looked at, not what it is or the deadline: the same verdict",
    ),
    Equivalent(
        "lab/roles/health.py",
        "wait_healthy",
        "last: list[str] = []",
        "last: list[str] = None",
        "poll calls healthy() at least once, which sets last before anything reads it",
    ),
    Equivalent(
        "lab/oxnode/config.py",
        "_continues",
        'return (len(line) - len(line.rstrip("\\\\"))) % 2 == 1',
        'return (len(line) + len(line.rstrip("\\\\"))) % 2 == 1',
        "a - b and a + b always have the same parity",
    ),
    Equivalent(
        "lab/oxnode/config.py",
        "render_properties",
        'lines += [f"{_escape(key, True)}={_escape(value, False)}" for key, value in values.items()]',
        'lines += [f"{_escape(key, True)}={_escape(value, None)}" for key, value in values.items()]',
        "_escape only tests `key` for truth: None and False are both false",
    ),
    Equivalent(
        "lab/oxnode/config.py",
        "PoolSettings.from_properties",
        'key, _, setting = value.partition("=")',
        'key, _, setting = value.rpartition("=")',
        TWO_EQUALS,
    ),
    Equivalent(
        "lab/oxnode/config.py",
        "PoolSettings.from_properties",
        'raw = merged.get(key, "")',
        'raw = merged.get(key, "XXXX")',
        "an absent key gives the default: '' and 'XXXX' are both not a number",
    ),
    Equivalent(
        "lab/oxnode/config.py",
        "PoolSettings.from_properties",
        'use_ssl=merged.get("useSSL", "").strip().lower() == "true",',
        'use_ssl=merged.get("useSSL", "XXXX").strip().lower() == "true",',
        "an absent useSSL is false: '' and 'xxxx' are both not 'true'",
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'state = status.get("wsrep_local_state", "")',
        'state = status.get("wsrep_local_state", None)',
        "a missing wsrep_local_state fails either way and is shown as '?' (`state or '?'`), named unknown",
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'state = status.get("wsrep_local_state", "")',
        'state = status.get("wsrep_local_state", )',
        "a missing wsrep_local_state fails either way and is shown as '?' (`state or '?'`), named unknown",
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'if status.get("wsrep_ready", "") != "ON":',
        'if status.get("wsrep_ready", None) != "ON":',
        MISSING_FAILS,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'if status.get("wsrep_ready", "") != "ON":',
        'if status.get("wsrep_ready", ) != "ON":',
        MISSING_FAILS,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'if status.get("wsrep_ready", "") != "ON":',
        'if status.get("wsrep_ready", "XXXX") != "ON":',
        MISSING_FAILS,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'if status.get("wsrep_cluster_status", "") != "Primary":',
        'if status.get("wsrep_cluster_status", None) != "Primary":',
        MISSING_FAILS,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'if status.get("wsrep_cluster_status", "") != "Primary":',
        'if status.get("wsrep_cluster_status", ) != "Primary":',
        MISSING_FAILS,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'if status.get("wsrep_cluster_status", "") != "Primary":',
        'if status.get("wsrep_cluster_status", "XXXX") != "Primary":',
        MISSING_FAILS,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'if variables.get("read_only", "OFF") == "ON" and not opts.available_when_readonly:',
        'if variables.get("read_only", None) == "ON" and not opts.available_when_readonly:',
        MISSING_PASSES,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'if variables.get("read_only", "OFF") == "ON" and not opts.available_when_readonly:',
        'if variables.get("read_only", ) == "ON" and not opts.available_when_readonly:',
        MISSING_PASSES,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'if variables.get("read_only", "OFF") == "ON" and not opts.available_when_readonly:',
        'if variables.get("read_only", "XXOFFXX") == "ON" and not opts.available_when_readonly:',
        MISSING_PASSES,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "evaluate",
        'if variables.get("read_only", "OFF") == "ON" and not opts.available_when_readonly:',
        'if variables.get("read_only", "off") == "ON" and not opts.available_when_readonly:',
        MISSING_PASSES,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "Options.from_env",
        'available_when_donor=env.get("AVAILABLE_WHEN_DONOR", "0") == "1",',
        'available_when_donor=env.get("AVAILABLE_WHEN_DONOR", None) == "1",',
        MISSING_PASSES,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "Options.from_env",
        'available_when_donor=env.get("AVAILABLE_WHEN_DONOR", "0") == "1",',
        'available_when_donor=env.get("AVAILABLE_WHEN_DONOR", ) == "1",',
        MISSING_PASSES,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "Options.from_env",
        'available_when_donor=env.get("AVAILABLE_WHEN_DONOR", "0") == "1",',
        'available_when_donor=env.get("AVAILABLE_WHEN_DONOR", "XX0XX") == "1",',
        MISSING_PASSES,
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "healthy_peer_names",
        'name = resp.headers.get("X-Node-Name", "")',
        'name = resp.headers.get("X-Node-Name", None)',
        "None, like '', is dropped by `if name` (the peer names nobody)",
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "healthy_peer_names",
        'name = resp.headers.get("X-Node-Name", "")',
        'name = resp.headers.get("X-Node-Name", )',
        "None, like '', is dropped by `if name` (the peer names nobody)",
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "healthy_peer_names",
        "with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:",
        "with ThreadPoolExecutor(max_workers=None) as pool:",
        "at least one worker per peer either way: every peer is still asked at once",
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "healthy_peer_names",
        "with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:",
        "with ThreadPoolExecutor(max_workers=max(2, len(hosts))) as pool:",
        "at least one worker per peer either way: every peer is still asked at once",
    ),
    Equivalent(
        "lab/images/db/clustercheck.py",
        "answer",
        "verdict.available = False",
        "verdict.available = None",
        "only read for truth (the 503) right after; the verdict object does not leave answer()",
    ),
    Equivalent(
        "lab/images/db/replcheck.py",
        "query",
        "heartbeat = None if lag is None else float(lag)",
        "heartbeat = None if (lag is None) and False else float(lag)",
        "float(None) raises TypeError, which the except beside it turns into the same None",
    ),
    Equivalent(
        "lab/images/db/replcheck.py",
        "Verdict.body",
        'return f"{self.role} is available" + "".join(f"; {n}" for n in self.notes) + ".\\n"',
        'return f"{self.role} is available" + "XXXX".join(f"; {n}" for n in self.notes) + ".\\n"',
        "an available replica has at most one note (a reconnecting IO thread): nothing is joined",
    ),
    Equivalent(
        "lab/oxnode/dbpool.py",
        "Pool._open",
        'raise db_down(f"{self.address.host}:{self.address.port}", exc.args[-1]) from None',
        'raise db_down(f"{self.address.host}:{self.address.port}", exc.args[+1]) from None',
        "PyMySQL's errors carry (code, message): index 1 is the last",
    ),
    Equivalent(
        "lab/suite_timing.py",
        "SuiteRun.shard_lines",
        "split(tests, Shard(k, count), self.durations)[2] for k in range(1, count + 1)",
        "split(tests, Shard(k, count), self.durations)[2] for k in range(count + 1)",
        "shard 0 indexes groups[-1], the last shard, already counted: the longest is the same",
    ),
    Equivalent(
        "lab/oxnode/config.py",
        "ConfigDb.from_properties",
        '"com.openexchange.database.replicationMonitor", "true"',
        '"com.openexchange.database.replicationMonitor", "TRUE"',
        "the default is lower-cased before it is compared: 'TRUE' and 'true' read the same",
    ),
    Equivalent(
        "lab/operator/parsers.py",
        "binds",
        'len(w) > 1 and any(_in_range(one.rsplit(":", 1)[-1], int(port)) for one in w[1].split(","))',
        'len(w) > 1 and any(_in_range(one.rsplit(":", )[-1], int(port)) for one in w[1].split(","))',
        LAST_PART,
    ),
    Equivalent(
        "lab/operator/parsers.py",
        "binds",
        'len(w) > 1 and any(_in_range(one.rsplit(":", 1)[-1], int(port)) for one in w[1].split(","))',
        'len(w) > 1 and any(_in_range(one.rsplit(":", 2)[-1], int(port)) for one in w[1].split(","))',
        LAST_PART,
    ),
    Equivalent(
        "lab/operator/project.py",
        "Project.line_of",
        'return line_of(self.path.read_text(encoding="utf-8"), key, table)',
        'return line_of(self.path.read_text(encoding="UTF-8"), key, table)',
        "codec names are case-insensitive",
    ),
    Equivalent(
        "lab/operator/parsers.py",
        "enclosing",
        "next((d for d in reversed(before) if len(d.blocks) == depth - 1), None) if depth else None",
        "next((d for d in reversed(before) if len(d.blocks) == depth - 1), ) if depth else None",
        "a directive inside a block always has its opener earlier in the same file's list (the parser's stack made its blocks), so next() never runs dry",
    ),
    Equivalent(
        "lab/operator/parsers.py",
        "enclosing",
        "next((d for d in reversed(before) if len(d.blocks) == depth - 1), None) if depth else None",
        "next((d for d in reversed(before) if len(d.blocks) == depth - 1), None) if (depth) or True else None",
        "at depth 0 no directive has -1 blocks: next() gives the same None",
    ),
    Equivalent(
        "lab/operator/parsers.py",
        "haproxy_sections",
        'line = raw.split("#", 1)[0].strip()',
        'line = raw.split("#", )[0].strip()',
        FIRST_HASH,
    ),
    Equivalent(
        "lab/operator/parsers.py",
        "haproxy_sections",
        'line = raw.split("#", 1)[0].strip()',
        'line = raw.split("#", 2)[0].strip()',
        FIRST_HASH,
    ),
    Equivalent(
        "lab/operator/parsers.py",
        "apache_directives",
        'words = shlex.split(line.strip("<>"), posix=True)',
        'words = shlex.split(line.strip("<>"), )',
        "shlex.split is POSIX by default",
    ),
)
