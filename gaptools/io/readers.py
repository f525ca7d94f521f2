"""Read pupil tables from CSV, Excel and Parquet files, as exported in the wild.

Every cell of a text or Excel file is read as text so that nothing is guessed
(leading zeros, 'N/A', dates) before the column parsers see it. Problems that
stop a file being read at all come back as :class:`~gaptools.errors.Problem`.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ..errors import Problem

TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
TABLE_SUFFIXES = TEXT_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES
DELIMITERS = (",", ";", "\t", "|")


def table_files(folder: Path) -> list[Path]:
    """The table files in ``folder`` (not hidden files, Office lock files or notes)."""
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES | {".xls"}
        and not p.name.startswith((".", "~$"))
    )


def decode(raw: bytes) -> tuple[str, str]:
    """Decode an export: UTF-16 (with BOM), UTF-8 (with or without BOM), else Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _ragged_lines(text: str, sep: str, width: int, name: str) -> list[Problem]:
    """Rows with more cells than the header, found with the csv module."""
    problems = []
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    next(reader, None)
    for row in reader:
        if len(row) > width:
            extra = [c for c in row[width:] if c.strip()]
            if extra:
                problems.append(Problem(
                    name, reader.line_num, None, sep.join(row)[:80],
                    f"has {len(row)} cells but the header has {width} "
                    "(a stray delimiter or an unquoted comma in a value?)"))
    return problems


def read_text_table(path: Path, name: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    raw = path.read_bytes()
    if not raw.strip():
        return None, [Problem(name, None, None, None, "the file is empty")]
    text, _ = decode(raw)
    if "\x00" in text[:4096]:
        return None, [Problem(name, None, None, None,
                              "is not a text table (it holds binary data); export it as CSV, .xlsx or Parquet")]
    first = text.lstrip("\r\n").split("\n", 1)[0]
    sep = _delimiter(first)
    width = len(next(csv.reader([first], delimiter=sep)))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_filter=False, skip_blank_lines=False, engine="c", header=None)
    except pd.errors.ParserError:
        frame = None
    except (pd.errors.EmptyDataError, UnicodeError, ValueError) as exc:
        return None, [Problem(name, None, None, None, f"could not be read as a table: {exc}")]
    if frame is None:
        problems = _ragged_lines(text, sep, width, name)
        if problems:
            return None, problems
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_filter=False, skip_blank_lines=False, engine="python",
                            on_bad_lines="skip", header=None)
    return frame, []


def read_excel_table(path: Path, name: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    try:
        frame = pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False,
                              na_filter=False, engine="openpyxl", header=None)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or mislabelled file
        return None, [Problem(name, None, None, None,
                              f"could not be read as an Excel workbook ({type(exc).__name__}: {exc})")]
    return frame, []


def read_parquet_table(path: Path, name: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
        return None, [Problem(name, None, None, None,
                              f"could not be read as a Parquet file ({type(exc).__name__}: {exc})")]
    return frame, []


def read_table(path: Path, name: str | None = None) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one file as a table of (mostly) text cells.

    Parameters
    ----------
    path : Path
        A .csv/.txt/.tsv, .xlsx/.xlsm or .parquet file.
    name : str, optional
        How the file is named in messages (default: the path as given).

    Returns
    -------
    (DataFrame or None, list of Problem)
        Row ``i`` of the frame is line ``i + 2`` of the file (the header is line 1).
    """
    name = name or str(path)
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        frame, problems = read_excel_table(path, name)
    elif suffix in PARQUET_SUFFIXES:
        frame, problems = read_parquet_table(path, name)
    elif suffix in TEXT_SUFFIXES:
        frame, problems = read_text_table(path, name)
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
    return body
