"""The lint engine's readers on small inputs: every place configdb.properties may set a
JDBC property (OX's readProperty.N=name=value form, a URL parameter), and a finding
rendered where the operator looks for it."""

from __future__ import annotations

from pathlib import Path

from lab.operator.lint import ERROR, Finding
from lab.operator.lint.engine import jdbc_settings
from lab.operator.parsers import properties
from tests.unit.test_operator_lint import findings, starter

CONFIGDB = """\
readUrl=jdbc:mysql://dblb:3307/configdb?useSSL=false&socketTimeout=9000
writeUrl=jdbc:mysql://dblb:3306/configdb?socketTimeout=8000
readProperty.1=user=openexchange
readProperty.2=socketTimeout=7000
writeProperty.5=sessionVariables=wsrep_sync_wait=1
socketTimeout=6000
com.openexchange.database.socketTimeout=5000
"""


def _values(name: str) -> list[tuple[str, str]]:
    return [(s.key, v) for s, v in jdbc_settings(properties(CONFIGDB), name)]


def test_every_form_of_a_jdbc_property_is_found_with_its_value() -> None:
    assert sorted(_values("socketTimeout")) == sorted(
        [
            ("readUrl", "9000"),
            ("writeUrl", "8000"),
            ("readProperty.2", "7000"),
            ("socketTimeout", "6000"),
            ("com.openexchange.database.socketTimeout", "5000"),
        ]
    )


def test_a_propertys_value_is_everything_after_its_name() -> None:
    """OX's `writeProperty.N=name=value`: the value may hold '=' itself."""
    assert _values("sessionVariables") == [("writeProperty.5", "wsrep_sync_wait=1")]


def test_a_url_parameter_is_read_from_the_read_url_too() -> None:
    assert _values("useSSL") == [("readUrl", "false")]


def test_a_finding_renders_relative_to_the_project_or_whole_outside_it(tmp_path: Path) -> None:
    inside = Finding("HA001", ERROR, (tmp_path / "dblb/haproxy.cfg").resolve(), 7, "w", "y", "f")
    assert inside.render(tmp_path) == "HA001 error dblb/haproxy.cfg:7: w; why: y; do: f"
    outside = Finding("HA001", ERROR, Path("/etc/haproxy/haproxy.cfg"), 7, "w", "y", "f")
    assert outside.render(tmp_path).startswith("HA001 error /etc/haproxy/haproxy.cfg:7: ")
    assert inside.render().startswith(f"HA001 error {tmp_path.resolve()}/dblb/haproxy.cfg:7")


def test_findings_are_listed_by_file_then_line(tmp_path: Path) -> None:
    """`lab lint` prints the operator's files one after another, each top to bottom."""
    toml = Path("examples/mistakes/oxlab.toml").resolve()
    found = findings(toml)
    keys = [(str(f.file), f.line, f.rule) for f in found]
    assert keys == sorted(keys), [f.render() for f in found]
    by_line = sorted(found, key=lambda f: (f.line, f.rule))
    assert by_line != found, "the example mixes lines of several files: the order is tested"


def test_a_setting_in_a_further_cnf_file_is_judged_once(tmp_path: Path) -> None:
    """[db] cnf files come after ox.cnf, each read once: a node-local option there is one
    finding, not one per way of listing the files."""
    toml = starter(tmp_path)
    wsrep = tmp_path / "db/wsrep.cnf"
    wsrep.write_text(wsrep.read_text() + "server_id = 7\n")
    assert len([f for f in findings(toml) if f.rule == "DB006"]) == 1


def test_a_pool_setting_left_to_ox_is_named_as_oxs_default(tmp_path: Path) -> None:
    toml = starter(tmp_path)
    props = tmp_path / "groupware/configdb.properties"
    props.write_text(props.read_text().replace("maxIdleTime=60000\n", ""))
    cfg = tmp_path / "dblb/haproxy.cfg"
    cfg.write_text(cfg.read_text().replace("timeout client 20m", "timeout client 50s"))
    [short] = [f for f in findings(toml) if f.rule == "HA001"]
    assert short.what.endswith("OX's maxIdleTime 60000 ms (OX's default)"), short.what
