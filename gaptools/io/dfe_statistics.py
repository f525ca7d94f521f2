"""National figures from the DfE's statistics files (the statistics service's tidy CSVs).

A national "characteristics" file has a row per time period and filter
combination: ``time_period`` (202425 = academic year 2024/25, results year
2025), ``time_identifier``, ``geographic_level`` ("National", "Regional", ...),
then filter columns (``breakdown_topic``, ``breakdown``, ``disadvantage_status``
with "Disadvantaged", "Disadvantaged all other" and "Total", ...), then
indicator columns. :func:`read_national_file` takes the national rows for
disadvantaged, other and all pupils (every other filter at its total) and
returns them as rows of ``national.csv``; :func:`import_national_files` adds
them to the user's reference folder.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..domain.reference import NATIONAL_COLUMNS, merge_national, user_reference_dir
from ..errors import DataValidationError, Problem
from .files import atomic_write_text
from .readers import read_table

#: gaptools measure -> (key stage, indicator names: the 2024/25 name first, then older ones,
#: whether the file gives it as a percentage, the range a value must lie in).
INDICATORS = {
    "attainment8": ("KS4", ("attainment8_average", "avg_att8"), False, (0.0, 90.0)),
    "basics_4plus": ("KS4", ("engmath_94_percent", "pt_l2basics_94"), True, (0.0, 100.0)),
    "basics_5plus": ("KS4", ("engmath_95_percent", "pt_l2basics_95"), True, (0.0, 100.0)),
    "progress8": ("KS4", ("progress8_average", "avg_p8score"), False, (-10.0, 10.0)),
    "rwm_expected": ("KS2", ("expected_standard_pupil_percent", "pt_rwm_met_expected_standard"), True,
                     (0.0, 100.0)),
    "rwm_higher": ("KS2", ("higher_standard_pupil_percent", "pt_rwm_met_higher_standard"), True, (0.0, 100.0)),
}
#: The DfE's symbols for a figure that is not available (never zero).
SYMBOLS = {"c": "confidential (suppressed)", "x": "not available", "z": "not applicable",
           "low": "rounds to zero but is not zero", "u": "low reliability"}
REQUIRED = ("time_period", "time_identifier", "geographic_level")
#: Columns that say where or which release, not which pupils.
NOT_FILTERS = {"time_period", "time_identifier", "geographic_level", "version"}
#: Columns naming the pupils' disadvantage status, first found is used.
GROUP_COLUMNS = ("disadvantage_status", "disadvantage", "breakdown")
GROUP_WORDS = {
    "disadvantaged": "disadvantaged",
    "disadvantaged all other": "other", "all other": "other", "not disadvantaged": "other",
    "non-disadvantaged": "other", "all other pupils": "other", "other": "other",
    "total": "all", "all pupils": "all", "all": "all",
}
#: A filter at one of these values covers every pupil.
TOTAL_WORDS = {"total", "all", "all pupils", "all state-funded", "all state-funded schools", "state-funded",
               "all schools", "all establishments"}


@dataclass
class NationalFile:
    """What one DfE file gave: ``figures`` (rows of national.csv) and what was left out."""

    name: str
    figures: pd.DataFrame
    not_national: dict[str, int] = field(default_factory=dict)
    other_breakdowns: int = 0


def _norm(text) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().lower()


def _results_year(text: str) -> int | None:
    """202425 -> 2025 (the summer the results belong to); None if not an academic year."""
    m = re.fullmatch(r"(\d{4})(\d{2})", text.strip())
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        return None
    return int(m.group(1)) + 1


def _indicator_columns(columns: list[str]) -> dict[str, str]:
    """gaptools measure -> the file's column for it (the 2024/25 name if both are there)."""
    present = {_norm(c): c for c in columns}
    found = {}
    for measure, (_, names, _, _) in INDICATORS.items():
        for name in names:
            if name in present:
                found[measure] = present[name]
                break
    return found


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _covers_everyone(column: str, value: str, group_value: str) -> bool:
    """Whether a filter at ``value`` keeps every pupil of the row's disadvantage group."""
    v = _norm(value)
    if v in TOTAL_WORDS or v == _norm(group_value):
        return True
    if _norm(column) == "breakdown_topic":
        return "disadvantage" in v
    return False


