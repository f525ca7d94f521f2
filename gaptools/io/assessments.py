"""``load_assessments``: read, map, type and validate a school's data drops (data contract §6).

The same readers, mapping rules and located problems as the pupil table
(:mod:`gaptools.io.loading`): only the columns differ
(:mod:`gaptools.domain.assessments`).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..domain import assessments as A
from ..errors import DataValidationError, GaptoolsWarning, Problem, shorten
from .loading import apply_values, cell_problems, read_parts
from .mapping import load_mapping

_FILE, _LINE = "__file", "__line"
#: Score hint for a file with letter grades: they are translated under ``values:``.
_SCORE_HINT = ("is not a number: translate a letter scale under 'values:' in a mapping file, "
               "e.g. score: {WTS: 1, EXS: 2, GDS: 3}")


def load_assessments(path, mapping=None) -> pd.DataFrame:
    """Load, map and validate the assessments (data drops) of one or more schools.

    Parameters
    ----------
    path : str, Path or DataFrame
        A CSV (UTF-8, UTF-8 with BOM or Windows-1252), Excel (.xlsx) or Parquet
        file, a folder of such files with the same columns, or a DataFrame. One
        row per pupil, subject and drop: ``school_id``, ``pupil_id``,
        ``year_group``, ``subject``, ``drop``, ``drop_date``, ``score`` (any
        scale, higher is better), ``disadvantaged``; optional
        ``teaching_group`` (always text), ``sen``, ``forename``, ``surname``.
    mapping : str, Path, dict or Mapping, optional
        A mapping file (data contract §2) for these columns; letter scales
        (WTS/EXS/GDS) become numbers under ``values: {score: {...}}``.

    Returns
    -------
    DataFrame
        Typed columns (text ``string``, ``year_group`` ``Int64``, ``drop_date``
        a date, ``score`` ``Float64``, ``disadvantaged`` ``boolean``), sorted by
        school, year group, subject, drop date. Pupils' names are read but not
        kept. A row whose score is empty (the pupil was absent) is kept, with a
        warning; the figures leave it out. ``attrs["gaptools_warnings"]`` holds
        the warnings.

    A school's file written by :func:`gaptools.io.byschool_inputs.save_assessments_by_school`
    (the batch runner's, once the whole table passed) is read back as it is, without validating it again.

    Raises
    ------
    DataValidationError
        Listing every problem found, each with file, line, column and value.
    FileNotFoundError
        When ``path`` does not exist.
    """
    from .byschool_inputs import read_validated_assessments

    validated = read_validated_assessments(path)
    if validated is not None:  # one school's rows, written by the batch runner once they passed: as they are
        return validated
    mapping = load_mapping(mapping, columns=A.COLUMNS)
    if mapping is not None and mapping.measures:
        raise DataValidationError([Problem(mapping.source, None, "measures", None,
                                           "the assessments have one score column: a mapping for them "
                                           "has no 'measures'")], what="the data drops")
    parts, problems, notes = read_parts(path, mapping, required=A.REQUIRED, spec_for=A.spec_for,
                                        table="assessments table")
    if not parts:
        raise DataValidationError(problems or [Problem(str(path), None, None, None, "no assessment rows found")],
                                  notes, what="the data drops")
    originals = {p.name: p.original for p in parts}
    raw = pd.concat([p.frame for p in parts], ignore_index=True, sort=False)
    notes = list(notes)
    if mapping:
        apply_values(raw, mapping)
        for canon, value in mapping.constants.items():
            raw[canon] = value
    typed = pd.DataFrame(index=raw.index)
    for col in raw.columns:
        spec = A.spec_for(col)
        if spec is None or col in A.NAME_COLUMNS:  # names never leave this function; other columns unused
            continue
        out, bad, msg = A.parse(spec, raw[col])
        if col == "score":
            msg = _SCORE_HINT
        typed[col] = out
        problems += cell_problems(raw, col, bad, msg, originals)
        bad = bad.to_numpy(dtype=bool, na_value=False)
        known = out.notna().to_numpy(dtype=bool)
        if spec.required and col != "score":
            problems += cell_problems(raw, col, pd.Series(~known & ~bad, index=raw.index),
                                      f"'{col}' is required but this cell is empty", originals)
        if spec.ge is not None or spec.le is not None:
            lo = -np.inf if spec.ge is None else spec.ge
            hi = np.inf if spec.le is None else spec.le
            values = out.astype("float64").to_numpy(na_value=np.nan)
            with np.errstate(invalid="ignore"):
                outside = known & ((values < lo) | (values > hi))
            problems += cell_problems(raw, col, pd.Series(outside, index=raw.index), spec.range_text, originals)
        if spec.allowed:
            problems += cell_problems(raw, col, pd.Series(known & ~out.isin(spec.allowed).to_numpy(dtype=bool,
                                                                                                   na_value=False),
                                                          index=raw.index),
                                      "must be one of " + ", ".join(spec.allowed), originals)
    if not problems:
        problems += _duplicates(typed, raw, originals)
    if problems:
        problems.sort(key=lambda p: (p.file or "", p.line or 0, p.column or ""))
        raise DataValidationError(problems, notes, what="the data drops")
    no_score = typed["score"].isna().to_numpy(dtype=bool)
    if no_score.any():
        notes.append(f"{int(no_score.sum())} assessment row(s) have no score (absent?): they count in no figure")
    if "teaching_group" not in typed.columns:
        typed["teaching_group"] = pd.Series(pd.NA, index=typed.index, dtype="string")
    typed = typed.sort_values(["school_id", "year_group", "subject", "drop_date", "drop", "pupil_id"],
                              kind="stable").reset_index(drop=True)
    typed.attrs["gaptools_warnings"] = notes
    for note in notes:
        warnings.warn(note, GaptoolsWarning, stacklevel=2)
    return typed


def _duplicates(typed: pd.DataFrame, raw: pd.DataFrame, originals: dict[str, dict[str, str]]) -> list[Problem]:
    """A pupil with two scores for one subject and drop: each row named, with where the other is."""
    keys = list(A.KEY)
    dup = typed.duplicated(keys, keep=False).to_numpy(dtype=bool)
    if not dup.any():
        return []
    problems = []
    rows = typed.loc[dup, keys].assign(**{_FILE: raw.loc[dup, _FILE], _LINE: raw.loc[dup, _LINE]})
    for key, group in rows.groupby(keys, sort=False, dropna=False):
        where = [f"{f} line {n}" for f, n in zip(group[_FILE], group[_LINE])]
        for j, (f, n) in enumerate(zip(group[_FILE], group[_LINE])):
            others = ", ".join(w for k, w in enumerate(where) if k != j)
            problems.append(Problem(f, int(n), originals.get(f, {}).get("pupil_id", "pupil_id"), str(key[1]),
                                    f"pupil has two scores for {shorten(key[2], 60)}, drop {shorten(key[3], 60)} "
                                    f"in school {shorten(key[0], 60)} (also at {others})"))
    return problems


def read_pupil_list(path) -> list[str]:
    """The pupil ids of a pupil list: a ``targets.csv`` (its ``UPN`` column) or any table with ``pupil_id``.

    ``targets.csv`` marks a cell a spreadsheet would run with a leading ``'``
    (data contract §5): it is taken off again here.

    Raises
    ------
    DataValidationError
        The file has neither column.
    """
    from .readers import read_table

    frame, problems = read_table(Path(path), str(path))
    if frame is None:
        raise DataValidationError(problems, what="the data drops")
    headers = {str(h).strip().casefold(): h for h in frame.columns}
    column = headers.get("upn", headers.get("pupil_id"))
    if column is None:
        raise DataValidationError([Problem(str(path), 1, None, None,
                                           "a pupil list needs a 'UPN' (targets.csv) or 'pupil_id' column")],
                                  what="the data drops")
    ids = frame[column].astype("string").str.strip()
    ids = ids.mask(ids.str.match(r"^'[=+\-@\t\r]").fillna(False).astype(bool), ids.str[1:])
    return [i for i in ids.dropna().tolist() if i]
