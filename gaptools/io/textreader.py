"""Read a text (CSV) table: its encoding, its delimiter, and every fault located at its line.

The fast parser reads a well-formed file; a file it refuses is read again row
by row to name the line of every fault (a quote that never closes, a row too
wide). Mixed encodings, bytes that are no character and values over several
lines are read and named in warnings; a NUL, binary data or a cell beyond
:data:`~gaptools.io.tablebounds.MAX_CELL_CHARS` stop the file with a problem.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Problem, shorten
from .tablebounds import MAX_CELL_CHARS, MAX_COLUMNS

DELIMITERS = (",", ";", "\t", "|")
#: ``DataFrame.attrs`` keys: each row's line in the file, and warnings found while reading.
LINES_ATTR, NOTES_ATTR = "gaptools_lines", "gaptools_notes"
_BINARY = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_C1 = re.compile("[\x80-\x9f]")


def decode(raw: bytes) -> tuple[str, str]:
    """Decode an export: UTF-16 (with BOM), UTF-8 (with or without BOM), else Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    # The five bytes Windows-1252 leaves undefined become the control character of the same
    # number (as latin-1 reads them) instead of turning the whole file into latin-1, which
    # would change every curly quote and euro sign; the reader then names their lines.
    return raw.decode("cp1252", errors=_UNDEFINED_BYTE), "windows-1252"


def _undefined_as_latin1(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)  # registered for decoding only (codecs types handlers for any)
    return err.object[err.start:err.end].decode("latin-1"), err.end


_UNDEFINED_BYTE = "gaptools.cp1252-undefined"
codecs.register_error(_UNDEFINED_BYTE, _undefined_as_latin1)


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def line_list(lines, limit: int = 10) -> str:
    """Line numbers for a message: 'lines 3, 5, 9' (the first ``limit``, then how many more)."""
    lines = list(lines)
    shown = ", ".join(str(n) for n in lines[:limit])
    more = f" and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"line{'s' if len(lines) != 1 else ''} {shown}{more}"


def _decode_by_line(raw: bytes) -> tuple[str, str | None]:
    """Decode a file that is not UTF-8 as a whole, line by line where it mixes encodings.

    Returns the text and, for a file mixing UTF-8 and Windows-1252 lines (two
    exports pasted together), a warning naming the lines in each encoding. A
    Windows-1252 line that happens to be valid UTF-8 is vanishingly rare, so
    each line read in its own encoding is read correctly.
    """
    text, encoding = decode(raw)
    if encoding != "windows-1252":
        return text, None
    utf8, legacy, out = [], [], []
    for number, line in enumerate(raw.splitlines(keepends=True), start=1):
        if line.isascii():
            out.append(line.decode("ascii"))
            continue
        try:
            out.append(line.decode("utf-8"))
            utf8.append(number)
        except UnicodeDecodeError:
            out.append(line.decode("cp1252", errors=_UNDEFINED_BYTE))
            legacy.append(number)
    if not utf8:
        return text, None
    text = "".join(out)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, (f"mixes two text encodings: UTF-8 on {line_list(utf8)}, {encoding.capitalize()} on "
                  f"{line_list(legacy)}; each line was read in its own encoding, but check accented "
                  "names on those lines and save the file again as UTF-8")


