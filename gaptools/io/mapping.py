"""Mapping files: turn an MIS export into the pupil table without editing it.

A mapping (data contract §2) renames columns, maps values, sets constants and
declares extra outcome measures. Every scalar is read as text (YAML's
``BaseLoader``) so that ``Yes``, ``No`` and ``007`` mean what the export means,
not what YAML 1.1 guesses; the column parsers then type them.
"""
from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..domain.columns import (
    DERIVED,
    FALSE_WORDS,
    GRADE_SPEC,
    TRUE_WORDS,
    VALUE_ADDED_PREFIX,
    canonical_name,
    spec_for,
)
from ..errors import DataValidationError, Problem
from .filerules import FileRule, parse_rules, rule_for

SECTIONS = ("columns", "values", "constants", "measures", "skip_rows", "files")
#: How a mapping derives one column from several of the export (``{mean_of: [...]}``, ``{max_of: [...]}``).
COMBINE = ("mean_of", "max_of")
MEASURE_KINDS = ("score", "rate")
#: Bounds on a mapping file: it is a few dozen lines, so anything far bigger is hostile or a mistake.
MAX_BYTES = 1 * 2**20
MAX_DEPTH = 20
MAX_ALIASES = 50
MAX_ENTRIES = 20_000


@dataclass(frozen=True)
class CustomMeasure:
    """An outcome measure declared in a mapping file."""

    name: str
    column: str
    kind: str
    higher_is_better: bool = True
    label: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class SkipRule:
    """Rows of an export to leave out: those whose ``column`` matches ``pattern`` (e.g. a totals row)."""

    column: str
    pattern: str
    line: int | None = None

    def matches(self, values: pd.Series) -> np.ndarray:
        """Which of ``values`` (the export column as read) match the rule's regular expression."""
        text = values.astype("string").fillna("")
        return text.str.contains(self.pattern, regex=True).to_numpy(dtype=bool, na_value=False)


