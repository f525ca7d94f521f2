"""Errors and warnings that gaptools reports to people, not programmers."""
from __future__ import annotations

from dataclasses import dataclass

#: The most characters of a header or value quoted in a message (a hostile file may hold a 1 GB cell).
QUOTE_LIMIT = 200


def shorten(text, limit: int = QUOTE_LIMIT) -> str:
    """``text`` as it may be quoted in a message: at most ``limit`` characters, cut with an ellipsis."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 1]}… ({len(text):,} characters)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as a spreadsheet user sees it.

    Attributes
    ----------
    file : str or None
        The file name (or ``"<DataFrame>"`` / the mapping file).
    line : int or None
        Line number with the header row as line 1, so the first pupil is line 2.
    column : str or None
        The column as it is named in the file.
    value : str or None
        The offending value exactly as it was read.
    message : str
        What is wrong, in plain English.
    """

    file: str | None
    line: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        if self.value is not None:
            where, message = self._where_and_what()
            return f"{where}: value '{shorten(self.value)}': {message}"
        return self.located()

    def located(self) -> str:
        """Where the problem is and what is wrong, without the value: the form for files people share
        (a run's ``manifest.json`` and ``index.html``), since a value may be a pupil's record."""
        return ": ".join(self._where_and_what())

    def _where_and_what(self) -> tuple[str, str]:
        parts = [shorten(self.file or "<input>", 4 * QUOTE_LIMIT)]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column '{shorten(self.column)}'")
        return ", ".join(parts), shorten(self.message, 10 * QUOTE_LIMIT)


class GaptoolsError(Exception):
    """Base class of gaptools' own errors."""


class DataValidationError(GaptoolsError, ValueError):
    """The input data broke the data contract; ``problems`` lists every fault.

    Parameters
    ----------
    problems : list of Problem
        Every problem found, in file and line order.
    notes : list of str, optional
        Warnings found on the way (data read correctly but worth a look), so that
        they are not lost when the data is refused.
    what : str, default "the pupil data"
        What was read, as the message names it ("the data drops", "the activity register").
    """

    def __init__(self, problems: list[Problem], notes: list[str] | None = None, *, what: str = "the pupil data"):
        self.problems = list(problems)
        self.notes = list(notes or [])
        self.what = what
        super().__init__(self._text())

    def __reduce__(self):  # picklable with its keyword (a Dask worker sends it back)
        return _rebuild_validation_error, (self.problems, self.notes, self.what)

    def _text(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found in {self.what}:"
        return "\n".join([head, *("  " + str(p) for p in self.problems)])


def _rebuild_validation_error(problems, notes, what):
    return DataValidationError(problems, notes, what=what)


class UnknownSchoolError(GaptoolsError, KeyError):
    """A school id that is not in the data (also a ``KeyError``, as a missing key is); the message names
    the closest ids."""

    def __str__(self) -> str:  # (KeyError's own would quote the whole message)
        return str(self.args[0]) if self.args else ""


class GaptoolsWarning(UserWarning):
    """Something worth a person's attention that does not stop the analysis."""


class UsageError(GaptoolsError):
    """The command was asked for something it cannot do as given (exit code 2).

    A wrong option, an output folder that belongs to someone else or is in use,
    a school id that is not in the data: found before any work starts, and
    said in one plain sentence.
    """
