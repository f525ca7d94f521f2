"""Reference data: national figures, gap-index series, DfE Progress 8 estimates.

Shipped as CSV files in ``gaptools/data`` (each with ``source`` and ``as_of``
columns; see PROVENANCE.md there). A user with newer figures points gaptools
at a folder of files with the same names and columns.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "data"
_override: Path | None = None


def set_reference_dir(path: str | Path | None) -> None:
    """Read reference files from ``path`` first (None: back to the shipped files)."""
    global _override
    _override = Path(path) if path is not None else None
    _read.cache_clear()


def reference_path(name: str) -> Path:
    """Where reference file ``name`` is read from."""
    for folder in (_override, os.environ.get("GAPTOOLS_REFERENCE_DIR")):
        if folder and (Path(folder) / name).is_file():
            return Path(folder) / name
    return PACKAGE_DIR / name


@lru_cache(maxsize=None)
def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig")


def read_reference(name: str) -> pd.DataFrame:
    """A copy of reference table ``name`` (e.g. ``"national.csv"``)."""
    return _read(reference_path(name)).copy()


def p8_estimates(year: int | None = None) -> tuple[int, pd.DataFrame]:
    """The DfE Progress 8 estimates for ``year`` or the latest year before it.

    Returns
    -------
    (int, DataFrame)
        The estimates' year and one row per prior-attainment group.
    """
    table = read_reference("p8_estimates.csv")
    years = sorted(table["year"].unique())
    usable = [y for y in years if year is None or y <= year] or years[:1]
    chosen = usable[-1]
    return int(chosen), table[table["year"] == chosen].sort_values("group").reset_index(drop=True)


def p8_sd(element: str = "progress8", year: int | None = None) -> float:
    """National pupil-level SD of a P8 element, for performance-table intervals."""
    table = read_reference("p8_stdev.csv")
    table = table[table["element"] == element]
    usable = table[table["year"] <= year] if year is not None else table
    row = (usable if len(usable) else table).sort_values("year").iloc[-1]
    return float(row["sd"])


def national_figures() -> pd.DataFrame:
    """National disadvantaged/other figures: key_stage, year, measure, group, value, source, as_of."""
    return read_reference("national.csv")


def national_gap_index() -> pd.DataFrame:
    """The DfE national disadvantage gap index series by key stage and year."""
    return read_reference("gap_index_national.csv")
