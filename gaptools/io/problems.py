"""Problems as a person reads them in the terminal: repeated ones grouped, with the fix where one is known.

An MIS export with one kind of fault in a column (176 rows of "5-4" in a
column that wants whole grades) should read as one line saying how many rows,
which, and the distinct values, not as 176 lines; and a fault with a known
fix (the year only in the file names) says that fix.
"""
from __future__ import annotations

import re

import pandas as pd

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


_YEAR_GROUP = re.compile(r"^\s*(?:year|yr|y)\s*\d{1,2}\s*$", re.IGNORECASE)
_TOTAL = re.compile(r"^\s*(?:grand\s+)?totals?\b", re.IGNORECASE)


def fixes(problems: list[Problem]) -> list[str]:
    """The known fixes for these problems, each a short paragraph."""
    out = []
    no_year = [p.file for p in problems if p.column == "year" and p.message.startswith("required column 'year'")]
    if no_year:
        hint = year_hint(list(dict.fromkeys(f for f in no_year if f)))
        if hint:
            out.append(hint)
    groups = [p for p in problems if p.value and _YEAR_GROUP.match(p.value) and p.message.startswith("is not a year")]
    if groups:
        out.append(f"column '{shorten(groups[0].column, 60)}' holds year groups ('{shorten(groups[0].value, 20)}'), "
                   f"not results years: map it as year_group: \"{shorten(groups[0].column, 60)}\" and give the year "
                   "another way (a year column, files: or constants:; a table of current pupils can leave it out)")
    return out


def totals_notes(raw, problems: list[Problem], originals: dict[str, dict[str, str]],
                 file_col: str, line_col: str) -> list[str]:
    """A warning for each file whose rows with problems include one that looks like a totals row
    ("Total" in a text cell), with the ``skip_rows`` rule that leaves it out."""
    where = {(p.file, p.line) for p in problems if p.line is not None}
    if not where:
        return []
    at = [(f, n) in where for f, n in zip(raw[file_col], raw[line_col])]
    sub = raw[at]
    notes, done = [], set()
    for col in sub.columns:
        text = sub[col].dtype == object or isinstance(sub[col].dtype, pd.StringDtype)
        if col in (file_col, line_col) or not text:
            continue
        hit = sub[col].astype("string").str.match(_TOTAL.pattern, case=False).fillna(False).to_numpy(dtype=bool)
        for file, line, value in zip(sub[file_col][hit], sub[line_col][hit], sub[col][hit]):
            if file in done:
                continue
            done.add(file)
            header = originals.get(file, {}).get(col, col)
            notes.append(f"{file} line {line} looks like a totals row ('{shorten(value, 20)}' in "
                         f"'{shorten(header, 60)}'): leave it out in the mapping with skip_rows: "
                         f"{{column: \"{shorten(header, 60)}\", matching: \"^Total\"}}")
    return notes
