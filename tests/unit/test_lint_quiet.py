"""Valid input stays quiet: the lab's own reference files (`lab init`), reworded the ways
each file's real reader accepts as the same settings, must lint exactly as the reference
does. A rule that fires on a spelling (dashes for underscores, a quoted value, a comment
at the end of a line, a continued line, the last of repeated keys, a JDBC URL with
parameters, a directive in other case) is a false alarm an operator learns to ignore.

Each rewording is one a file's own documentation allows:
- my.cnf (MariaDB "Configuring MariaDB with Option Files"): dashes and underscores alike
  in option names, spaces around `=`, quoted values, `#` comments after a value, the
  `loose-` prefix, leading white space, the last of repeated options wins;
- haproxy.cfg (HAProxy's configuration manual, 2.1 and 2.2): words apart by any spaces
  and tabs, `#` comments, the last of repeated `timeout` lines wins;
- .properties (java.util.Properties.load): `=`, `:` or white space between key and value,
  white space around them, `#` and `!` comment lines, a value continued on the next line
  after a `\\`, the last of repeated keys wins; JDBC URLs take `?key=value` parameters;
- Apache (core: "Configuration Files"): directive names in any case, parameter names of
  BalancerMember/ProxySet in any case, arguments in quotes, a line continued by `\\`;
- exports(5): clients apart by any white space, options in any order, comment lines, a
  line continued by `\\`, the export path with a trailing slash.
"""

from __future__ import annotations

import functools
import random
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.operator.init import init_project
from lab.operator.lint import lint
from lab.operator.project import load_project
from lab.plan.topology import LabRequest
from tests.unit.budget import examples
from tests.unit.test_lint_boundaries import edited

Reword = Callable[[str, random.Random], str]


@functools.cache
def reference_dir(topology: str) -> Path:
    directory = Path(tempfile.mkdtemp(prefix=f"oxlab-quiet-{topology}-"))
    init_project(directory, LabRequest.of(topology=topology).plan())
    return directory


def findings(directory: Path) -> Counter[tuple[str, str, str]]:
    project = load_project(directory / "oxlab.toml")
    plan = LabRequest.of(project).plan()
    found = lint(project, plan.topology, (plan.flavour,))
    return Counter((f.rule, f.severity, f.file.name) for f in found)


def reworded_findings(topology: str, name: str, text: str) -> Counter[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="oxlab-quiet-") as tmp:
        directory = Path(tmp)
        init_project(directory, LabRequest.of(topology=topology).plan())
        (directory / name).write_text(text)
        return findings(directory)


# -- the rewordings, one function per file kind ------------------------------------------


def reword_cnf(text: str, rng: random.Random) -> str:
    out = []
    for line in text.splitlines():
        match = re.fullmatch(r"([A-Za-z][\w-]*)\s*=\s*(.*)", line.strip())
        if not match or line.lstrip().startswith("#"):
            out.append(line)
            continue
        key, value = match.groups()
        if rng.random() < 0.5:
            key = key.replace("_", "-") if rng.random() < 0.5 else key.replace("-", "_")
        # the server strips one loose- prefix: a second one names another, unknown option
        if rng.random() < 0.2 and not re.match(r"loose[-_]", key, re.IGNORECASE):
            key = "loose-" + key
        if rng.random() < 0.4 and not value.startswith(('"', "'")):
            quote = rng.choice(['"', "'"])
            value = f"{quote}{value}{quote}"
        spaced = rng.choice(["=", " = ", "  =\t", "= "])
        new = f"{rng.choice(['', '  ', chr(9)])}{key}{spaced}{value}"
        if rng.random() < 0.3:
            new += rng.choice(["  # a note", "\t#note", " # = 0"])
        if rng.random() < 0.2:  # an earlier, other value: the last one wins
            out.append(f"{key} = 0")
        out.append(new)
    return "\n".join(out) + "\n"