def _is_binary(text: str) -> bool:
    """A NUL near the start, or control characters (other than tab, line breaks, form feed) in 5% of it.

    Random bytes are about 11% control characters; text, even text carrying a
    few hostile escape sequences, far fewer.
    """
    sample = text[:65536]
    controls = len(_BINARY.findall(sample))
    return controls > max(8, len(sample) // 20) or "\x00" in sample[:4096]


def _nul_problems(text: str, sep: str, header: list[str], name: str) -> list[Problem]:
    """Every line holding a NUL character (up to 20), with its column: such a file is damaged."""
    problems: list[Problem] = []
    pos = text.find("\x00")
    while pos >= 0 and len(problems) < 20:
        start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text.count("\n", 0, pos) + 1
        cells = text[start:pos].split(sep)  # (a quoted delimiter may shift the column named: good enough)
        column = header[len(cells) - 1] if 0 < len(cells) <= len(header) else f"#{len(cells)}"
        problems.append(Problem(name, line, column, text[start:end].split(sep)[len(cells) - 1] if cells else None,
                                "holds a NUL character (binary data inside a text file): the file is damaged "
                                "or was not exported as text; export it again"))
        pos = text.find("\x00", end)
    return problems


def _read_with_csv(text: str, sep: str, width: int, name: str, parser_error: str,
                   lenient: bool = False) -> tuple[list[list[str]] | None, list[int], list[Problem]]:
    """Read a file the fast parser refused, row by row, locating every fault.

    Rows with more cells than the header are kept when the extra cells are
    empty (a trailing delimiter) and reported otherwise; a quote that never
    closes is reported at the line where it opens. Nothing is skipped. The rows
    come back only when nothing is wrong, or, if ``lenient``, when every fault is
    a row too wide (each cut to the header's width and reported): the caller can
    then tell which school such a row belongs to.
    """
    problems: list[Problem] = []
    fatal = False  # a fault after which the rows cannot be trusted (the rest of the file misread)
    rows, starts = [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    start = 1
    try:
        for row in reader:
            if len(row) > width:
                if any(c.strip() for c in row[width:]):
                    problems.append(Problem(
                        name, start, None, shorten(sep.join(row), 80),
                        f"has {len(row)} cells but the header has {width} "
                        "(a stray delimiter or an unquoted comma in a value?)"))
                row = row[:width]
            rows.append(row + [""] * (width - len(row)))
            starts.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        fatal = True
        problems.append(Problem(name, start, None, None, f"could not be read as CSV from this line: {exc}"))
    if "EOF inside string" in parser_error and rows:
        fatal = True
        last = rows[-1]
        filled = [i for i, c in enumerate(last) if c != ""]
        col = filled[-1] if filled else 0
        header = rows[0]
        problems.append(Problem(
            name, starts[-1], header[col] if col < len(header) and len(rows) > 1 else None, None,
            "a quote (\") opens here and never closes, so the rest of the file would be read as one value; "
            "remove the stray quote or close it"))
    if not problems and not rows:
        problems.append(Problem(name, None, None, None, f"could not be read as a table: {parser_error}"))
    return (None if problems and (fatal or not lenient or not rows) else rows), starts, problems


def _long_cells(text: str, sep: str, header: list[str], name: str) -> list[Problem]:
    """Every cell (up to 20) longer than :data:`MAX_CELL_CHARS`, located: only lines that long are split."""
    lines = text.split("\n")
    if max(map(len, lines), default=0) <= MAX_CELL_CHARS:  # (the usual case: one pass at C speed)
        return []
    problems = []
    for number, line in enumerate(lines, start=1):
        if len(line) <= MAX_CELL_CHARS:
            continue
        for i, cell in enumerate(line.split(sep)):
            if len(cell) > MAX_CELL_CHARS:
                column = header[i] if i < len(header) and number > 1 else f"#{i + 1}"  # (a header: its place)
                problems.append(Problem(name, number, column, None,
                                        f"holds a value of {len(cell):,} characters; a cell of a pupil table "
                                        f"holds at most {MAX_CELL_CHARS:,} (is the file damaged, or a note "
                                        "pasted into a cell?)"))
        if len(problems) >= 20:
            break
    return problems[:20]


def _multiline_note(frame: pd.DataFrame, lines: np.ndarray, name: str) -> str | None:
    """A warning naming the rows whose quoted values run over several lines."""
    ends = np.append(lines[1:], -1)
    spans = [(int(a), int(b) - 1) for a, b in zip(lines, ends) if b > a + 1]
    if not spans:
        return None
    shown = ", ".join(f"{a}-{b}" for a, b in spans[:10])
    more = f" and {len(spans) - 10} more" if len(spans) > 10 else ""
    return (f"{name}: a quoted value runs over several lines at lines {shown}{more}; each is read as one "
            "row. If a quote was left open by mistake, fix it and validate again")


#: A text of at least this many characters is parsed in blocks of rows, with a progress bar on a terminal.
PROGRESS_FROM = 10_000_000
BLOCK_ROWS = 100_000


def _parse(text: str, sep: str, name: str) -> pd.DataFrame:
    """The fast parser's table of text cells (header row included); a large text is read in blocks of
    :data:`BLOCK_ROWS` rows, showing on a terminal how much is read (the same table either way)."""
    options = {"sep": sep, "dtype": str, "keep_default_na": False, "na_filter": False, "skip_blank_lines": False,
               "engine": "c", "header": None}
    if len(text) < PROGRESS_FROM:
        return pd.read_csv(io.StringIO(text), **options)
    import sys

    from tqdm import tqdm

    buffer = io.StringIO(text)
    blocks = []
    label = f"reading {shorten(Path(name).name, 40)}"
    with tqdm(total=len(text), unit="B", unit_scale=True, desc=label, file=sys.stderr, leave=False,
              disable=None) as bar:  # (disable=None: only on a terminal)
        for block in pd.read_csv(buffer, chunksize=BLOCK_ROWS, **options):
            blocks.append(block)
            bar.update(buffer.tell() - bar.n)
    return pd.concat(blocks, ignore_index=True) if len(blocks) > 1 else blocks[0]


def read_text_table(path: Path, name: str, lenient: bool = False) -> tuple[pd.DataFrame | None, list[Problem]]:
    raw = path.read_bytes()
    if not raw.strip():
        return None, [Problem(name, None, None, None, "the file is empty")]
    try:
        text, mixed = _decode_by_line(raw)
    except UnicodeError as exc:
        return None, [Problem(name, None, None, None, f"could not be decoded as text ({exc})")]
    if _is_binary(text):
        return None, [Problem(name, None, None, None,
                              "is not a text table (it holds binary data); export it as CSV, .xlsx or Parquet")]
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # classic Mac line endings (CR only)
    first = text.lstrip("\r\n").split("\n", 1)[0].rstrip("\r")
    sep = _delimiter(first)
    try:
        header = next(csv.reader([first], delimiter=sep), [])
    except csv.Error as exc:  # a header cell beyond the csv module's field limit (128 KB)
        return None, [Problem(name, 1, None, None, f"the header could not be read: {exc}")]
    width = len(header)
    if width > MAX_COLUMNS:
        return None, [Problem(name, 1, None, None,
                              f"has {width:,} columns; a pupil table has at most {MAX_COLUMNS:,} "
                              "(export only the columns gaptools reads, or name them in a mapping)")]
    if "\x00" in text:
        return None, _nul_problems(text, sep, header, name)
    long = _long_cells(text, sep, header, name)
    if long:
        return None, long
    notes = [f"{name}: {mixed}"] if mixed else []
    odd: list[int] = []
    example: str | None = None  # the first such byte, for the note
    line, pos = 1, 0
    for m in _C1.finditer(text):  # (counting lines as it goes: one pass however many there are)
        line += text.count("\n", pos, m.start())
        pos = m.start()
        example = example or m.group()
        if not odd or odd[-1] != line:
            odd.append(line)
    if odd:
        notes.append(f"{name}: {line_list(odd)} {'hold' if len(odd) > 1 else 'holds'} bytes that are not "
                     f"characters in any text encoding gaptools reads (such as {example!a}); they are kept as they "
                     f"are: check those lines")
    lines: np.ndarray | None = None
    problems: list[Problem] = []
    try:
        frame = _parse(text, sep, name)
    except pd.errors.ParserError as exc:
        rows, starts, problems = _read_with_csv(text, sep, width, name, str(exc), lenient)
        if rows is None:
            return None, problems
        frame = pd.DataFrame(rows, dtype=object)
        lines = np.array(starts[1:], dtype=np.int64)
    except (pd.errors.EmptyDataError, UnicodeError, ValueError) as exc:
        return None, [Problem(name, None, None, None, f"could not be read as a table: {exc}")]
    else:
        physical = text.count("\n") + (0 if text.endswith("\n") else 1)
        if len(frame) != physical:  # a quoted value holds a line break: find where each row starts
            _, starts, _ = _read_with_csv(text, sep, width, name, "")
            if len(starts) == len(frame):
                lines = np.array(starts[1:], dtype=np.int64)
    if lines is not None:
        note = _multiline_note(frame.iloc[1:], lines, name)
        notes += [note] if note else []
    frame.attrs[NOTES_ATTR] = notes
    if lines is not None:
        frame.attrs[LINES_ATTR] = lines
    return frame, problems
