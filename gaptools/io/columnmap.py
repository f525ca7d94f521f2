"""Applying a mapping to one export file: its columns renamed or derived, its rows skipped, its values mapped.

The first job of :func:`gaptools.io.loading.load_pupils` after reading a file
(data contract §2): the mapping's ``columns:`` (with ``mean_of``/``max_of``),
``measures:``, ``skip_rows:`` and ``values:``; the file's own headers are
matched by their normalised names where the mapping says nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..domain import columns as C
from ..domain.formatting import count
from ..errors import Problem, shorten
from .combine import combine_columns, english_note
from .mapping import Mapping
from .readers import line_list


@dataclass
class Part:
    """One input file as read, with its canonical column names."""

    name: str
    frame: pd.DataFrame
    original: dict[str, str] = field(default_factory=dict)  # canonical -> header in the file
    unresolved: set[str] = field(default_factory=set)  # mapped columns the file lacks (already reported)
    notes: list[str] = field(default_factory=list)  # warnings: data read correctly but worth a look
    constants: dict[str, str] = field(default_factory=dict)  # the mapping's constants for this file


def headers_text(headers) -> str:
    """The start of a file's header for a message (each name and the whole list kept short)."""
    shown = ", ".join(shorten(h, 60) for h in list(headers)[:30])
    return (shown or "none") + (", ..." if len(headers) > 30 else "")


def find_column(headers: list[str], export: str) -> int | None:
    """The position of export column ``export`` among ``headers`` (exact, else ignoring case and spaces)."""
    if export in headers:
        return headers.index(export)
    folded = [h.strip().casefold() for h in headers]
    key = export.strip().casefold()
    return folded.index(key) if key in folded else None


def rename_columns(name: str, frame: pd.DataFrame, mapping: Mapping | None,
                   lines: np.ndarray | None = None, *, current: bool = False,
                   spec_for=C.spec_for) -> tuple[Part, list[Problem]]:
    """Give columns their canonical names (mapping first, then by normalised header).

    Each export column gives at most one canonical column; a mapping's measures
    and ``mean_of`` columns are computed from the export columns they name, so
    one export column can feed a standard column and a measure. A column of the
    file that the mapping replaces (the file has ``pupil_id`` but the mapping
    reads it from ``UPN``) is left out with a warning, never silently. In a
    ``current`` table (pupils on roll now) a mapped column the file lacks is
    a problem only for an identity column; an outcome it lacks is left out,
    with a warning (a tracker has no Attainment 8 yet).
    """
    problems: list[Problem] = []
    notes: list[str] = []
    headers = list(frame.columns)
    lines = np.arange(2, len(frame) + 2) if lines is None else lines
    if any(h.strip() == "" for h in headers) and frame.shape[1] > 0:
        blanks = [i + 1 for i, h in enumerate(headers) if h.strip() == ""]
        # an unnamed column is only a problem if it holds data
        for i in blanks:
            col = frame.iloc[:, i - 1]
            if C._blank(col).all():
                continue
            problems.append(Problem(name, 1, f"#{i}", "", "this column has data but no header"))
    wanted: dict[int, str] = {}  # position in file -> canonical
    unresolved: set[str] = set()
    extra: dict[str, pd.Series] = {}  # canonical or measure name -> column computed from the export

    def missing(canon, export):
        if current and canon not in C.REQUIRED:
            notes.append(f"{name}: the mapping reads '{canon}' from '{shorten(export, 60)}', which this table of "
                         "current pupils does not have: left out")
            return
        unresolved.add(canon)
        problems.append(Problem(name, 1, export, None,
                                f"the mapping reads '{canon}' from this column, but the file has no such "
                                f"column (it has: {headers_text(headers)})"))

    if mapping:
        for canon, export in mapping.columns.items():
            pos = find_column(headers, export)
            if pos is None:
                if canon not in mapping.constants:
                    missing(canon, export)
                continue
            wanted[pos] = canon
        for m in mapping.measures.values():
            pos = find_column(headers, m.column)
            if pos is None:
                missing(m.name, m.column)
            else:
                extra[m.name] = frame.iloc[:, pos]
        for canon, (how, exports) in mapping.combined().items():
            found = [find_column(headers, e) for e in exports]
            present = [i for i in found if i is not None]
            if current and present and len(present) < len(found):  # a tracker with one English: that one
                gone = ", ".join(f"'{shorten(e, 60)}'" for e, i in zip(exports, found) if i is None)
                notes.append(f"{name}: this table of current pupils has no {gone}: '{canon}' is read from the "
                             "other column(s) the mapping names")
                found = [*present]
            for e, pos in zip(exports, found):
                if pos is None:
                    missing(canon, e)
            if None not in found:  # (then present is found)
                values, found_problems = combine_columns(name, frame, present, canon, how, lines, notes)
                problems += found_problems
                extra[canon] = values
        note = english_note(name, headers, mapping)
        if note:
            notes.append(note)
    combined = mapping.combined() if mapping else {}
    by_mapping = {c: f"'{headers[i]}'" for i, c in wanted.items()}
    by_mapping.update({c: ("the mean of " if combined[c][0] == "mean_of" else "the best of ")
                       + ", ".join(f"'{e}'" for e in combined[c][1]) for c in combined if c in extra})
    left_out: list[int] = []
    for i, h in enumerate(headers):
        if i in wanted:
            continue
        canon = C.canonical_name(h)
        if spec_for(canon) is None:  # (another table's columns: the assessments, io.assessments)
            continue
        constants = mapping.constants if mapping else {}
        if canon in by_mapping or canon in constants:
            source = by_mapping.get(canon) or f"the constant {constants[canon]!r}"
            notes.append(f"{name}: column '{shorten(h, 60)}' is not used: the mapping reads '{canon}' from "
                         f"{shorten(source, 120)}")
            left_out.append(i)
            continue
        wanted[i] = canon
    seen: dict[str, str] = {}
    new_names, names_used = [], set()
    for i, h in enumerate(headers):
        target = wanted.get(i)
        if target is not None and target in seen:
            problems.append(Problem(name, 1, h, None,
                                    f"two columns both give '{target}' ('{seen[target]}' and '{h}'); keep one"))
            target = None
        if target is not None:
            seen[target] = h
            new = target
        else:
            new = h
            while new in names_used or new in wanted.values() or new in extra:  # two columns named alike
                new = f"{new} (column {i + 1})"
        names_used.add(new)
        new_names.append(new)
    out = frame.copy()
    out.columns = new_names
    if left_out:
        out = out.drop(columns=[new_names[i] for i in left_out])
    for col, values in extra.items():
        out[col] = values.to_numpy()
    seen.update({c: by_mapping[c] for c in combined if c in extra})
    return Part(name, out, seen, unresolved, notes), problems