def reword_haproxy(text: str, rng: random.Random) -> str:
    out = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        glue = [rng.choice([" ", "  ", "\t", " \t "]) for _ in words]
        new = indent + "".join(w + g for w, g in zip(words, glue, strict=True)).rstrip()
        if rng.random() < 0.3:
            new += rng.choice(["  # a note", "\t# timeout client 1s"])
        if words[0] == "timeout" and len(words) == 3 and rng.random() < 0.4:
            out.append(f"{indent}timeout {words[1]} 1s")  # overridden by the next line
        out.append(new)
    return "\n".join(out) + "\n"


def reword_properties(text: str, rng: random.Random) -> str:
    out = []
    for line in text.splitlines():
        match = re.fullmatch(r"([^=:\s#!][^=:\s]*)=(.*)", line)
        if not match:
            out.append(line)
            continue
        key, value = match.groups()
        if key.endswith("Url") and "?" not in value and rng.random() < 0.5:
            value += rng.choice(["?useUnicode=true", "?characterEncoding=UTF-8&useSSL=false"])
        sep = rng.choice(["=", " = ", ":", " : ", " ", "\t", "  =  "])
        if rng.random() < 0.3 and len(value) > 2:  # continued on the next line
            cut = rng.randrange(1, len(value))
            value = value[:cut] + "\\\n" + rng.choice(["", "    ", "\t"]) + value[cut:]
        if rng.random() < 0.2:
            out.append(rng.choice(["# a comment", "! a comment", "   # indented comment"]))
        if rng.random() < 0.2:
            out.append(f"{key}=0")  # an earlier value: the last one wins
        out.append(f"{rng.choice(['', '  ', chr(9)])}{key}{sep}{value}")
    return "\n".join(out) + "\n"


def reword_apache(text: str, rng: random.Random) -> str:
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        closing = stripped.startswith("</")
        opening = stripped.startswith("<") and not closing
        body = stripped.strip("<>/") if (opening or closing) else stripped
        words = body.split()
        name = words[0]
        name = rng.choice([name, name.lower(), name.upper()])
        if closing:
            out.append(f"{indent}</{name}>")
            continue
        args = []
        for word in words[1:]:
            key, eq, value = word.partition("=")
            if eq and re.fullmatch(r"[A-Za-z]+", key):
                word = rng.choice([key, key.lower(), key.upper(), key.capitalize()]) + eq + value
            if rng.random() < 0.3 and '"' not in word and not opening:
                word = f'"{word}"'
            args.append(word)
        glue = rng.choice([" ", "  ", "\t"])
        new = glue.join([name, *args])
        if args and rng.random() < 0.2 and not opening:
            new = f"{name} \\\n{indent}    " + glue.join(args)
        out.append(f"{indent}<{new}>" if opening else f"{indent}{new}")
    return "\n".join(out) + "\n"


def reword_exports(text: str, rng: random.Random) -> str:
    out = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            out.append(line)
            continue
        path, *clients = line.split()
        if rng.random() < 0.5:
            path = path.rstrip("/") + "/"
        entries = []
        for client in clients:
            host, _, opts = client.partition("(")
            options = opts.rstrip(")").split(",")
            rng.shuffle(options)
            entries.append(f"{host}({','.join(options)})")
        glue = [rng.choice([" ", "\t", "  ", " \\\n    "]) for _ in entries]
        if rng.random() < 0.3:
            out.append("# the groupware nodes")
        out.append(path + "".join(g + e for g, e in zip(glue, entries, strict=True)))
    return "\n".join(out) + "\n"


CASES = [
    ("guide-galera", "db/wsrep.cnf", reword_cnf),
    ("guide-galera", "db/ox.cnf", reword_cnf),
    ("gtid", "db/gtid.cnf", reword_cnf),
    ("guide-galera", "dblb/haproxy.cfg", reword_haproxy),
    ("guide", "groupware/configdb.properties", reword_properties),
    ("guide-galera", "groupware/configdb.properties", reword_properties),
    ("guide-galera", "web/proxy_ajp.conf", reword_apache),
    ("guide-galera", "web/oxlab.conf", reword_apache),
    ("guide-galera", "filestore/exports", reword_exports),
]