def _subject_rows(frame: pd.DataFrame) -> pd.Series:
    """KS2 files split by subject: reading, writing and maths combined is the RWM row."""
    if "subject" not in [_norm(c) for c in frame.columns]:
        return pd.Series(True, index=frame.index)
    col = next(c for c in frame.columns if _norm(c) == "subject")
    s = frame[col].map(_norm)
    return s.str.contains("reading") & s.str.contains("writing") & s.str.contains("math") | s.isin(TOTAL_WORDS)


def read_national_file(path: str | Path, *, imported: str | None = None) -> NationalFile:
    """The national figures in one DfE statistics file.

    Parameters
    ----------
    path : str or Path
        A CSV as downloaded from the DfE statistics service: either indicator
        naming (``attainment8_average`` or ``avg_att8``, ...).
    imported : str, optional
        The ``as_of`` date to record (default: today, ISO format): the file
        does not say when it was published, so the day it was imported.

    Returns
    -------
    NationalFile
        ``figures`` has the national.csv columns: one row per key stage, results
        year, measure and group (``disadvantaged``, ``other``, ``all``); a
        figure the file marks ``c``, ``x``, ``z``, ``low`` or ``u`` has an
        empty value and says so in ``definition``.

    Raises
    ------
    DataValidationError
        The file is not in this layout, or a value is neither a number nor a
        DfE symbol: every problem with file, line, column and value.
    """
    path = Path(path)
    name = str(path)
    frame, problems = read_table(path, name)
    if frame is None:
        raise DataValidationError(problems, what="the DfE statistics file")
    if problems:
        raise DataValidationError(problems, what="the DfE statistics file")
    by_norm = {_norm(c): c for c in frame.columns}
    missing = [c for c in REQUIRED if c not in by_norm]
    if missing:
        raise DataValidationError([Problem(
            name, 1, None, None,
            f"has no {', '.join(missing)} column: not a DfE statistics service file (expected the tidy layout "
            "with time_period, time_identifier, geographic_level, filter columns, then indicators)")],
                                  what="the DfE statistics file")
    indicators = _indicator_columns(list(frame.columns))
    if not indicators:
        known = ", ".join(f"{names[0]} (or {', '.join(names[1:])})" for _, names, _, _ in INDICATORS.values())
        raise DataValidationError([Problem(
            name, 1, None, None, f"has none of the indicator columns gaptools reads: {known}")],
                                  what="the DfE statistics file")
    group_col = next((by_norm[c] for c in GROUP_COLUMNS if c in by_norm), None)
    if group_col is None:
        raise DataValidationError([Problem(
            name, 1, None, None,
            "has no disadvantage_status (or breakdown) column saying which pupils each row is about "
            "('Disadvantaged', 'Disadvantaged all other', 'Total')")], what="the DfE statistics file")
    version_col = by_norm.get("version")
    period_col, ident_col, level_col = (by_norm[c] for c in REQUIRED)
    level = frame[level_col].map(_norm)
    national = level == "national"
    # filters hold words ("Total", "Boys"); indicators only numbers and symbols (the
    # file's other indicators, e.g. pupil counts, are not filters)
    filters = [c for c in frame.columns if _norm(c) not in NOT_FILTERS and c != group_col
               and c not in indicators.values() and not _norm(c).endswith(("_code", "_name"))
               and _norm(c) != "subject" and _has_words(frame.loc[national, c])]
    not_national = frame.loc[~national, level_col].value_counts().to_dict()
    problems = []
    rows: dict[tuple, dict] = {}
    other_breakdowns = 0
    subject_ok = _subject_rows(frame)
    as_of = imported or dt.date.today().isoformat()
    for i in frame.index[national]:
        line = i + 2
        group = GROUP_WORDS.get(_norm(frame.at[i, group_col]))
        # other filters (sex, school type, ...) must be at their total for a national figure
        narrower = [c for c in filters if not _covers_everyone(c, frame.at[i, c], frame.at[i, group_col])]
        if group is None or narrower or not subject_ok[i]:
            other_breakdowns += 1
            continue
        period = str(frame.at[i, period_col])
        year = _results_year(period)
        if year is None:
            problems.append(Problem(name, line, period_col, period,
                                    "is not an academic year written as the DfE does (e.g. 202425 for 2024/25)"))
            continue
        if _norm(frame.at[i, ident_col]) != "academic year":
            problems.append(Problem(name, line, ident_col, str(frame.at[i, ident_col]),
                                    "should be 'Academic year': attainment figures are for academic years"))
            continue
        version = str(frame.at[i, version_col]).strip() if version_col else ""
        for measure, col in indicators.items():
            ks, _, percent, (low, high) = INDICATORS[measure]
            raw = str(frame.at[i, col]).strip()
            if _norm(raw) in SYMBOLS:
                value, definition = math.nan, f"not available in the file ('{_norm(raw)}': {SYMBOLS[_norm(raw)]})"
            elif _is_number(raw.replace(",", "")):
                value = float(raw.replace(",", ""))
                if not low <= value <= high:
                    problems.append(Problem(name, line, col, raw, f"is outside {low:g} to {high:g}"))
                    continue
                value = value / 100 if percent else value
                definition = "all pupils" if group == "all" else "disadvantaged vs other pupils"
            else:
                problems.append(Problem(
                    name, line, col, raw,
                    "is neither a number nor a DfE symbol for a figure that is not available "
                    "(c, x, z, low, u)"))
                continue
            key = (ks, year, measure, group)
            if key in rows and not _same(rows[key]["value"], value):
                first = rows[key]["_line"]
                problems.append(Problem(
                    name, line, col, raw,
                    f"a second national {measure} figure for {group} pupils in {year} (line {first} gives "
                    f"another): the file has a filter gaptools does not know; keep only the rows for all pupils"))
                continue
            source = f"DfE statistics service file {path.name}{f' ({version})' if version else ''}"
            rows[key] = {"key_stage": ks, "year": year, "measure": measure, "group": group, "value": value,
                         "definition": definition, "source": source, "as_of": as_of, "_line": line}
    if not rows and not problems:
        problems.append(Problem(
            name, None, None, None,
            f"has no national row for disadvantaged, other or all pupils ({level_col} 'National', {group_col} "
            "'Disadvantaged', 'Disadvantaged all other' or 'Total', every other filter 'Total')"))
    if problems:
        raise DataValidationError(problems, what="the DfE statistics file")
    figures = pd.DataFrame([{k: v for k, v in r.items() if k != "_line"} for r in rows.values()],
                           columns=NATIONAL_COLUMNS)
    return NationalFile(name, figures, not_national, other_breakdowns)


