"""The activity register: which pupils took part in which Pupil Premium activity (data contract §7).

One row per pupil per activity and outcome measure: ``school_id``, ``pupil_id``,
``activity``, ``year`` (the results year whose outcomes it aimed at) and
``measure`` (the outcome it aimed to improve), with optional ``tier``,
``start``, ``end``, ``sessions_planned``, ``sessions_attended`` and ``cost``.
It is read with the pupil table's readers and mapping format (a mapping's
``columns``, ``values`` and ``constants``), where it is, never copied.
Problems come back located (file, line, column, value), as for the pupil table.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..domain import columns as C
from ..domain.measures import STANDARD_MEASURES, custom_measures, measures_for
from ..errors import DataValidationError, GaptoolsWarning, Problem, shorten
from .loading import read_sources, sources
from .mapping import load_mapping
from .readers import NOTES_ATTR, line_list, line_numbers


@dataclass(frozen=True)
class RegisterColumn:
    name: str
    kind: str  # text | year | date | count | money
    required: bool = False


REGISTER_COLUMNS = {c.name: c for c in [
    RegisterColumn("school_id", "text", True), RegisterColumn("pupil_id", "text", True),
    RegisterColumn("activity", "text", True), RegisterColumn("year", "year", True),
    RegisterColumn("measure", "text", True), RegisterColumn("tier", "tier"),
    RegisterColumn("start", "date"), RegisterColumn("end", "date"),
    RegisterColumn("sessions_planned", "count"), RegisterColumn("sessions_attended", "count"),
    RegisterColumn("cost", "money"),
]}
REQUIRED = tuple(c.name for c in REGISTER_COLUMNS.values() if c.required)
#: The EEF's three tiers, and the words a register may use for them.
TIERS = ("teaching", "targeted", "wider")
TIER_WORDS = {"teaching": "teaching", "high-quality teaching": "teaching", "high quality teaching": "teaching",
              "quality teaching": "teaching", "1": "teaching", "tier 1": "teaching",
              "targeted": "targeted", "targeted academic support": "targeted", "2": "targeted", "tier 2": "targeted",
              "wider": "wider", "wider strategies": "wider", "3": "wider", "tier 3": "wider"}
#: Where each row came from, kept so that a later check can name its line.
FILE, LINE = "source_file", "source_line"


def _header_map(headers: list[str], mapping) -> tuple[dict[int, str], list[Problem], str]:
    """Which register column each header gives: the mapping's first, then headers named as the contract."""
    problems, wanted = [], {}
    folded = [h.strip().casefold() for h in headers]
    for canon, export in (mapping.columns.items() if mapping else []):
        key = export.strip().casefold()
        if key in folded:
            wanted[folded.index(key)] = canon
        elif canon not in mapping.constants:
            problems.append(Problem(None, 1, export, None, f"the mapping reads '{canon}' from this column, but the "
                                    "register has no such column"))
    taken = set(wanted.values())
    for i, h in enumerate(headers):
        canon = C.canonical_name(h)
        if i not in wanted and canon in REGISTER_COLUMNS and canon not in taken \
                and not (mapping and canon in mapping.constants):
            wanted[i] = canon
            taken.add(canon)
    return wanted, problems, ", ".join(shorten(h, 60) for h in headers[:30])


