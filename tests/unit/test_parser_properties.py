"""Every reader of the operator's files against round trips and equivalent spellings
(hypothesis): what a file's own tool reads as the same settings, the lab's reader must
read as the same settings too, or lint judges a file the server never sees."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lab.operator import parsers
from lab.oxnode.config import parse_properties, render_properties
from tests.unit.budget import examples

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
WORD = st.text("abcdefghijklmnopqrstuvwxyz0123456789_.", min_size=1, max_size=10)
GLUE = st.sampled_from([" ", "  ", "\t", " \t"])


@settings(max_examples=examples(300), deadline=None)
@given(st.dictionaries(TEXT.filter(bool), TEXT))
def test_properties_read_back_what_was_written(values: dict[str, str]) -> None:
    """render_properties escapes as java.util.Properties.store does; the reader reads
    back every key and value (values lose trailing white space, as OX trims them)."""
    expected = {key: value.rstrip() for key, value in values.items()}
    assert parse_properties(render_properties(values, "a header\nof two lines")) == expected


@settings(max_examples=examples(200), deadline=None)
@given(
    key=WORD.filter(lambda w: not w[0].isdigit()),
    value=WORD,
    separator=st.sampled_from(["=", " = ", ":", " : ", " ", "\t", "=  "]),
    indent=st.sampled_from(["", "  ", "\t"]),
    cut=st.integers(0, 9),
)
def test_a_property_reads_the_same_in_every_spelling(
    key: str, value: str, separator: str, indent: str, cut: int
) -> None:
    at = min(cut, len(value))
    continued = value[:at] + "\\\n   " + value[at:] if at else value
    text = f"# header\n{indent}{key}{separator}{continued}\n"
    assert {k: (s.value, s.line) for k, s in parsers.properties(text).items()} == {key: (value, 2)}


@settings(max_examples=examples(200), deadline=None)
@given(
    key=WORD.filter(lambda w: "_" in w or len(w) > 3),
    value=WORD,
    dashes=st.booleans(),
    loose=st.booleans(),
    quote=st.sampled_from(["", '"', "'"]),
    around=st.sampled_from(["=", " = ", "  =\t"]),
    comment=st.sampled_from(["", "  # note", "\t# x = y"]),
    section=st.sampled_from(["mysqld", "server", "galera", "mariadb", "mariadbd"]),
)
def test_a_cnf_option_reads_the_same_in_every_spelling(
    key: str,
    value: str,
    dashes: bool,
    loose: bool,
    quote: str,
    around: str,
    comment: str,
    section: str,
) -> None:
    name = (key.replace("_", "-") if dashes else key).removeprefix("loose_")
    spelled = ("loose-" if loose else "") + name
    text = f"[{section}]\n{spelled}{around}{quote}{value}{quote}{comment}\n{key} = other\n"
    text += f"{spelled}={value}\n"  # the last of repeated options wins
    found = parsers.server_settings(text)
    normal = key.lower().replace("-", "_").removeprefix("loose_")
    assert found[normal].value == value and found[normal].line == 4, found


@settings(max_examples=examples(200), deadline=None)
@given(words=st.lists(WORD, min_size=1, max_size=5), glue=st.lists(GLUE, min_size=5, max_size=5))
def test_haproxy_words_are_the_same_whatever_separates_them(
    words: list[str], glue: list[str]
) -> None:
    line = "".join(w + g for w, g in zip(words, glue, strict=False)).rstrip()
    text = f"listen x\n{glue[0]}{line}  # a comment\n"
    [section] = parsers.haproxy_sections(text)
    assert section.lines == [(2, words)], section.lines


@settings(max_examples=examples(200), deadline=None)
@given(
    name=st.sampled_from(["ProxyPass", "BalancerMember", "ProxySet", "Require"]),
    case=st.sampled_from([str, str.lower, str.upper]),
    args=st.lists(WORD, min_size=1, max_size=4),
    quoted=st.lists(st.booleans(), min_size=4, max_size=4),
    continued=st.booleans(),
)
def test_an_apache_directive_reads_the_same_in_any_case_and_quoting(
    name: str, case: object, args: list[str], quoted: list[bool], continued: bool
) -> None:
    spelled = [f'"{a}"' if q else a for a, q in zip(args, quoted, strict=False)]
    head = case(name)  # type: ignore[operator]
    line = f"{head} \\\n    " + " ".join(spelled) if continued else " ".join([head, *spelled])
    block, directive = parsers.apache_directives(f"<Proxy balancer://x>\n  {line}\n</Proxy>\n")
    assert (block.name, block.args) == ("proxy", ("balancer://x",))
    assert (directive.name, directive.args, directive.line) == (name.lower(), tuple(args), 2)
    assert directive.blocks == ("<Proxy balancer://x>",)


OPTIONS = st.lists(st.sampled_from(["rw", "ro", "sync", "no_subtree_check", "all_squash"]))


@settings(max_examples=examples(200), deadline=None)
@given(
    clients=st.lists(st.tuples(WORD, OPTIONS), min_size=1, max_size=3),
    defaults=OPTIONS,
    glue=st.sampled_from([" ", "\t", "  ", " \\\n    "]),
    quoted=st.booleans(),
)
def test_an_export_reads_the_same_in_every_spelling(
    clients: list[tuple[str, list[str]]], defaults: list[str], glue: str, quoted: bool
) -> None:
    path = '"/var/opt/filestore"' if quoted else "/var/opt/filestore"
    entries = [f"{host}({','.join(opts)})" if opts else host for host, opts in clients]
    head = [path, f"-{','.join(defaults)}"] if defaults else [path]
    text = "# comment\n" + glue.join([*head, *entries]) + "  # trailing\n"
    [export] = parsers.exports(text)
    assert export.path == "/var/opt/filestore" and export.line == 2
    assert [(c.host, c.options) for c in export.clients] == [
        (host, (*defaults, *opts)) for host, opts in clients
    ]
