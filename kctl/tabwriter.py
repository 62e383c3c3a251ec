"""Go's text/tabwriter semantics, which kubectl's describe output depends on.

Cells end at tabs; the text after a line's last tab is not aligned. A column
is aligned only across a block of consecutive lines that all have a cell in
it, so a line without tabs ("Containers:") starts fresh alignment below it.
"""

from __future__ import annotations


def align(text: str, min_width: int = 0, padding: int = 2) -> str:
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    _format(lines, 0, len(lines), [], min_width, padding, out)
    return "\n".join(out)


def _format(lines, start, end, widths, min_width, padding, out) -> None:
    column = len(widths)
    line0 = start
    this = start
    while this < end:
        if column >= len(lines[this]) - 1:
            this += 1
            continue
        _write(lines, line0, this, widths, out)
        line0 = this
        width = min_width
        while this < end and column < len(lines[this]) - 1:
            width = max(width, len(lines[this][column]) + padding)
            this += 1
        _format(lines, line0, this, widths + [width], min_width, padding, out)
        line0 = this
    _write(lines, line0, end, widths, out)


def _write(lines, start, end, widths, out) -> None:
    for line in lines[start:end]:
        cells = [cell.ljust(widths[j]) if j < len(widths) and j < len(line) - 1
                 else cell for j, cell in enumerate(line)]
        out.append("".join(cells))