def skip_export_rows(name: str, frame: pd.DataFrame, lines: np.ndarray,
               mapping: Mapping) -> tuple[pd.DataFrame, np.ndarray, list[str], list[Problem]]:
    """Leave out the rows a mapping's ``skip_rows`` rules match (a totals row), naming them in a warning."""
    headers = list(frame.columns)
    drop = np.zeros(len(frame), dtype=bool)
    notes, problems = [], []
    for rule in mapping.skip_rows:
        i = find_column(headers, rule.column)
        if i is None:
            problems.append(Problem(name, 1, rule.column, None,
                                    "the mapping's skip_rows looks at this column, but the file has no such "
                                    f"column (it has: {headers_text(headers)})"))
            continue
        hit = rule.matches(frame.iloc[:, i]) & ~drop
        if hit.any():
            notes.append(f"{name}: skipped {count_text(int(hit.sum()), 'row')} whose '{shorten(headers[i], 60)}' "
                         f"matches {rule.pattern!r} (mapping skip_rows): {line_list(lines[hit])}")
        drop |= hit
    if not drop.any():
        return frame, lines, notes, problems
    return frame[~drop].reset_index(drop=True), lines[~drop], notes, problems


def count_text(n: int, noun: str) -> str:
    return count(n, noun)


def apply_values(raw: pd.DataFrame, mapping: Mapping) -> None:
    for canon, table in mapping.values.items():
        if canon not in raw.columns:
            continue
        s = raw[canon]
        text = s.astype("string").fillna("").str.strip()
        exact = {k.strip(): v for k, v in table.items()}
        folded = {k.strip().casefold(): v for k, v in table.items()}
        mapped = text.map(exact)
        mapped = mapped.fillna(text.str.casefold().map(folded))
        raw[canon] = mapped.where(mapped.notna(), s.astype("string")).astype(object)
