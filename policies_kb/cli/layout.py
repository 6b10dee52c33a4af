"""Terminal layout of the KB command line: widths (CJK characters count two), padding, wrapping, tables."""

from __future__ import annotations

import logging
import shutil
import unicodedata
from typing import Iterable, List, Optional, Sequence

logger = logging.getLogger(__name__)

LABEL_WIDTH = 10


def char_width(char: str) -> int:
    """Columns a character takes in a terminal: 2 for wide (CJK) characters, 0 for combining marks."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters count two)."""
    return sum(char_width(char) for char in text)


def pad(text: str, width: int) -> str:
    """Left-align text in `width` terminal columns."""
    return text + " " * max(0, width - display_width(text))


def truncate(text: str, width: int) -> str:
    """Cut text to at most `width` columns, marking the cut with …."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        if used + char_width(char) > width - 1:
            break
        out.append(char)
        used += char_width(char)
    return "".join(out) + "…"


NO_LINE_START = set("，。、；：？！）》」』”’,.;:?!)]%")


def wrap(text: str, width: int) -> List[str]:
    """Break text into lines of about `width` columns (CJK text breaks anywhere, but a closing
    punctuation mark stays at the end of the line before rather than starting a new one)."""
    lines: List[str] = []
    for paragraph in text.split("\n"):
        line, used = [], 0
        for char in paragraph:
            size = char_width(char)
            if used + size > width and line and char not in NO_LINE_START:
                lines.append("".join(line).rstrip())
                line, used = [], 0
                if char == " ":
                    continue
            line.append(char)
            used += size
        lines.append("".join(line).rstrip())
    return lines


def terminal_width() -> int:
    """The usable output width, between 60 and 120 columns."""
    return max(60, min(120, shutil.get_terminal_size((100, 24)).columns))


def field(label: str, value: str, indent: int = 0, width: Optional[int] = None) -> List[str]:
    """A `label  value` block with the label padded and continuation lines hanging under the value."""
    width = width or terminal_width()
    prefix = " " * indent + pad(label, LABEL_WIDTH)
    room = max(20, width - display_width(prefix))
    lines = wrap(value or "—", room)
    return [prefix + lines[0]] + [" " * display_width(prefix) + line for line in lines[1:]]


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], width: Optional[int] = None,
          indent: int = 0) -> List[str]:
    """Rows aligned in columns by display width; the last column wraps to fit the terminal."""
    rows = [list(row) for row in rows]
    width = width or terminal_width()
    widths = [max([display_width(h)] + [display_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    fixed = indent + sum(widths[:-1]) + 2 * (len(headers) - 1)
    widths[-1] = max(display_width(headers[-1]), 16, min(widths[-1], width - fixed))
    margin = " " * indent

    def render(cells: Sequence[str]) -> List[str]:
        head = "  ".join(pad(cell, widths[i]) for i, cell in enumerate(cells[:-1]))
        head = margin + (head + "  " if len(cells) > 1 else "")
        last = wrap(cells[-1], widths[-1])
        return [(head + last[0]).rstrip()] + [(" " * display_width(head) + line).rstrip() for line in last[1:]]

    out = render(headers) + [margin + "  ".join("─" * w for w in widths)]
    for row in rows:
        out += render(row)
    return out