@pytest.mark.parametrize(
    ("topology", "name", "reword"), CASES, ids=[f"{t}:{n}" for t, n, _ in CASES]
)
@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_a_reworded_reference_file_lints_as_the_reference(
    topology: str, name: str, reword: Reword, seed: int
) -> None:
    directory = reference_dir(topology)
    original = (directory / name).read_text()
    text = reword(original, random.Random(seed))
    assert findings(directory) == reworded_findings(topology, name, text), (
        f"{name} reworded (seed {seed}) lints otherwise than the reference:\n{text}"
    )


@pytest.mark.parametrize(("topology", "name", "reword"), CASES, ids=[n for _, n, _ in CASES])
def test_each_rewording_changes_the_file(topology: str, name: str, reword: Reword) -> None:
    """A rewording that never changes anything would make the property above vacuous."""
    original = (reference_dir(topology) / name).read_text()
    assert any(reword(original, random.Random(seed)) != original for seed in range(5)), name


# -- explicit valid variants of the filestore's and the properties' forms -----------------


@pytest.mark.parametrize(
    "line",
    [
        "/var/opt/filestore -rw,sync,no_subtree_check oxgw01 oxgw02",  # a line's defaults
        "/var/opt/filestore -ro oxgw01(rw,sync) oxgw02(rw,sync)",  # own options after them
        "/var/opt/filestore oxgw01(ro,sync,rw) oxgw02(rw)",  # the last of ro/rw wins
        "/var/opt/filestore OXGW01(rw) Oxgw02(rw)",  # host names in any case
        '"/var/opt/filestore" oxgw01(rw) oxgw02(rw)',  # a quoted path
        "/var/opt/filestore oxgw01(rw,all_squash,no_all_squash) oxgw02(rw)",
        "/var/opt/filestore oxgw01(rw,all_squash,anonuid=1001,anongid=1001) oxgw02(rw)",
        "/var/opt/filestore \\\n    oxgw01(rw) \\\n    oxgw02(rw)",  # continued lines
    ],
    ids=["defaults", "own-after-defaults", "last-of-ro-rw", "host-case", "quoted-path",
         "no-all-squash-last", "squash-to-ox", "continued"],
)  # fmt: skip
def test_valid_exports_give_no_filestore_finding(line: str) -> None:
    found = reworded_findings("guide-galera", "filestore/exports", line + "\n")
    assert not [key for key in found if key[0].startswith("NF")], f"{line!r}: {found}"


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("/var/opt/filestore -rw oxgw01 oxgw02 backup", "NF001"),  # a third client
        ("/var/opt/filestore oxgw01(rw) oxgw02 (rw)", "NF001"),  # `(rw)` alone: anyone
        ("/var/opt/filestore oxgw01(rw,ro) oxgw02(rw)", "NF002"),  # ro last
        ("/var/opt/filestore -ro oxgw01 oxgw02(rw)", "NF002"),  # oxgw01 gets ro
        ("/var/opt/filestore oxgw01 oxgw02", "NF002"),  # exports(5)'s default is ro
        ("/var/opt/filestore oxgw01(rw,no_all_squash,all_squash) oxgw02(rw)", "NF002"),
    ],
    ids=["third-client", "world-rw", "ro-last", "ro-default-of-line", "ro-by-default",
         "all-squash-last"],
)  # fmt: skip
def test_the_same_forms_still_find_what_is_wrong(line: str, rule: str) -> None:
    found = reworded_findings("guide-galera", "filestore/exports", line + "\n")
    assert (rule, "error", "exports") in found, f"{line!r}: {found}"