def _has_words(values: pd.Series) -> bool:
    """Whether a column holds any text other than numbers and DfE symbols."""
    return any(v.strip() and _norm(v) not in SYMBOLS and not _is_number(v.replace(",", ""))
               for v in values.astype(str))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def import_national_files(paths, folder: str | Path | None = None, *, imported: str | None = None
                          ) -> tuple[Path, list[NationalFile]]:
    """Add the national figures of DfE statistics files to the user's reference folder.

    Every file is read first; nothing is written unless all of them are valid.
    The figures go into ``national.csv`` in ``folder`` (default
    :func:`gaptools.domain.reference.user_reference_dir`), replacing any figure
    there for the same key stage, year, measure and group; the shipped figures
    are never changed, and the user's win over them.

    Returns
    -------
    (Path, list of NationalFile)
        The file written, and what each input gave.

    Raises
    ------
    DataValidationError
        Every problem in every file (nothing is written).
    """
    read, problems = [], []
    for p in paths:
        try:
            read.append(read_national_file(p, imported=imported))
        except DataValidationError as err:
            problems += err.problems
    if problems:
        raise DataValidationError(problems, what="the DfE statistics file")
    folder = Path(folder) if folder is not None else user_reference_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "national.csv"
    table = pd.read_csv(target, encoding="utf-8-sig") if target.is_file() else pd.DataFrame(columns=NATIONAL_COLUMNS)
    for f in read:
        table = merge_national(table, f.figures)
    atomic_write_text(target, table.to_csv(index=False, lineterminator="\n"))
    return target, read
