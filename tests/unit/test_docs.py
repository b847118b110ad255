"""The README is a newcomer's five minutes and the docs are where they read on: the README
stays short, every command it or the docs show still parses (a renamed flag breaks this
test, not a reader's first try), and every link between the pages leads somewhere."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from lab import cli
from lab.cli.options import OPTIONS

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 200
# pytest's own flags the pages use beside the lab's (OPTIONS, with their aliases)
PYTEST_FLAGS = {
    "-m",
    "-n",
    "-k",
    "-x",
    "-q",
    "-p",
    "-v",
    "--co",
    "--lf",
    "--durations",
    "--randomly-seed",
}


def shown_commands(page: Path) -> list[tuple[int, list[str]]]:
    """(line, argv) of every `./oxlab …` or `lab …` line in the page's shell blocks
    (```sh; a ```text block of printed figures is output, not commands)."""
    found, in_code, shell = [], False, False
    for number, line in enumerate(page.read_text().splitlines(), 1):
        if line.startswith("```"):
            in_code, shell = not in_code, line[3:].strip() in ("sh", "bash", "console")
            continue
        words = shlex.split(line, comments=True) if in_code and shell else []
        if words[:1] in (["./oxlab"], ["lab"]):
            found.append((number, words[1:]))
    return found


def lab_argv(argv: list[str]) -> list[str] | None:
    """The `lab` arguments of a shown command; None for `./oxlab test` (pytest's)."""
    if argv[:1] == ["lab"]:
        return argv[1:]
    return None if argv[:1] == ["test"] else argv


def test_the_readme_is_read_in_five_minutes() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines: move detail to docs/"
    assert max(len(line) for line in lines) <= 200, "no table row runs past a screen"
    assert "./oxlab up" in README.read_text() and "./oxlab test" in README.read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_lab_command_a_page_shows_parses(page: Path) -> None:
    for number, argv in shown_commands(page):
        args = lab_argv(argv)
        if args is None:
            continue
        try:
            cli.parse(args)  # as `lab` parses it: pytest's arguments after `--` too
        except SystemExit:
            pytest.fail(f"{page.name}:{number}: `lab {' '.join(args)}` does not parse")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_pytest_flag_a_page_shows_exists(page: Path) -> None:
    known = PYTEST_FLAGS | {f for o in OPTIONS.values() if o.pytest for f in (o.flag, *o.aliases)}
    for number, argv in shown_commands(page):
        if argv[:1] != ["test"]:
            continue
        flags = {w.split("=")[0] for w in argv if w.startswith("-")}
        assert flags <= known, f"{page.name}:{number}: unknown pytest flag(s) {flags - known}"


def test_every_command_the_readme_names_has_help() -> None:
    named = set(re.findall(r"`lab ([a-z-]+)", README.read_text()))
    named |= {a[0] for _, argv in shown_commands(README) if (a := lab_argv(argv))}
    assert named, "the README names commands"
    for command in sorted(named):
        assert command in cli.COMMANDS, f"README names `lab {command}`, which does not exist"
        with pytest.raises(SystemExit) as done:
            cli.main([command, "--help"])
        assert done.value.code == 0, f"`lab {command} --help`"


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings (lower case, punctuation dropped, spaces
    to hyphens)."""
    slugs = set()
    for heading in re.findall(r"^#+ (.+)$", page.read_text(), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        slugs.add(slug)
    return slugs


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_between_the_pages_leads_somewhere(page: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: link to {target}: no such file"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name}: link to {target}: no such heading"