def test_properties_read_as_java_reads_them() -> None:
    from lab.operator.parsers import properties

    text = (
        "# comment \\\n"  # a comment line never goes on
        "a=1\n"
        "b : two words \n"
        "c\tthree\n"
        "d = con\\\n"
        "     tinued\n"
        "e=ends with an escaped backslash\\\\\n"
        "f=next\n"
        "g\\:h = colon in the key\n"
        "i = \\u0041\\tB\n"
        "a = last wins\n"
        "  ! indented comment\n"
        "j\n"
    )
    found = {key: (s.value, s.line) for key, s in properties(text).items()}
    assert found == {
        "a": ("last wins", 11),
        "b": ("two words", 3),
        "c": ("three", 4),
        "d": ("continued", 5),
        "e": ("ends with an escaped backslash\\", 7),
        "f": ("next", 8),
        "g:h": ("colon in the key", 9),
        "i": ("A\tB", 10),
        "j": ("", 13),
    }, found


# -- what stops `lab up`, given valid variants that must not stop it ----------------------


BLOCKING_VALID = [
    # HA006: a server on a lab node in other case, with or without a port
    ("HA006", "dblb/haproxy.cfg", "server galera1 galera1:3306", "server galera1 GALERA1:3306"),
    ("HA006", "dblb/haproxy.cfg", "server galera2 galera2:3306", "server galera2 Galera2"),
    # HA007: every form of a bind on :3306 HAProxy accepts
    ("HA007", "dblb/haproxy.cfg", "bind :3306", "bind *:3306"),
    ("HA007", "dblb/haproxy.cfg", "bind :3306", "bind 0.0.0.0:3306"),
    ("HA007", "dblb/haproxy.cfg", "bind :3306", "bind ipv4@:3306"),
    ("HA007", "dblb/haproxy.cfg", "bind :3306", "bind :::3306 v4v6"),
    ("HA007", "dblb/haproxy.cfg", "bind :3306", "bind :3306,:3308"),
    ("HA007", "dblb/haproxy.cfg", "bind :3306", "bind :3308,:3306"),
    ("HA007", "dblb/haproxy.cfg", "bind :3306", "bind :3305-3306"),
    ("HA007", "dblb/haproxy.cfg", "bind :3306", "bind :3306 name write"),
    # DB006: a node-local setting outside the server's sections
    ("DB006", "db/wsrep.cnf", "[mysqld]", "[client]\nserver_id = 7\n[mysqld]"),
    # DB007: wsrep_on in every spelling of on, and an earlier OFF the last line overrides
    ("DB007", "db/wsrep.cnf", "wsrep_on = ON", "wsrep-on = 1"),
    ("DB007", "db/wsrep.cnf", "wsrep_on = ON", "wsrep_on = on"),
    ("DB007", "db/wsrep.cnf", "wsrep_on = ON", "wsrep_on = OFF\nwsrep_on = ON"),
    ("DB007", "db/wsrep.cnf", "wsrep_on = ON", 'wsrep_on = "ON"  # on'),
    # DB008: members in other case, with ports, options after `?`, an overridden address
    (
        "DB008",
        "db/wsrep.cnf",
        "wsrep_cluster_address = gcomm://galera1,galera2,galera3",
        "wsrep_cluster_address = gcomm://GALERA1:4567,galera2:4567,Galera3?pc.wait_prim=no",
    ),
    (
        "DB008",
        "db/wsrep.cnf",
        "wsrep_cluster_address = gcomm://galera1,galera2,galera3",
        "wsrep_cluster_address = gcomm://nowhere\n"
        "wsrep_cluster_address = gcomm://galera1,galera2,galera3",
    ),
    # AP007: a member in other case, with a trailing slash, quoted
    ("AP007", "web/proxy_ajp.conf", "ajp://oxgw01:8009", "ajp://OXGW01:8009/"),
    ("AP007", "web/proxy_ajp.conf", "ajp://oxgw02:8009", '"ajp://oxgw02:8009"'),
    # OX003: the lab's credentials in every properties form
    (
        "OX003",
        "groupware/configdb.properties",
        "readProperty.1=user=openexchange",
        "readProperty.1 : user=openexchange",
    ),
    (
        "OX003",
        "groupware/configdb.properties",
        "writeProperty.1=user=openexchange",
        "writeProperty.1=user=someone\nwriteProperty.1 = user=openexchange",
    ),
]


