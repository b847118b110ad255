"""ARCHITECTURE.md is a newcomer's map: every file or folder it names exists, and every
folder of the lab is on it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "ARCHITECTURE.md"


def named_paths() -> set[str]:
    """The backticked paths of the map (`roles/system.py`, `lab/chaos/`, …)."""
    tokens = re.findall(r"`([^`\s]+)`", MAP.read_text())
    return {t for t in tokens if "/" in t and "<" not in t and not t.startswith(("-", "./"))}


def test_every_path_the_map_names_exists() -> None:
    """A path is written from the root or from the wing the sentence is about
    (`nemesis/firewall.py` in the chaos row)."""
    bases = [ROOT, ROOT / "lab", *(d for d in (ROOT / "lab").rglob("*") if d.is_dir())]
    missing = [p for p in sorted(named_paths()) if not any((b / p).exists() for b in bases)]
    assert not missing, f"ARCHITECTURE.md names paths that do not exist: {missing}"


def test_every_folder_of_the_lab_is_on_the_map() -> None:
    text = MAP.read_text()
    folders = [
        p.relative_to(ROOT / "lab").as_posix()
        for p in sorted((ROOT / "lab").rglob("__init__.py"))
        if p.parent != ROOT / "lab" and "images" not in p.parts and "oxnode" not in p.parts[-3:-1]
    ]
    unmapped = [
        f
        for f in (str(Path(f).parent) for f in folders)
        if f"`{Path(f).name}/`" not in text and f"`lab/{f}/`" not in text and f"`{f}/`" not in text
    ]
    assert not unmapped, f"folders of lab/ that ARCHITECTURE.md does not show: {unmapped}"
