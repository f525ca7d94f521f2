"""Validate the data once, setting aside any school whose rows are invalid."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataValidationError, Problem


# --------------------------------------------------------------- validation
def validate_by_school(data, mapping=None) -> tuple[pd.DataFrame | None, dict[str, list[Problem]]]:
    """Validate the data once, setting aside any school whose rows are invalid.

    Returns
    -------
    (DataFrame or None, dict)
        The valid schools' pupils, and for each failed school id (or file
        name, where no school can be told) the problems found.
    """
    import warnings

    from ..errors import GaptoolsWarning
    from ..io import progress
    from ..io.loading import load_pupils, rename_columns, sources
    from ..io.mapping import load_mapping
    from ..io.readers import LINES_ATTR, line_numbers, read_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        try:
            return load_pupils(data, mapping), {}
        except DataValidationError as err:
            first = err
    mapping = load_mapping(mapping)
    failures: dict[str, list[Problem]] = {}
    frames = []
    by_file: dict[str, list[Problem]] = {}
    for p in first.problems:
        by_file.setdefault(p.file or "<input>", []).append(p)
    files = sources(data)
    # each file again, alone (its own bars hidden: one bar of files says how far this has gone)
    for name, src in progress.each(files, len(files), "validating: setting aside the invalid schools", "file"):
        problems = by_file.get(name, [])
        if not problems:
            with warnings.catch_warnings(), progress.shown(False):
                warnings.simplefilter("ignore", GaptoolsWarning)
                frames.append(load_pupils(src, mapping))
            continue
        # leniently: a row too wide (an unquoted comma in a surname) is still a row of one school
        raw, too_wide = (src, []) if isinstance(src, pd.DataFrame) else read_table(src, name, lenient=True)
        sid = None
        own = mapping.for_file(name) if mapping is not None else None  # with its files: entry's constants
        if raw is not None:
            part, _ = rename_columns(name, raw, own)
            if "school_id" in part.frame.columns:
                sid = part.frame["school_id"].astype(str).str.strip()
            elif own is not None and "school_id" in own.constants:
                sid = pd.Series(own.constants["school_id"], index=raw.index)
        row_of = {int(n): i for i, n in enumerate(line_numbers(raw))} if raw is not None else {}
        located = [p for p in problems if p.line in row_of]
        if sid is None or len(located) < len(problems):
            key = sid.iloc[0] if sid is not None and sid.nunique() == 1 else Path(name).name
            failures.setdefault(key, []).extend(problems)
            continue
        assert raw is not None  # (sid is read from it)
        bad: dict[str, list[Problem]] = {}
        for p in located:
            assert p.line is not None  # (located: its line is in row_of)
            bad.setdefault(sid.iloc[row_of[p.line]], []).append(p)
        shifted = {row_of[p.line] for p in too_wide if p.line in row_of}
        if not {sid.iloc[i] for i in shifted} <= set(sid.drop(index=list(shifted))):
            # a row too wide names a school no whole row has (its cells shifted): whose it is cannot be told
            failures.setdefault(Path(name).name, []).extend(problems)
            continue
        for school, found in bad.items():
            failures.setdefault(school, []).extend(found)
        kept = ~sid.isin(list(bad)).to_numpy()
        keep = raw[kept].reset_index(drop=True)
        keep.attrs[LINES_ATTR] = line_numbers(raw)[kept]  # each row keeps its line in the file
        if len(keep):
            try:
                with warnings.catch_warnings(), progress.shown(False):
                    warnings.simplefilter("ignore", GaptoolsWarning)
                    frames.append(load_pupils(keep, own))
            except DataValidationError as again:  # should not happen: report rather than lose it
                for school in keep.index.map(sid).unique():
                    failures.setdefault(school, []).extend(again.problems)
    if not frames:
        return None, failures
    pupils = pd.concat(frames, ignore_index=True)
    pupils.attrs = frames[0].attrs
    return pupils, failures


def problems_text(problems: list[Problem], limit: int = 8) -> str:
    """A failed school's problems as its manifest entry (and so index.html) says them: located, never
    quoting a value (a value may be a pupil's record; ``gaptools validate`` prints them in the terminal)."""
    shown = "; ".join(p.located() for p in problems[:limit])
    more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
    return (f"invalid data: {len(problems)} problem{'s' if len(problems) != 1 else ''}: {shown}{more}. "
            "`gaptools validate` shows the values")
