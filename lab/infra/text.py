"""Text a person reads in a terminal: tables whose columns fit the width, long
sentences wrapped with an indent (status, verify, chaos list, the matrix)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence


def table(rows: Sequence[dict[str, str]], columns: Sequence[str], width: int | None = None) -> str:
    """Columns padded to their widest cell. With `width` (terminal columns) the widest
    columns are narrowed until a line fits, and their cells wrap onto further lines."""
    widths = [max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns]
    if width is not None:
        while 2 + sum(w + 2 for w in widths) - 2 > width and max(widths) > MIN_COLUMN:
            widths[widths.index(max(widths))] -= 1

    def render(cells: Sequence[str]) -> list[str]:
        parts = [textwrap.wrap(c, w) or [""] for c, w in zip(cells, widths, strict=True)]
        height = max(len(p) for p in parts)
        return [
            "  "
            + "  ".join(
                (p[i] if i < len(p) else "").ljust(w) for p, w in zip(parts, widths, strict=True)
            ).rstrip()
            for i in range(height)
        ]

    lines = render(list(columns))
    for r in rows:
        lines += render([r.get(c, "") for c in columns])
    return "\n".join(lines)


MIN_COLUMN = 12


def fit(text: str, width: int) -> str:
    """Sentences longer than the terminal wrap with an indent (tables already fit)."""
    return "\n".join(
        textwrap.fill(line, width, subsequent_indent="    ") if len(line) > width else line
        for line in text.splitlines()
    )
