"""Problems as a person reads them in the terminal: repeated ones grouped, with the fix where one is known.

An MIS export with one kind of fault in a column (176 rows of "5-4" in a
column that wants whole grades) should read as one line saying how many rows,
which, and the distinct values, not as 176 lines; and a fault with a known
fix (the year only in the file names) says that fix.
"""
from __future__ import annotations

from ..errors import Problem, shorten
from .filerules import year_hint

#: A (column, message) seen this many times or more is shown as one line.
GROUP_FROM = 3
_SHOW_LINES = 5
_SHOW_VALUES = 6


def grouped(problems: list[Problem], group_from: int = GROUP_FROM) -> list[str]:
    """One line per problem, except that problems repeating a column and message are one line together.

    The grouped line names the file (or how many files), the column, the
    message, how many rows, the first few lines and the distinct values.
    Lines come in the order of each group's first problem.
    """
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.column, p.message), []).append(p)
    out = []
    for (column, message), found in groups.items():
        if len(found) < group_from:
            out += [str(p) for p in found]
            continue
        files = list(dict.fromkeys(p.file or "<input>" for p in found))
        where = shorten(files[0], 800) if len(files) == 1 else (
            f"{len(files)} files ({', '.join(shorten(f, 120) for f in files[:3])}{', ...' if len(files) > 3 else ''})")
        if column is not None:
            where += f", column '{shorten(column)}'"
        at = [(f"{p.file} line {p.line}" if len(files) > 1 else f"{p.line}") for p in found if p.line is not None]
        if len(files) == len(found) and all(p.line in (1, None) for p in found):
            at = []  # one header problem per file: the files say it all
        rows = f"lines {', '.join(at[:_SHOW_LINES])}" + (f" and {len(at) - _SHOW_LINES} more" if len(at) > _SHOW_LINES
                                                         else "") if at else ""
        values = list(dict.fromkeys(p.value for p in found if p.value is not None))
        shown = ", ".join(f"'{shorten(v, 40)}'" for v in values[:_SHOW_VALUES])
        vals = (f"{len(values)} distinct value{'s' if len(values) != 1 else ''}: {shown}"
                + (", ..." if len(values) > _SHOW_VALUES else "")) if values else ""
        detail = "; ".join(x for x in (rows, vals) if x)
        out.append(f"{where}: {len(found)} times: {shorten(message, 2000)}" + (f" ({detail})" if detail else ""))
    return out


def fixes(problems: list[Problem]) -> list[str]:
    """The known fixes for these problems, each a short paragraph."""
    out = []
    no_year = [p.file for p in problems if p.column == "year" and p.message.startswith("required column 'year'")]
    if no_year:
        hint = year_hint(list(dict.fromkeys(f for f in no_year if f)))
        if hint:
            out.append(hint)
    return out
