"""A mapping's per-file settings (data contract §2, ``files:``).

An MIS gives one results export per year, and the year is often only in the
file's name. A mapping's ``files:`` list gives each file its own constants:

.. code-block:: yaml

    files:
      - {match: "*2023*", constants: {year: 2023}}
      - {match: "*2024*", constants: {year: 2024}}

``match`` is a glob on the file's name (inside the folder read); the first
entry that matches gives that file's constants, over the top-level ones.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from ..errors import shorten

FILE_KEYS = ("match", "constants")
#: A year in a file's name (2023, 2023-24, 2023_24): the hint that a folder wants ``files:``.
YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d\d)(?:\s*[-_/]\s*(\d\d))?(?!\d)")


@dataclass(frozen=True)
class FileRule:
    """One entry of ``files:``: files whose name matches ``match`` take ``constants``."""

    match: str
    constants: dict[str, str] = field(default_factory=dict)
    line: int | None = None

    def matches(self, name: str) -> bool:
        """Whether the file ``name`` matches, ignoring case: only its own name counts (DATA is read one
        folder deep), never the folders above it, so "*2024*" does not match every file of "exports 2024/"."""
        return fnmatch.fnmatchcase(PurePath(str(name).replace("\\", "/")).name.casefold(), self.match.casefold())


def parse_rules(entries, bad, known_column) -> list[FileRule]:
    """The ``files:`` section as :class:`FileRule` s; each fault goes to ``bad(path, value, message)``.

    Parameters
    ----------
    entries : object
        The section as read (all scalars text): a list of ``{match, constants}``.
    bad : callable
        ``bad(path, value, message)`` records a located problem.
    known_column : callable
        Whether a name is a gaptools column (constants may only set those).
    """
    if entries in (None, "", {}):
        return []
    if not isinstance(entries, list):
        bad(("files",), None, 'must be a list of {match: "*2023*", constants: {year: "2023"}} entries')
        return []
    out = []
    for i, entry in enumerate(entries, start=1):
        path = ("files",)
        where = f"entry {i}: "
        if not isinstance(entry, dict) or set(entry) - set(FILE_KEYS) or "match" not in entry:
            keys = ", ".join(sorted(map(str, set(entry) - set(FILE_KEYS)))) if isinstance(entry, dict) else ""
            bad(path, None, where + "is written {match: \"*2023*\", constants: {year: \"2023\"}}"
                + (f" (unknown key: {shorten(keys, 80)})" if keys else ""))
            continue
        match, constants = entry["match"], entry.get("constants") or {}
        if not isinstance(match, str) or not match.strip():
            bad(path, None, where + "'match' must be a file name pattern in quotes, such as \"*2023*\"")
            continue
        if not isinstance(constants, dict) or not all(isinstance(v, str) for v in constants.values()):
            bad(path, None, where + "'constants' must be 'column: value' lines, such as {year: \"2023\"}")
            continue
        unknown = [c for c in constants if not known_column(c)]
        if unknown:
            bad(path, None, where + f"'{shorten(unknown[0], 60)}' in 'constants' is not a gaptools column")
            continue
        out.append(FileRule(match.strip(), dict(constants)))
    return out


def rule_for(rules: list[FileRule], name: str) -> FileRule | None:
    """The first rule that matches the file ``name``, or None."""
    return next((r for r in rules if r.matches(name)), None)


def rule_notes(rules: list[FileRule], names: list[str]) -> list[str]:
    """Warnings about ``files:`` against the files read: a pattern no file matches, a file two patterns match."""
    notes = []
    for r in rules:
        if not any(r.matches(n) for n in names):
            notes.append(f"the mapping's files: entry match {r.match!r} matches no file read "
                         f"({len(names)} read); check the pattern")
    for n in names:
        hits = [r.match for r in rules if r.matches(n)]
        if len(hits) > 1:
            notes.append(f"{n}: matched by more than one files: entry ({', '.join(map(repr, hits))}); "
                         f"the first, {hits[0]!r}, is used")
    return notes


def year_hint(names: list[str]) -> str | None:
    """The fix when files lack a year their names hold: a ``files:`` block, written out for these files."""
    years = {}  # the text in the name -> the year it means (2023-24 is the academic year 2023/24)
    for n in names:
        found = YEAR_IN_NAME.search(PurePath(n).name)
        if found:
            years[found.group(0)] = f"{found.group(1)}/{found.group(2)}" if found.group(2) else found.group(1)
    if not years:
        return None
    lines = "\n".join(f'  - {{match: "*{t}*", constants: {{year: "{y}"}}}}' for t, y in sorted(years.items()))
    return ("the year is in the file names but not in the files: give each file its year in the mapping, "
            "e.g.\nfiles:\n" + lines)
