"""A staff list as an Excel workbook: a sheet per year group, ready to sort and filter.

The same cells as the CSV (:mod:`gaptools.io.spreadsheet`), with what a CSV
cannot carry: the heading row frozen, filters on every column, column widths
to fit, and numbers stored as numbers (so a filter on attendance below 90
works). Text from the data is escaped as in the CSV (:func:`safe_cell`) and
stored as text, never as a formula.
"""
from __future__ import annotations

import io
import re

import pandas as pd

from .spreadsheet import PLAIN_NUMBER, safe_cell

#: Widest a column is made (characters); longer text wraps.
MOST_WIDTH = 60
# Excel forbids these in a sheet's name; and a name is at most 31 characters.
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(value, taken: set[str]) -> str:
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    if text and PLAIN_NUMBER.fullmatch(text):
        text = f"Year {int(float(text))}" if float(text).is_integer() else f"Year {text}"
    name = _BAD_SHEET.sub("_", text or "Year group unknown").strip("'")[:31] or "Pupils"
    base, i = name, 2
    while name.lower() in taken:  # Excel's sheet names are unique without regard to case
        name = f"{base[:27]} ({i})"
        i += 1
    taken.add(name.lower())
    return name


def _cell_value(text: str, numeric: bool):
    """A number for a numeric column's plain number; otherwise the text made safe (see :func:`safe_cell`)."""
    if numeric and text and PLAIN_NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return safe_cell(text)


def workbook_bytes(table: pd.DataFrame, *, sheets_by: str | None = None, numeric=(),
                   title: str = "Pupils") -> bytes:
    """``table`` (text cells, readable headings) as an .xlsx file's bytes.

    Parameters
    ----------
    table : DataFrame
        The rows, in order; every cell text (as written to the CSV).
    sheets_by : str, optional
        A column whose values each get a sheet of their own (in the order of
        their first row; a row with none goes on a sheet "Year group unknown").
        None, or a column the table lacks: one sheet, named ``title``.
    numeric : iterable of str
        Columns whose plain numbers are stored as numbers (grades, scores,
        attendance); other cells stay text (a UPN keeps its leading zeros).
    title : str
        The sheet's name when there is one sheet.

    Returns
    -------
    bytes
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    numeric = set(numeric)
    columns = list(table.columns)
    if sheets_by in columns:
        keys = table[sheets_by].astype(object).where(table[sheets_by].notna(), "")
        groups = [(k, table[keys == k]) for k in pd.unique(keys)] or [(title, table)]
    else:
        groups = [(title, table)]
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for key, rows in groups:
        sheet = book.create_sheet(_sheet_name(key, taken) if sheets_by in columns and len(table) else title)
        sheet.append([safe_cell(c) for c in columns])
        for cell in sheet[1]:
            cell.data_type = "s"
            cell.font = Font(bold=True)
        for values in rows.itertuples(index=False):
            sheet.append([_cell_value("" if v is None else str(v), c in numeric) for c, v in zip(columns, values)])
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text from the data is never a formula, whatever it starts with
        for i, c in enumerate(columns, start=1):
            longest = max([len(str(c))] + [len(str(v)) for v in rows[c].astype(str)])
            sheet.column_dimensions[get_column_letter(i)].width = min(longest + 2, MOST_WIDTH)
            if longest > MOST_WIDTH:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
        if columns:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(rows) + 1, 1)}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
