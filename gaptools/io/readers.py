"""Read pupil tables from CSV, Excel and Parquet files, as exported in the wild.

Every cell of a text or Excel file is read as text so that nothing is guessed
(leading zeros, 'N/A', dates) before the column parsers see it. Problems that
stop a file being read at all come back as :class:`~gaptools.errors.Problem`.

Files are hostile until read: nothing is skipped or changed quietly (a quote
that never closes, a NUL character, a row too wide are errors at their line;
mixed encodings and values over several lines are warnings naming the lines),
nothing raises, and what one file may cost is bounded before it is spent
(uncompressed workbook size, columns, cells; Parquet rows; only ordinary files).

This module picks the reader by the file's suffix and takes the header; each
kind of file has a module of its own: :mod:`.textreader` (CSV and other text,
its decoding and the row-by-row reading that locates faults),
:mod:`.excelreader` (a workbook streamed within bounds), :mod:`.parquetreader`,
and :mod:`.tablebounds` (the bounds themselves).
"""
from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Problem, shorten
from .excelreader import read_excel_table
from .parquetreader import read_parquet_table
from .tablebounds import (
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_PARQUET_BYTES,
    MAX_PARQUET_CELLS,
    MAX_SCANNED,
    MAX_XLSX_BYTES,
)
from .textreader import DELIMITERS, LINES_ATTR, NOTES_ATTR, decode, line_list, read_text_table

#: (the names of the readers of each kind of file are imported from here by other modules and scripts)
__all__ = ["read_table", "table_files", "line_numbers", "line_list", "decode", "read_text_table", "read_excel_table",
           "read_parquet_table", "TEXT_SUFFIXES", "EXCEL_SUFFIXES", "PARQUET_SUFFIXES", "TABLE_SUFFIXES",
           "DELIMITERS", "LINES_ATTR", "NOTES_ATTR", "MAX_XLSX_BYTES", "MAX_COLUMNS", "MAX_CELL_CHARS", "MAX_CELLS",
           "MAX_SCANNED", "MAX_PARQUET_BYTES", "MAX_PARQUET_CELLS"]

TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
TABLE_SUFFIXES = TEXT_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES


def table_files(folder: Path) -> list[Path]:
    """The table files in ``folder`` (not hidden files, Office lock files or notes)."""
    return sorted(
        p for p in folder.iterdir()
        if not p.is_dir() and p.suffix.lower() in TABLE_SUFFIXES | {".xls"}
        and not p.name.startswith((".", "~$"))
    )


def line_numbers(frame: pd.DataFrame) -> np.ndarray:
    """The line of the file each row of a table from :func:`read_table` came from.

    Row ``i`` is line ``i + 2`` unless a quoted value runs over several lines.
    """
    lines = frame.attrs.get(LINES_ATTR)
    return np.asarray(lines) if lines is not None else np.arange(2, len(frame) + 2)


def read_table(path: Path, name: str | None = None, *,
               lenient: bool = False) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one file as a table of (mostly) text cells.

    Parameters
    ----------
    path : Path
        A .csv/.txt/.tsv, .xlsx/.xlsm or .parquet file.
    name : str, optional
        How the file is named in messages (default: the path as given).
    lenient : bool
        Also return the table of a text file whose only faults are rows with more cells
        than the header (each cut to the header's width; every one still a Problem), so
        that a trust-wide file's faulty rows can be told apart by school.

    Returns
    -------
    (DataFrame or None, list of Problem)
        Row ``i`` of the frame is line ``i + 2`` of the file (the header is line 1)
        unless a quoted value runs over several lines: :func:`line_numbers` gives
        each row's line. ``frame.attrs["gaptools_notes"]`` holds warnings (text)
        about data that was read correctly but deserves a look.

    Nothing here raises for a bad file: whatever stops it being read comes back
    as a Problem naming the file.
    """
    name = name or str(path)
    try:
        return _read_table(path, name, lenient)
    except MemoryError:
        return None, [Problem(name, None, None, None, "is too large to read in the memory available")]
    except Exception as exc:  # a file no reader foresaw must still get a message, never a traceback
        return None, [Problem(name, None, None, None,
                              f"could not be read ({type(exc).__name__}: {shorten(exc)})")]


def _read_table(path: Path, name: str, lenient: bool = False) -> tuple[pd.DataFrame | None, list[Problem]]:
    if path.is_symlink():  # (one found in a DATA folder: gaptools.io.loading.sources resolves a DATA that is one)
        return None, [Problem(name, None, None, None,
                              "is a symbolic link; gaptools reads only files in the data folder itself, never "
                              "through a link (copy the file in, or name it as the data)")]
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return None, [Problem(name, None, None, None, f"could not be read ({exc.strerror})")]
    if not stat.S_ISREG(mode):  # a FIFO or device would block or never end
        return None, [Problem(name, None, None, None,
                              "is not an ordinary file (a pipe, device or folder); gaptools reads only files")]
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        frame, problems = read_excel_table(path, name)
    elif suffix in PARQUET_SUFFIXES:
        frame, problems = read_parquet_table(path, name)
    elif suffix in TEXT_SUFFIXES:
        frame, problems = read_text_table(path, name, lenient)
    elif suffix == ".xls":
        return None, [Problem(name, None, None, None,
                              "old-style .xls workbooks are not read; save it as .xlsx or CSV")]
    else:
        return None, [Problem(name, None, None, None,
                              f"'{suffix or path.name}' files are not read; use CSV, .xlsx or Parquet")]
    if frame is None:
        return None, problems
    if suffix not in PARQUET_SUFFIXES:
        if frame.empty:
            return None, [Problem(name, None, None, None, "the file is empty")]
        frame = _take_header(frame)
    frame.columns = [str(c) for c in frame.columns]
    if len(frame.columns) == 0:
        return None, [Problem(name, None, None, None, "the file is empty")]
    return frame, problems


def _take_header(frame: pd.DataFrame) -> pd.DataFrame:
    """Use row 0 as the header, keeping duplicate names as they are (pandas would rename them)."""
    header = [str(c).replace("\ufeff", "").strip() for c in frame.iloc[0]]
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = header
    body.attrs = dict(frame.attrs)
    return body
