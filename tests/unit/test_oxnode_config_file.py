"""configdb.properties and the other node files as OX writes and reads them: the JDBC
properties OX ships, Java's .properties syntax at its corners (escapes, continuation
lines, what counts as white space) and the pool settings read from either side's
properties. A node that misreads the operator's file runs with settings they did not
write, and the lab's figures would be for someone else's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.oxnode import config
from lab.oxnode.config import ConfigDb, DbAddress, PoolSettings, parse_properties


def test_configdb_properties_as_ox_ships_them() -> None:
    db = ConfigDb(
        "jdbc:mysql://dblb:3307/configdb",
        "jdbc:mysql://dblb/configdb",
        "openexchange",
        "secret",
        replication_monitor=False,
        pool=PoolSettings(1500, 2500, 60001, 600002, 42, 10003),
    )
    jdbc = [
        "user=openexchange",
        "password=secret",
        "useUnicode=true",
        "characterEncoding=UTF-8",
        "autoReconnect=false",
        "useServerPrepStmts=false",
        "useTimezone=true",
        "serverTimezone=UTC",
        "connectTimeout=1500",
        "socketTimeout=2500",
    ]
    assert db.properties() == {
        "readUrl": "jdbc:mysql://dblb:3307/configdb",
        **{f"readProperty.{i}": v for i, v in zip(range(1, 11), jdbc, strict=True)},
        "writeUrl": "jdbc:mysql://dblb/configdb",
        **{f"writeProperty.{i}": v for i, v in zip(range(1, 11), jdbc, strict=True)},
        "maxIdleTime": "60001",
        "maxLifeTime": "600002",
        "maxActive": "42",
        "maxWait": "10003",
        "com.openexchange.database.replicationMonitor": "false",
    }
    assert ConfigDb.from_properties(db.properties()) == db, "read back as written"


def test_a_file_without_urls_or_monitor_line_reads_as_ox_defaults() -> None:
    """An absent replicationMonitor is OX's default, on; absent URLs are empty, which
    the node then refuses by name rather than inventing a host."""
    db = ConfigDb.from_properties({})
    assert (db.read_url, db.write_url, db.user, db.password) == ("", "", "", "")
    assert db.replication_monitor is True and db.pool == PoolSettings()


@pytest.mark.parametrize(
    ("value", "on"), [("true", True), ("TRUE", True), ("True", True), ("false", False)]
)
def test_the_replication_monitor_in_any_case(value: str, on: bool) -> None:
    values = {"com.openexchange.database.replicationMonitor": value}
    assert ConfigDb.from_properties(values).replication_monitor is on


def test_a_password_holding_equals_signs_is_read_whole() -> None:
    db = ConfigDb.from_properties({"readProperty.2": "password=pa=ss==", "readUrl": "u"})
    assert db.password == "pa=ss=="


def test_jdbc_settings_from_either_side_and_only_from_there() -> None:
    """connectTimeout may stand in a writeProperty.N only; a plain property holding '='
    is not a JDBC setting; a top-level key beats a JDBC property of the same name."""
    settings = PoolSettings.from_properties(
        {
            "writeProperty.9": "connectTimeout=1234",
            "other": "socketTimeout=99",
            "maxWait": "-1",
            "readProperty.3": "maxActive=7",
            "maxActive": "8",
        }
    )
    assert settings.connect_timeout_ms == 1234
    assert settings.socket_timeout_ms == PoolSettings().socket_timeout_ms
    assert settings.max_wait_ms == -1, "a negative number is a number"
    assert settings.max_active == 8


def test_hash_password_is_ox_s_sha_256_form() -> None:
    assert config.hash_password("secret") == (
        "{SHA-256}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
    )
    assert config.check_password(config.hash_password("x"), "x")


def test_node_files_are_written_and_read_under_the_etc_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    etc = tmp_path / "opt/open-xchange/etc"
    monkeypatch.setattr(config, "ETC", etc)
    assert config.read_properties("system.properties") == {}, "a missing file is empty"
    config.write_properties("system.properties", {"SERVER_NAME": "oxserver"}, "by oxinstaller")
    config.write_properties("system.properties", {"SERVER_NAME": "ox2"})  # once more
    assert (etc / "system.properties").read_text() == "SERVER_NAME=ox2\n", "no header: none"
    config.write_properties("ajp.properties", {"k": "v"}, "by oxinstaller")
    assert (etc / "ajp.properties").read_text() == "# by oxinstaller\nk=v\n"
    assert config.read_properties("system.properties") == {"SERVER_NAME": "ox2"}


@pytest.mark.parametrize(
    ("values", "header", "text"),
    [
        ({"a=b:c#d!eX f": "v"}, "", "a\\=b\\:c\\#d\\!eX\\ f=v\n"),  # key specials escaped
        ({"k": " a b"}, "", "k=\\ a b\n"),  # a value's leading space only
        ({"k": "x=y:z"}, "", "k=x=y:z\n"),  # separators inside a value stay as they are
        ({"k": "v"}, "two\nlines", "# two\n# lines\nk=v\n"),
    ],
)
def test_properties_are_rendered_as_java_stores_them(
    values: dict[str, str], header: str, text: str
) -> None:
    assert config.render_properties(values, header) == text
    assert parse_properties(text) == values


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("k \x0bv", {"k": "\x0bv"}),  # \v is no white space to Java's Properties
        ("k Xv", {"k": "Xv"}),
        ("k=\\u2603", {"k": "\u2603"}),  # \uXXXX with its first digit not 0
        ("k=\\u00C9\\u00e9", {"k": "\u00c9\u00e9"}),  # upper- and lower-case hex
        ("a=b\\\\\\\\\nc=d", {"a": "b\\\\", "c": "d"}),  # 4 backslashes: an even count
        ("a=b\\\\\\\nc", {"a": "b\\c"}),  # 3: the line goes on
        ("a=b\\", {"a": "b"}),  # a backslash at the end of the file: nothing follows
        ("a=b\\\n \x0bc", {"a": "b\x0bc"}),  # a continuation loses space, tab, ff only
        ("a=b\\\n Xc", {"a": "bXc"}),
        ("maxActive=X5", {"maxActive": "X5"}),
    ],
)
def test_properties_are_read_as_java_reads_them(text: str, values: dict[str, str]) -> None:
    assert parse_properties(text) == values


def test_a_jdbc_url_s_parts() -> None:
    assert DbAddress.from_url("jdbc:mysql://dblb:3307/Xdb") == DbAddress("dblb", 3307, "Xdb")
    assert DbAddress.from_url("jdbc:mysql://db/configdb").port == 3306
    with pytest.raises(ValueError) as raised:
        DbAddress.from_url("jdbc:postgresql://db/x")
    assert str(raised.value) == "not a jdbc:mysql:// URL: 'jdbc:postgresql://db/x'"


def test_a_property_file_without_a_header_has_no_comment_line() -> None:
    assert config.render_properties({"k": "v"}) == "k=v\n"


def test_a_pool_setting_that_is_not_a_number_keeps_ox_s_default() -> None:
    assert PoolSettings.from_properties({"maxActive": "X5"}).max_active == 100