@dataclass
class Mapping:
    """A parsed mapping file. See data contract §2."""

    source: str = "<mapping>"
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    measures: dict[str, CustomMeasure] = field(default_factory=dict)
    means: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical -> export columns averaged
    skip_rows: list[SkipRule] = field(default_factory=list)
    maxes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical -> export columns, the best taken
    files: list[FileRule] = field(default_factory=list)  # per-file constants, the first match wins

    def combined(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Every derived column: canonical -> (``"mean_of"`` or ``"max_of"``, the export columns)."""
        return {**{c: ("mean_of", e) for c, e in self.means.items()},
                **{c: ("max_of", e) for c, e in self.maxes.items()}}

    def for_file(self, name: str) -> Mapping:
        """This mapping as it applies to the file ``name``: the first ``files:`` entry's constants win."""
        rule = rule_for(self.files, name)
        if rule is None or not rule.constants:
            return self
        from dataclasses import replace

        return replace(self, constants={**self.constants, **rule.constants})


class _BoundedLoader(yaml.BaseLoader):
    """PyYAML's BaseLoader (every scalar text) with bounded nesting and aliases.

    An alias is not copied when composed, but turning the node graph into plain
    Python expands it, so a few lines of nested aliases ("billion laughs") can
    ask for gigabytes; deep nesting exhausts Python's stack. Both are refused
    with a line number long before either happens.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent, index):
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.composer.ComposerError(
                    None, None, f"uses more than {MAX_ALIASES} aliases (*name); write the values out", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"is nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _plain(node, name: str, problems: list[Problem], budget: list[int], path=()):
    """A YAML node as plain Python (all scalars text); a repeated key is a problem, the first kept."""
    budget[0] -= 1
    if budget[0] < 0:
        raise DataValidationError([Problem(name, node.start_mark.line + 1, None, None,
                                           f"expands to more than {MAX_ENTRIES:,} entries (through aliases?)")],
                                  what="the mapping file")
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_plain(n, name, problems, budget, path) for n in node.value]
    out: dict[str, object] = {}
    first: dict[str, int] = {}  # key -> its line
    for key, val in node.value:
        k = _plain(key, name, problems, budget, path)
        if not isinstance(k, str):
            problems.append(Problem(name, key.start_mark.line + 1, ".".join(path) or None, None,
                                    "a key must be a plain name, not a list or mapping"))
            continue
        if k in out:
            problems.append(Problem(name, key.start_mark.line + 1, ".".join(path + (k,)), None,
                                    f"appears twice (also at line {first[k]}); keep one"))
            continue
        first[k] = key.start_mark.line + 1
        out[k] = _plain(val, name, problems, budget, path + (k,))
    return out


def _lines(node, prefix=()):
    lines: dict[tuple, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, val in node.value:
            path = prefix + (str(key.value),)
            lines.setdefault(path, key.start_mark.line + 1)
            lines.update({k: v for k, v in _lines(val, path).items() if k not in lines})
    return lines


def _combined(canon: str, column: dict, path: tuple, bad, column_spec) -> tuple[str, tuple[str, ...]] | None:
    """A derived column (``{mean_of: [...]}`` or ``{max_of: [...]}``), checked; None (and a problem) if bad."""
    how = next(iter(column), None) if len(column) == 1 else None
    sources = column.get(how) if how in COMBINE else None
    if how not in COMBINE or not isinstance(sources, list) or len(sources) < 2 \
            or not all(isinstance(c, str) and c.strip() for c in sources):
        bad(path, None, "a derived column is written {mean_of: [\"export column\", \"export column\"]} or "
                        "{max_of: [\"English Language\", \"English Literature\"]} (two or more columns)")
        return None
    if len({c.strip().casefold() for c in sources}) < len(sources):
        bad(path + (how,), None, "names the same export column twice")
        return None
    kind = (column_spec(canon) or GRADE_SPEC).kind
    if how == "mean_of" and kind != "float":
        bad(path, None, "only a number column (such as prior_attainment) can be the mean of others")
        return None
    if how == "max_of" and kind not in ("float", "grade", "int"):
        bad(path, None, "only a grade or number column (such as grade_english) can be the best of others")
        return None
    return how, tuple(sources)


def _read_text(path: Path, name: str) -> str:
    """The mapping file's text, refusing what cannot be a mapping (a pipe, a huge or binary file)."""
    def refuse(message):
        return DataValidationError([Problem(name, None, None, None, message)], what="the mapping file")

    if not path.exists():
        raise refuse("mapping file not found")
    if not stat.S_ISREG(path.stat().st_mode):
        raise refuse("is not an ordinary file (a pipe, device or folder); name a YAML mapping file")
    if path.stat().st_size > MAX_BYTES:
        raise refuse(f"is larger than {MAX_BYTES // 2**20} MB: a mapping file is a few lines of YAML")
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise refuse("is not a text file (it holds binary data); a mapping file is YAML text")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")


def load_mapping(source: str | Path | dict | Mapping | None, *, columns=None) -> Mapping | None:
    """Read and check a mapping file (or an equivalent dict).

    Parameters
    ----------
    source : path, dict, Mapping or None
        A YAML file, a dict with the same sections, or an already parsed mapping.
    columns : dict, optional
        The columns of a table other than the pupil table (the assessments, the
        activity register), by name, each with its spec (a ``kind``): the names
        ``columns:`` and ``constants:`` may give. Such a mapping declares no
        ``measures``. Default: the pupil table's columns.

    Returns
    -------
    Mapping or None

    Raises
    ------
    DataValidationError
        Listing every problem in the mapping, with its line.
    """
    if source is None or isinstance(source, Mapping):
        return source
    column_spec = spec_for if columns is None else columns.get

    def known(name: str) -> bool:
        return column_spec(name) is not None
    lines: dict[tuple, int] = {}
    problems: list[Problem] = []
    if isinstance(source, dict):
        name, raw = "<mapping>", source
    else:
        name = str(source)
        text = _read_text(Path(source), name)
        try:
            node = yaml.compose(text, Loader=_BoundedLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            if line is None and isinstance(getattr(exc, "position", None), int):  # a ReaderError
                line = text.count("\n", 0, exc.position) + 1
            reason = getattr(exc, "problem", None) or getattr(exc, "reason", None) or exc
            raise DataValidationError([Problem(name, line, None, None,
                                               f"is not valid YAML: {reason}")], what="the mapping file") from None
        except RecursionError:  # belt and braces: _BoundedLoader stops nesting long before this
            raise DataValidationError([Problem(name, None, None, None, "is nested too deeply")],
                                      what="the mapping file") from None
        if node is None:
            raise DataValidationError([Problem(name, None, None, None, "the mapping file is empty")],
                                      what="the mapping file")
        raw = _plain(node, name, problems, [MAX_ENTRIES])
        lines = _lines(node)

    def bad(path, value, message):
        problems.append(Problem(name, lines.get(path), ".".join(path), value, message))

    if not isinstance(raw, dict):
        raise DataValidationError([Problem(name, 1, None, None,
                                           "a mapping file must have sections: " + ", ".join(SECTIONS))],
                                  what="the mapping file")
    out = Mapping(source=name)
    if columns is not None and raw.get("measures"):
        bad(("measures",), None, "declare measures in the pupil table's mapping, not here")
        raw = {k: v for k, v in raw.items() if k != "measures"}
    for heading in raw:
        if heading not in SECTIONS:
            bad((heading,), None, f"unknown section; expected one of: {', '.join(SECTIONS)}")

    def section(key):
        val = raw.get(key) or {}
        if not isinstance(val, dict):
            bad((key,), None, "must be a list of 'name: value' lines")
            return {}
        return val

    used: dict[str, tuple[str, ...]] = {}  # export column (folded) -> the line that reads it

    def claim(path, column) -> bool:
        key = column.strip().casefold()
        if key in used:
            other = used[key]
            where = f" (line {lines[other]})" if other in lines else ""
            bad(path, column, f"this export column is already mapped to '{other[-1]}'{where}; "
                              "an export column can give only one gaptools column")
            return False
        used[key] = path
        return True

    for canon, column in section("columns").items():
        path: tuple[str, ...] = ("columns", canon)
        if not known(canon):
            bad(path, None,
                "is not a gaptools column (see the data contract); declare extra outcomes under 'measures'"
                if columns is None else f"is not a column of this table (its columns: {', '.join(columns)})")
        elif isinstance(column, dict):
            combined = _combined(canon, column, path, bad, column_spec)
            if combined is not None:
                (out.means if combined[0] == "mean_of" else out.maxes)[canon] = combined[1]
        elif not isinstance(column, str) or not column.strip():
            bad(path, None, "must name one column of the export")
        elif claim(path, column):
            out.columns[canon] = column
    for canon, table in section("values").items():
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            bad(("values", canon), None, "must map export values to gaptools values")
            continue
        out.values[canon] = {str(k): str(v) for k, v in table.items()}
    for canon, value in section("constants").items():
        if not known(canon):
            bad(("constants", canon), None, "is not a gaptools column")
        elif not isinstance(value, str):
            bad(("constants", canon), None, "must be a single value")
        else:
            out.constants[canon] = value
    for mname, spec in section("measures").items():
        path = ("measures", mname)
        canon = canonical_name(mname)
        if known(canon) or canon in DERIVED or canon.startswith(VALUE_ADDED_PREFIX):
            bad(path, None, "clashes with a standard gaptools column or measure; choose another name")
            continue
        if not isinstance(spec, dict):
            bad(path, None, "must give at least 'column' and 'kind'")
            continue
        column, kind = spec.get("column"), spec.get("kind")
        if not isinstance(column, str) or not column.strip():
            bad(path, None, "needs 'column': the export column holding it")
            continue
        if kind not in MEASURE_KINDS:
            bad(path + ("kind",), kind, "must be 'score' (a mean) or 'rate' (a yes/no shown as a %)")
            continue
        hib = str(spec.get("higher_is_better", "true")).strip().lower()
        if hib not in TRUE_WORDS | FALSE_WORDS:
            bad(path + ("higher_is_better",), hib, "must be true or false")
            continue
        label, unit = spec.get("label"), spec.get("unit")
        if not isinstance(label, (str, type(None))) or not isinstance(unit, (str, type(None))):
            bad(path, None, "'label' and 'unit' must be text")
            continue
        out.measures[canon] = CustomMeasure(canon, column, kind, hib in TRUE_WORDS, label, unit)
    out.files = parse_rules(raw.get("files"), bad, known)
    rules = raw.get("skip_rows") or []
    for _i, rule in enumerate(rules if isinstance(rules, list) else [rules]):
        path = ("skip_rows",)
        if not isinstance(rule, dict) or set(rule) != {"column", "matching"} \
                or not all(isinstance(rule[k], str) and rule[k] for k in rule):
            bad(path, None, "is written {column: \"export column\", matching: \"regular expression\"} "
                            "(or a list of them)")
            continue
        try:
            re.compile(rule["matching"])
        except re.error as exc:
            bad(path, rule["matching"], f"is not a regular expression: {exc}")
            continue
        out.skip_rows.append(SkipRule(rule["column"], rule["matching"], lines.get(path)))
    if problems:
        problems.sort(key=lambda p: p.line or 0)
        raise DataValidationError(problems, what="the mapping file")
    return out