@pytest.mark.parametrize(
    ("rule", "name", "old", "new"),
    BLOCKING_VALID,
    ids=[f"{rule}-{i}" for i, (rule, *_) in enumerate(BLOCKING_VALID)],
)
def test_what_stops_lab_up_stays_quiet_on_valid_variants(
    rule: str, name: str, old: str, new: str
) -> None:
    found = reworded_findings("guide-galera", name, edited(name, old, new))
    assert rule not in {key[0] for key in found}, f"{rule} on a valid {new!r}: {found}"


def test_the_blocking_rules_are_all_covered_here() -> None:
    """Every rule that stops `lab up` has at least one valid variant above."""
    from lab.operator.lint.engine import BLOCKS_UP

    assert set(BLOCKS_UP) <= {rule for rule, *_ in BLOCKING_VALID}, sorted(BLOCKS_UP)


def test_an_earlier_file_overridden_by_a_later_one_does_not_stop_lab_up() -> None:
    """mysqld reads ox.cnf, then the other .cnf files: the last value of an option wins
    across files too, so an OFF or an unknown address that a later file overrides is not
    what the server runs with."""
    with tempfile.TemporaryDirectory(prefix="oxlab-quiet-") as tmp:
        directory = Path(tmp)
        init_project(directory, LabRequest.of(topology="guide-galera").plan())
        ox = directory / "db" / "ox.cnf"
        ox.write_text(ox.read_text() + "wsrep_on = OFF\nwsrep_cluster_address = gcomm://nowhere\n")
        found = findings(directory)
    assert not {"DB007", "DB008"} & {key[0] for key in found}, found


# -- every other lint error, given valid variants that must give no finding ---------------
# (topology, rule, file, old, new): one edit of the reference file, a form the file's own
# documentation allows that states the same setting the reference does


