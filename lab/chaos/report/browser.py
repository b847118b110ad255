"""A page as a person sees it: headless Chromium (Debian's chromium package) loads a
report, and we read back the DOM it built and every console message it logged. Used by
the tests that check the lab's HTML reports; `./oxlab test` installs chromium where missing."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lab.infra.errors import LabError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# Chromium's log line for a page's console message, e.g.
#   [...:INFO:CONSOLE:1] "Uncaught Error: boom", source: file:///tmp/x.html (1)
# (older Chromium writes CONSOLE(1))
CONSOLE = re.compile(r':CONSOLE(?:\(\d+\)|:\d+)?\] "(?P<message>.*)", source: (?P<source>.*)$')
TIMEOUT_S = 60


class BrowserError(LabError):
    """No Chromium here, or it could not load the page."""


@dataclass(frozen=True)
class Rendered:
    dom: str  # the document after the browser built it (--dump-dom)
    console: list[str]  # every console message the page logged


def chromium() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError("no Chromium found: install Debian's chromium package (`./oxlab test` does)")


def render(page: Path, screenshot: Path | None = None) -> Rendered:
    """Load `page` in headless Chromium; optionally save a screenshot beside it."""
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr"]
    url = page.resolve().as_uri()
    try:
        done = subprocess.run(
            [*base, "--v=0", "--dump-dom", url], capture_output=True, text=True,
            timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
        if screenshot is not None:
            subprocess.run(
                [*base, f"--screenshot={screenshot}", "--window-size=1100,2400", url],
                capture_output=True, timeout=TIMEOUT_S, check=False,
            )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise BrowserError(f"Chromium did not load {page} within {TIMEOUT_S} s") from None
    if done.returncode != 0 or "<html" not in done.stdout:
        raise BrowserError(f"Chromium could not load {page}: {done.stderr.strip()[-300:]}")
    console = [m["message"] for line in done.stderr.splitlines() if (m := CONSOLE.search(line))]
    return Rendered(done.stdout, console)
