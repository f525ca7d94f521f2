"""Reference data: national figures, gap-index series, DfE Progress 8 estimates.

Shipped as CSV files in ``gaptools/data`` (each with ``source`` and ``as_of``
columns; see PROVENANCE.md there). The user's reference folder
(:func:`user_reference_dir`) may hold files of the same names and columns:
its ``national.csv`` adds to the shipped national figures (its rows win for the
same key stage, year, measure and group; ``gaptools reference import`` writes
it), and any other file there replaces the shipped one.
"""
from __future__ import annotations

import hashlib
import os
import sys
from functools import cache
from pathlib import Path

import pandas as pd

from .formatting import academic_year

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "data"
_override: Path | None = None


#: The columns of national.csv; a national figure is identified by the first four.
NATIONAL_COLUMNS = ["key_stage", "year", "measure", "group", "value", "definition", "source", "as_of"]
NATIONAL_KEY = ["key_stage", "year", "measure", "group"]


def set_reference_dir(path: str | Path | None) -> None:
    """Read reference files from ``path`` first (None: back to the user folder and shipped files)."""
    global _override
    _override = Path(path) if path is not None else None


def user_reference_dir() -> Path:
    """The user's reference folder: ``GAPTOOLS_REFERENCE_DIR`` if set, else under the user's data folder.

    The data folder is ``$XDG_DATA_HOME`` (default ``~/.local/share``), or
    ``%LOCALAPPDATA%`` on Windows; the reference folder is ``gaptools/reference`` in it.
    """
    chosen = os.environ.get("GAPTOOLS_REFERENCE_DIR")
    if chosen:
        return Path(chosen).expanduser()
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "gaptools" / "reference"


def _user_folders() -> list[Path]:
    """Folders searched before the shipped files, first one first."""
    return [f for f in (_override, user_reference_dir()) if f is not None]


def reference_path(name: str) -> Path:
    """Where reference file ``name`` is read from (the first user folder holding it, else the shipped file)."""
    for folder in _user_folders():
        if (folder / name).is_file():
            return folder / name
    return PACKAGE_DIR / name


@cache
def _read_version(path: Path, mtime_ns: int, size: int) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig")


def _read(path: Path) -> pd.DataFrame:
    # keyed by modification time and size too, so a file rewritten by
    # ``reference import`` is read again in the same process
    st = path.stat()
    return _read_version(path, st.st_mtime_ns, st.st_size)


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


def merge_national(base: pd.DataFrame, newer: pd.DataFrame) -> pd.DataFrame:
    """National figures from ``base`` and ``newer``; ``newer``'s row wins for the same key.

    The key is key stage, year, measure and group; the result is sorted by it.
    """
    frames = [f.reindex(columns=NATIONAL_COLUMNS) for f in (base, newer) if len(f)]
    if not frames:
        return pd.DataFrame(columns=NATIONAL_COLUMNS)
    both = pd.concat(frames, ignore_index=True)
    both["year"] = both["year"].astype("int64")
    both["value"] = pd.to_numeric(both["value"])
    both = both.drop_duplicates(NATIONAL_KEY, keep="last")
    return both.sort_values(NATIONAL_KEY, kind="stable").reset_index(drop=True)


def national_figures() -> pd.DataFrame:
    """National figures: key_stage, year, measure, group, value, definition, source, as_of.

    ``group`` is ``disadvantaged``, ``other`` (not disadvantaged) or ``all``
    (plus ``gap``, ``fsm``, ``not_fsm`` rows kept for reference). The shipped
    figures, then the user folders' ``national.csv`` (see
    :func:`user_reference_dir`), each winning over the ones before it for the
    same key stage, year, measure and group. An empty ``value`` means the
    figure is not published (the ``definition`` says why).
    """
    table = _read(PACKAGE_DIR / "national.csv")
    for folder in reversed(_user_folders()):
        if (folder / "national.csv").is_file():
            table = merge_national(table, _read(folder / "national.csv"))
    return table.copy()


def national_on_file(key_stage: str) -> str:
    """A sentence naming the years with national figures on file for ``key_stage``."""
    nat = national_figures()
    years = sorted(int(y) for y in nat.loc[(nat["key_stage"] == key_stage) & nat["value"].notna()
                                           & nat["group"].isin(["other", "all", "disadvantaged"]), "year"].unique())
    if not years:
        return f"none is on file for {key_stage}."
    return f"{key_stage} figures are on file for {', '.join(academic_year(y) for y in years)}."


def national_gap_index() -> pd.DataFrame:
    """The DfE national disadvantage gap index series by key stage and year."""
    return read_reference("gap_index_national.csv")


def reference_fingerprint() -> str:
    """A short hash of every reference file in use (shipped and the user's).

    Results computed with other national figures are stale: cached results
    and ``gaptools run --resume`` compare this.
    """
    h = hashlib.sha256()
    files = [reference_path(p.name) for p in sorted(PACKAGE_DIR.glob("*.csv"))]
    files += [f / "national.csv" for f in _user_folders() if (f / "national.csv").is_file()]
    for path in files:  # by name and content, not where gaptools is installed: a reinstall is the same data
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]