ERROR_VALID = [
    # Apache (mod_proxy: parameter names in any case; mod_proxy_balancer: the cookie
    # and URL forms of stickysession; mod_authz_core: Require instead of Order/Deny)
    ("guide-galera", "AP001", "web/proxy_ajp.conf", "route=OX1", "Route=OX1"),
    (
        "guide-galera",
        "AP001",
        "web/proxy_ajp.conf",
        "loadfactor=50 route=OX2",
        "route=OX2 loadfactor=50",
    ),
    (
        "guide-galera",
        "AP002",
        "web/proxy_ajp.conf",
        "ProxySet stickysession=JSESSIONID",
        "proxyset StickySession=JSESSIONID|jsessionid",
    ),
    (
        "guide-galera",
        "AP002",
        "web/proxy_ajp.conf",
        "      ProxySet stickysession=JSESSIONID\n",
        "      ProxySet lbmethod=byrequests stickysession=JSESSIONID nofailover=Off\n",
    ),
    ("guide-galera", "AP003", "web/proxy_ajp.conf", "Deny from all", "Deny from All"),
    (
        "guide-galera",
        "AP003",
        "web/proxy_ajp.conf",
        "   Order Deny,Allow\n   Deny from all\n   Allow from 127.0.0.1\n",
        "   Require ip 127.0.0.1\n",
    ),
    (
        "guide-galera",
        "AP004",
        "web/oxlab.conf",
        "Require ip 127.0.0.1 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16",
        "require host admin.example.com",
    ),
    (
        "guide-galera",
        "AP006",
        "web/proxy_ajp.conf",
        "<Location /ajax>",
        '<Location "/ajax/">',
    ),
    (
        "guide-galera",
        "AP006",
        "web/proxy_ajp.conf",
        "  <Location /servlet>\n      ProxyPass balancer://oxcluster/servlet\n  </Location>\n",
        "  ProxyPass /servlet balancer://oxcluster/servlet\n",
    ),
    # my.cnf (MariaDB's option files: dashes, case of values, the last value wins)
    (
        "guide-galera",
        "DB001",
        "db/ox.cnf",
        "innodb_flush_log_at_trx_commit = 1",
        "innodb_flush_log_at_trx_commit = 2\ninnodb-flush-log-at-trx-commit=1",
    ),
    ("guide-galera", "DB002", "db/wsrep.cnf", "wsrep_sync_wait = 1", "wsrep_sync_wait = 3"),
    ("guide-galera", "DB002", "db/wsrep.cnf", "wsrep_sync_wait = 1", "wsrep-sync-wait=15"),
    (
        "guide-galera",
        "DB003",
        "db/wsrep.cnf",
        "wsrep_provider = /usr/lib/galera/libgalera_smm.so",
        'wsrep_provider = "/usr/lib/galera/libgalera_smm.so"',
    ),
    ("guide-galera", "DB004", "db/wsrep.cnf", "binlog_format = ROW", "binlog_format = row"),
    (
        "guide-galera",
        "DB004",
        "db/wsrep.cnf",
        "innodb_autoinc_lock_mode = 2",
        "innodb_autoinc_lock_mode = 1\ninnodb-autoinc-lock-mode = 2",
    ),
    ("guide", "DB005", "db/gtid.cnf", "log_slave_updates = ON", "log-slave-updates = 1"),
    ("guide", "DB005", "db/gtid.cnf", "binlog_format = ROW", "binlog_format = 'ROW'"),
    # haproxy.cfg (HAProxy's manual: time units, option order, white space)
    ("guide-galera", "HA001", "dblb/haproxy.cfg", "timeout client 20m", "timeout client 1200s"),
    ("guide-galera", "HA001", "dblb/haproxy.cfg", "timeout server 20m", "timeout\tserver  1h"),
    (
        "guide-galera",
        "HA002",
        "dblb/haproxy.cfg",
        "server galera2 galera2:3306 check resolvers docker init-addr last,libc,none backup",
        "server galera2 galera2:3306 backup check resolvers docker init-addr last,libc,none",
    ),
    (
        "guide-galera",
        "HA003",
        "dblb/haproxy.cfg",
        "    option httpchk GET /\n    http-check expect status 200\n",
        "    option httpchk\n    http-check send meth GET uri /\n"
        "    http-check expect status 200\n",
    ),
    # exports(5)
    (
        "guide-galera",
        "NF001",
        "filestore/exports",
        "oxgw01(",
        "OXGW01(",
    ),
    # configdb.properties (java.util.Properties; Connector/J reads booleans in any case)
    (
        "guide",
        "OX001",
        "groupware/configdb.properties",
        "com.openexchange.database.replicationMonitor=true",
        "com.openexchange.database.replicationMonitor : TRUE",
    ),
    (
        "guide-galera",
        "OX004",
        "groupware/configdb.properties",
        "readProperty.5=autoReconnect=false",
        "readProperty.5 = autoReconnect=FALSE",
    ),
]


@pytest.mark.parametrize(
    ("topology", "rule", "name", "old", "new"),
    ERROR_VALID,
    ids=[f"{rule}-{i}" for i, (_, rule, *_) in enumerate(ERROR_VALID)],
)
def test_every_lint_error_stays_quiet_on_valid_variants(
    topology: str, rule: str, name: str, old: str, new: str
) -> None:
    text = (reference_dir(topology) / name).read_text()
    assert old in text, f"{old!r} is not in the {topology} reference {name}"
    found = reworded_findings(topology, name, text.replace(old, new))
    assert rule not in {key[0] for key in found}, f"{rule} on a valid {new!r}: {found}"


def test_every_error_rule_has_valid_variants_here() -> None:
    """Every rule that can report an error has a valid variant that must stay quiet,
    here or with the blocking rules (NF002's forms: test_valid_exports_...)."""
    import inspect

    from lab.operator.lint import RULES

    errors = {rid for rid, (_, check) in RULES.items() if "ERROR" in inspect.getsource(check)}
    covered = {r for _, r, *_ in ERROR_VALID} | {r for r, *_ in BLOCKING_VALID} | {"NF002"}
    assert errors <= covered, f"error rules without a valid variant: {sorted(errors - covered)}"