def _typed(raw: pd.Series, kind: str):
    """(typed column, bad mask, message) for one register column."""
    if kind == "text":
        return C.parse_text(raw)
    if kind == "year":
        return C.parse_year(raw)
    if kind == "tier":
        text = raw.astype("string").str.strip().str.lower()
        out = text.map(TIER_WORDS, na_action="ignore").astype("string")
        bad = out.isna() & ~C._blank(raw)
        return out, bad, "is not a tier (teaching, targeted or wider, as in the EEF's tiered approach)"
    if kind == "date":
        text = raw.astype("string").str.strip()
        text = text.mask(text == "")
        # ISO dates (2024-09-30) first, then the day-first dates of an English spreadsheet (30/09/2024)
        out = pd.to_datetime(text, errors="coerce", format="ISO8601")
        rest = out.isna() & text.notna()
        if rest.any():
            out[rest] = pd.to_datetime(text[rest], dayfirst=True, errors="coerce", format="mixed")
        return out, out.isna() & text.notna(), "is not a date (write 2024-09-30 or 30/09/2024)"
    if kind == "money":
        text = raw.astype("string").str.replace(r"[£,\s]", "", regex=True)
        out, bad, msg = C.parse_float(text)
        neg = (out < 0).fillna(False).astype(bool)
        return out.mask(neg), bad | neg, "is not an amount of money (a number of pounds, 0 or more)"
    out, bad, _ = C.parse_int(raw)
    neg = (out < 0).fillna(False).astype(bool)
    return out.mask(neg), bad | neg, "is not a number of sessions (a whole number, 0 or more)"


def _read(data, mapping) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    frames, problems, notes = [], [], []
    for name, frame, found in read_sources(sources(data)):
        problems += found
        if frame is None:
            continue
        notes += frame.attrs.get(NOTES_ATTR, [])
        lines = line_numbers(frame)
        wanted, found, have = _header_map(list(frame.columns), mapping)
        problems += [Problem(name, p.line, p.column, p.value, p.message) for p in found]
        part = pd.DataFrame({canon: frame.iloc[:, i].to_numpy(dtype=object) for i, canon in wanted.items()})
        for canon, value in (mapping.constants.items() if mapping else []):
            part[canon] = value
        missing = [c for c in REQUIRED if c not in part.columns]
        if missing:
            problems += [Problem(name, 1, c, None, f"required column '{c}' of the activity register is missing "
                                                   f"(the file's columns: {have})") for c in missing]
            continue
        blank = np.ones(len(part), dtype=bool)
        for c in part.columns:
            blank &= C._blank(part[c]).to_numpy(dtype=bool)
        part[FILE], part[LINE] = name, lines
        frames.append(part[~blank])
    if not frames:
        return pd.DataFrame(), problems, notes
    return pd.concat(frames, ignore_index=True, sort=False), problems, notes


def load_activities(data, mapping=None, *, pupils: pd.DataFrame | None = None) -> pd.DataFrame:
    """Load and check an activity register (data contract §7).

    Parameters
    ----------
    data : str, Path or DataFrame
        A CSV, Excel (.xlsx) or Parquet file, a folder of them, or a DataFrame.
    mapping : str, Path, dict or Mapping, optional
        A mapping of the register's own columns (``columns``, ``values``,
        ``constants``; data contract §2), e.g. ``{"columns": {"pupil_id": "UPN"}}``.
    pupils : DataFrame, optional
        The pupil table (:func:`gaptools.load_pupils`): each row's measure and
        year are then checked against it, and its pupils looked up
        (see :func:`check_register`).

    Returns
    -------
    DataFrame
        One row per register row: the columns above, typed (``start``/``end``
        as dates, sessions as whole numbers, ``tier`` as ``teaching``,
        ``targeted`` or ``wider``), plus ``source_file`` and ``source_line``.
        ``attrs["gaptools_warnings"]`` holds the warnings raised.

    Raises
    ------
    DataValidationError
        Listing every problem, each with file, line, column and value.
    """
    from .mapping import Mapping

    mapping = mapping if isinstance(mapping, Mapping) else load_mapping(mapping, columns=REGISTER_COLUMNS)
    raw, problems, notes = _read(data, mapping)
    if raw.empty and not problems:
        problems.append(Problem(str(data) if not isinstance(data, pd.DataFrame) else "<DataFrame>", None, None, None,
                                "the activity register has a header but no rows"))
    if problems:
        raise DataValidationError(problems, notes, what="the activity register")
    for canon, table in (mapping.values.items() if mapping else []):
        if canon in raw.columns:
            text = raw[canon].astype("string").str.strip()
            raw[canon] = text.map({k.strip(): v for k, v in table.items()}).fillna(text).astype(object)
    out = pd.DataFrame(index=raw.index)
    for name, col in REGISTER_COLUMNS.items():
        if name not in raw.columns:
            continue
        typed, bad, message = _typed(raw[name], col.kind)
        out[name] = typed
        problems += _located(raw, name, bad, message)
        if col.required:
            problems += _located(raw, name, typed.isna() & ~bad, f"'{name}' is required: this row has none")
    out[FILE], out[LINE] = raw[FILE].to_numpy(), raw[LINE].to_numpy()
    if "measure" in out.columns:
        out["measure"] = out["measure"].map(C.canonical_name, na_action="ignore").astype("string")
    problems += _row_checks(out)
    if problems:
        problems.sort(key=lambda p: (p.file or "", p.line or 0, p.column or ""))
        raise DataValidationError(problems, notes, what="the activity register")
    out, more = _combine_repeats(out)
    notes += more
    out.attrs["gaptools_warnings"] = notes
    if pupils is not None:
        notes += check_register(out, pupils)
    for note in notes:
        warnings.warn(note, GaptoolsWarning, stacklevel=2)
    return out


