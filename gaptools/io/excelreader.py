"""Read the first sheet of an Excel workbook (.xlsx, .xlsm), streamed within fixed bounds."""
from __future__ import annotations

import itertools
import operator
from pathlib import Path

import pandas as pd

from ..errors import Problem
from .tablebounds import MAX_CELLS, MAX_COLUMNS, MAX_SCANNED, MAX_XLSX_BYTES


def _cell_text(value) -> str:
    """An Excel cell as the text a CSV export would hold (whole numbers without '.0')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_excel_table(path: Path, name: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The first sheet of a workbook, read in streaming mode within fixed bounds.

    A small .xlsx can expand to gigabytes (a "zip bomb", or one cell far to the
    right on a million rows), so the uncompressed size, the width and the number
    of cells are checked before and while reading, never after.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        return None, [Problem(name, None, None, None,
                              f"could not be read as an Excel workbook (BadZipFile: {exc})")]
    if size > MAX_XLSX_BYTES:
        return None, [Problem(name, None, None, None,
                              f"the workbook expands to {size / 2**20:,.0f} MB, more than gaptools reads "
                              f"({MAX_XLSX_BYTES / 2**20:,.0f} MB); export it as CSV instead")]
    try:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True, keep_links=False)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # the stored dimensions may be wrong (or hostile)
            rows, cells, scanned, last = [], 0, 0, 0
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                # openpyxl pads each row up to its last cell, even an empty formatted one:
                # bound the cells looked at (time) as well as the cells kept (memory)
                scanned += len(row) + 1
                if scanned > MAX_SCANNED:
                    return None, [Problem(name, number, None, None,
                                          f"has more than {MAX_SCANNED:,} cells, counting empty formatted ones; "
                                          "export it as CSV instead")]
                if len(row) > MAX_COLUMNS:  # trim padding after a far empty cell at C speed, not cell by cell
                    filled = list(map(operator.is_not, row, itertools.repeat(None)))
                    row = row[:len(row) - filled[::-1].index(True)] if True in filled else ()
                text = [_cell_text(v) for v in row]
                while text and text[-1] == "":
                    text.pop()
                if len(text) > MAX_COLUMNS:
                    return None, [Problem(name, number, None, None,
                                          f"has a value in column {len(text):,}; gaptools reads at most "
                                          f"{MAX_COLUMNS:,} columns (is something far to the right?)")]
                cells += len(text)
                if cells > MAX_CELLS:
                    return None, [Problem(name, number, None, None,
                                          f"has more than {MAX_CELLS:,} cells; export it as CSV instead")]
                rows.append(text)
                if text:
                    last = number
        finally:
            book.close()
    except Exception as exc:  # openpyxl raises many kinds for a damaged or mislabelled file
        return None, [Problem(name, None, None, None,
                              f"could not be read as an Excel workbook ({type(exc).__name__}: {exc})")]
    rows = rows[:last]
    width = max((len(r) for r in rows), default=0)
    frame = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)
    return frame, []
