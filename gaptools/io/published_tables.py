"""Read the DfE's school performance tables as published (tidy, withheld cells kept)."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .readers import decode

GROUP_SUFFIXES = (("_NotFSM6CLA1A", "other"), ("_NFSM6CLA1A", "other"), ("_FSM6CLA1A", "disadvantaged"))


COUNT_COLUMNS = {"TFSM6CLA1A": ("pupils", "disadvantaged"), "TNotFSM6CLA1A": ("pupils", "other"),
                 "TNFSM6CLA1A": ("pupils", "other"), "PTFSM6CLA1A": ("share_disadvantaged", "all"),
                 "TELIG": ("pupils", "all"),
                 # prior attainment of the cohort, for similar schools (KS2: KS1 average; KS4: KS2 average)
                 "TKS1AVERAGE": ("TKS1AVERAGE", "all"), "KS2APS": ("KS2APS", "all")}


WITHHELD_CODES = {
    "SUPP": "suppressed (small group)", "NE": "no entries", "NA": "not applicable", "NP": "not published",
    "LOWCOV": "low coverage", "DNS": "did not submit", "X": "unavailable", "C": "confidential",
    "Z": "not applicable", "LOW": "rounds to zero", "U": "low reliability", "NEW": "new school", "": "blank",
}


LEVELS = {"1": "school", "2": "special school", "3": "local authority", "4": "national", "5": "national state-funded"}


TIDY_COLUMNS = ["urn", "school_name", "la", "rectype", "level", "key_stage", "year", "measure", "group",
                "value", "lower", "upper", "unit", "status", "source"]


#: Headline measures per key stage, for comparisons and charts.
HEADLINE = {"KS2": "PTRWM_EXP", "KS4": "ATT8SCR"}


PROGRESS = {"KS2": ("READPROG", "WRITPROG", "MATPROG"), "KS4": ("P8MEA",)}


def _year_from_name(name: str) -> int | None:
    m = re.search(r"(20\d\d)[-_](\d{2,4})?", name)
    if not m:
        return None
    first = int(m.group(1))
    # '2018-850-ks2.csv' names the first calendar year of 2018/19; '2018-2019' names both
    return first + 1


def _parse_cell(text: str | None):
    """(value, unit, status) for one published cell."""
    if text is None:
        return np.nan, None, "missing (short row)"
    t = text.strip()
    if t.upper() in WITHHELD_CODES:
        return np.nan, None, t.upper() or "blank"
    pct = t.endswith("%")
    try:
        return float(t.rstrip("%").replace(",", "")), ("%" if pct else None), "ok"
    except ValueError:
        return np.nan, None, f"unreadable: {t[:20]}"


def read_performance_table(path, *, year: int | None = None, key_stage: str | None = None) -> pd.DataFrame:
    """One DfE performance-table CSV as a tidy table.

    Parameters
    ----------
    path : path
        The CSV, as downloaded.
    year : int, optional
        The summer the results belong to; default from the file name
        (``2018-850-ks2.csv`` is 2018/19, so 2019).
    key_stage : str, optional
        Default from the file name or columns (``ks2``/``ks4``).

    Returns
    -------
    DataFrame
        ``urn, school_name, la, rectype, level, key_stage, year, measure, group
        (disadvantaged/other/all), value, lower, upper, unit, status, source``.
        ``status`` is ``ok`` or the withheld reason (``SUPP``, ``NE``, ``LOWCOV``,
        ``blank`` ...); ``value`` is missing wherever ``status`` is not ``ok``.
    """
    path = Path(path)
    text, _ = decode(path.read_bytes())
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip().lstrip("\ufeff") for h in rows[0]]
    year = year or _year_from_name(path.name)
    if year is None:
        raise ValueError(f"{path}: give the results year (it is not in the file name)")
    if key_stage is None:
        lower = path.name.lower()
        key_stage = "KS4" if "ks4" in lower or "ATT8SCR" in header else "KS2"
    idx = {h: i for i, h in enumerate(header)}
    # measure columns: base -> {group: column}, and interval columns
    specs = []
    for h in header:
        if h.endswith(("_LOWER", "_UPPER")):
            continue
        if h in COUNT_COLUMNS:
            specs.append((h, *COUNT_COLUMNS[h]))
            continue
        for suffix, group in GROUP_SUFFIXES:
            if h.endswith(suffix):
                base = h[: -len(suffix)]
                specs.append((h, base, group))
                if base in idx and not any(s[0] == base for s in specs):
                    specs.append((base, base, "all"))
                break
    out = []
    for row in rows[1:]:
        if not row or not any(c.strip() for c in row):
            continue
        get = lambda col, row=row: row[idx[col]] if col in idx and idx[col] < len(row) else None  # noqa: E731
        rectype = (get("RECTYPE") or "").strip()
        common = {"urn": (get("URN") or "").strip() or None, "school_name": (get("SCHNAME") or "").strip() or None,
                  "la": (get("LEA") or "").strip() or None, "rectype": rectype,
                  "level": LEVELS.get(rectype, rectype), "key_stage": key_stage, "year": year,
                  "source": path.name}
        for col, measure, group in specs:
            value, unit, status = _parse_cell(get(col))
            lo, _, _ = _parse_cell(get(col + "_LOWER")) if col + "_LOWER" in idx else (np.nan, None, None)
            hi, _, _ = _parse_cell(get(col + "_UPPER")) if col + "_UPPER" in idx else (np.nan, None, None)
            out.append({**common, "measure": measure, "group": group, "value": value, "lower": lo,
                        "upper": hi, "unit": unit, "status": status})
    frame = pd.DataFrame(out, columns=TIDY_COLUMNS)
    # a percentage column keeps its unit on withheld rows too
    units = frame.dropna(subset=["unit"]).groupby("measure")["unit"].first()
    frame["unit"] = frame["measure"].map(units)
    return frame


def read_performance_tables(paths) -> pd.DataFrame:
    """Several performance-table CSVs (files or folders of ``*.csv``) as one tidy table."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = []
    for p in map(Path, paths):
        files += sorted(f for f in p.glob("*.csv") if not f.name.endswith("_meta.csv")
                        and "codes_meta" not in f.name) if p.is_dir() else [p]
    if not files:
        raise FileNotFoundError(f"no performance-table CSV files in {paths}")
    return pd.concat([read_performance_table(f) for f in files], ignore_index=True)