def _located(frame: pd.DataFrame, column: str, bad, message: str) -> list[Problem]:
    idx = np.flatnonzero(np.asarray(bad, dtype=bool))
    values = frame[column].to_numpy() if column in frame.columns else [None] * len(frame)
    return [Problem(str(frame[FILE].iat[i]), int(frame[LINE].iat[i]), column,
                    None if pd.isna(values[i]) else str(values[i]), message) for i in idx]


def _row_checks(out: pd.DataFrame) -> list[Problem]:
    """Dates in the wrong order, more sessions attended than planned."""
    problems = []
    if {"start", "end"} <= set(out.columns):
        reversed_ = (out["end"] < out["start"]).fillna(False).to_numpy(dtype=bool)
        problems += _located(out.assign(end=out["end"].dt.strftime("%Y-%m-%d")), "end", reversed_,
                             "ends before it starts (start and end the wrong way round?)")
    if {"sessions_planned", "sessions_attended"} <= set(out.columns):
        over = (out["sessions_attended"] > out["sessions_planned"]).fillna(False).to_numpy(dtype=bool)
        problems += _located(out, "sessions_attended", over, "more sessions attended than planned "
                                                             "(sessions_planned)")
    return problems


def _combine_repeats(out: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A pupil listed twice for the same activity, year and measure takes part once: sessions and cost
    are added up, with a warning naming the lines."""
    keys = ["school_id", "year", "activity", "measure", "pupil_id"]
    dup = out.duplicated(keys, keep=False).to_numpy()
    if not dup.any():
        return out.reset_index(drop=True), []
    note = (f"{_rows(int(dup.sum()))} list the same pupil more than once for one activity, year and "
            f"measure ({line_list(out.loc[dup, LINE].astype(int))} of {shorten(out.loc[dup, FILE].iloc[0], 120)}"
            "...): each pupil is counted once, with their sessions and cost added up")
    sums = [c for c in ("sessions_planned", "sessions_attended", "cost") if c in out.columns]
    first = out.groupby(keys, sort=False, dropna=False).first()
    if sums:
        first[sums] = out.groupby(keys, sort=False, dropna=False)[sums].sum(min_count=1)
    return first.reset_index()[list(out.columns)], [note]


def _rows(n: int) -> str:
    return f"{n} register row{'' if n == 1 else 's'}"


#: Columns of the pupil table that describe pupils or what was known before: never an activity's outcome.
NOT_OUTCOMES = frozenset({"school_id", "school_name", "year", "key_stage", "pupil_id", "disadvantaged", "sex", "sen",
                          "eal", "fsm", "ethnicity", "forename", "surname", "prior_attainment", "writing_ta"})


def _is_measure_name(name: str, pupils: pd.DataFrame) -> bool:
    """A standard, GCSE grade or declared measure; or a number or yes/no column of the table that is not a
    pupil's characteristic (an outcome a table made in Python holds as it is)."""
    if name in STANDARD_MEASURES or name.startswith(C.GRADE_PREFIX) or name in custom_measures(pupils):
        return True
    return name in pupils.columns and name not in NOT_OUTCOMES and not name.endswith("_code") and (
        pd.api.types.is_numeric_dtype(pupils[name].dtype) or pd.api.types.is_bool_dtype(pupils[name].dtype))


def check_register(register: pd.DataFrame, pupils: pd.DataFrame) -> list[str]:
    """Check a register against the pupil table; return (and record) the warnings.

    Errors (raised, each with file, line, column and value): a school not in
    the pupil table, a year no later than the school's latest results with no
    results for that school, a measure the school's pupils have no data for
    that year. Warnings: a year after the school's latest results (not in yet:
    reviewed when they are), and pupils the pupil table does not have for that
    school and year, counted and left out of the estimates, never silently.
    """
    problems: list[Problem] = []
    notes: list[str] = []
    sid = register["school_id"].astype(str)
    year = register["year"].astype("int64")
    latest = pupils.groupby("school_id", observed=True)["year"].max()
    latest.index = latest.index.astype(str)
    known_school = sid.isin(latest.index).to_numpy()
    problems += _located(register, "school_id", ~known_school, "this school is not in the pupil table")
    have = pd.MultiIndex.from_frame(pupils[["school_id", "year"]].astype({"school_id": str, "year": "int64"})
                                    .drop_duplicates())
    here = pd.MultiIndex.from_arrays([sid, year])
    in_year = here.isin(have)
    later = known_school & ~in_year & (year.to_numpy() > sid.map(latest).fillna(0).to_numpy())
    problems += _located(register, "year", known_school & ~in_year & ~later,
                         "the pupil table has no results for this school in this year")
    bad_measure = np.zeros(len(register), dtype=bool)
    for name in register.loc[in_year, "measure"].dropna().unique():
        rows = in_year & (register["measure"] == name).to_numpy()
        if _is_measure_name(name, pupils) and name in pupils.columns:
            with_data = pupils.loc[pupils[name].notna().to_numpy(dtype=bool), ["school_id", "year"]] \
                .astype({"school_id": str, "year": "int64"})
            rows &= ~here.isin(pd.MultiIndex.from_frame(with_data.drop_duplicates()))
        bad_measure |= rows
    for i in np.flatnonzero(bad_measure)[:200]:  # (each message names what that school's table does have)
        mine = pupils[(pupils["school_id"].astype(str) == sid.iat[i]) & (pupils["year"] == year.iat[i])]
        stages = mine["key_stage"].dropna().unique() if "key_stage" in mine.columns else []
        known = sorted({m.name for ks in stages for m in measures_for(mine, ks)})
        problems += _located(register.iloc[[i]], "measure", [True],
                             "is not an outcome measure the pupil table has for this school and year "
                             f"(it has: {', '.join(known) or 'none'})")
    if problems:
        problems.sort(key=lambda p: (p.file or "", p.line or 0, p.column or ""))
        raise DataValidationError(problems, list(register.attrs.get("gaptools_warnings", [])),
                                  what="the activity register")
    if later.any():
        notes.append(f"{_rows(int(later.sum()))} aim{'s' if later.sum() == 1 else ''} at results the pupil table "
                     f"does not have yet ({line_list(register.loc[later, LINE].astype(int))}): reviewed once those "
                     "results are in")
    keys = pd.MultiIndex.from_frame(pupils[["school_id", "year", "pupil_id"]].astype(
        {"school_id": str, "year": "int64", "pupil_id": str}))
    found = pd.MultiIndex.from_arrays([sid, year, register["pupil_id"].astype(str)]).isin(keys)
    lost = in_year & ~found
    if lost.any():
        notes.append(f"{_rows(int(lost.sum()))} name{'s' if lost.sum() == 1 else ''} a pupil the pupil table does "
                     f"not have for that school and year ({line_list(register.loc[lost, LINE].astype(int))}): "
                     "counted on the review as not found and left out of the estimates")
    before = list(register.attrs.get("gaptools_warnings", []))
    register.attrs["gaptools_warnings"] = before + [n for n in notes if n not in before]
    return notes
