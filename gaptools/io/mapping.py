"""Mapping files: turn an MIS export into the pupil table without editing it.

A mapping (data contract §2) renames columns, maps values, sets constants and
declares extra outcome measures. Every scalar is read as text (YAML's
``BaseLoader``) so that ``Yes``, ``No`` and ``007`` mean what the export means,
not what YAML 1.1 guesses; the column parsers then type them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..domain.columns import (
    COLUMNS,
    DERIVED,
    FALSE_WORDS,
    GRADE_PREFIX,
    TRUE_WORDS,
    canonical_name,
)
from ..errors import DataValidationError, Problem

SECTIONS = ("columns", "values", "constants", "measures")
MEASURE_KINDS = ("score", "rate")


@dataclass(frozen=True)
class CustomMeasure:
    """An outcome measure declared in a mapping file."""

    name: str
    column: str
    kind: str
    higher_is_better: bool = True
    label: str | None = None
    unit: str | None = None


@dataclass
class Mapping:
    """A parsed mapping file. See data contract §2."""

    source: str = "<mapping>"
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    measures: dict[str, CustomMeasure] = field(default_factory=dict)


def _plain(node):
    """A YAML node as plain Python (all scalars text) plus each key's line."""
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_plain(n) for n in node.value]
    out = {}
    for key, val in node.value:
        out[_plain(key)] = _plain(val)
    return out


def _lines(node, prefix=()):
    lines = {}
    if isinstance(node, yaml.MappingNode):
        for key, val in node.value:
            path = prefix + (str(key.value),)
            lines[path] = key.start_mark.line + 1
            lines.update(_lines(val, path))
    return lines


def _known_column(name: str) -> bool:
    return name in COLUMNS or (name.startswith(GRADE_PREFIX) and len(name) > len(GRADE_PREFIX))


def load_mapping(source: str | Path | dict | Mapping | None) -> Mapping | None:
    """Read and check a mapping file (or an equivalent dict).

    Parameters
    ----------
    source : path, dict, Mapping or None
        A YAML file, a dict with the same sections, or an already parsed mapping.

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
    lines: dict[tuple, int] = {}
    if isinstance(source, dict):
        name, raw = "<mapping>", source
    else:
        path = Path(source)
        name = str(source)
        if not path.is_file():
            raise DataValidationError([Problem(name, None, None, None, "mapping file not found")])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            text = path.read_text(encoding="cp1252")
        try:
            node = yaml.compose(text, Loader=yaml.BaseLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise DataValidationError([Problem(name, line, None, None,
                                               f"is not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
        if node is None:
            raise DataValidationError([Problem(name, None, None, None, "the mapping file is empty")])
        raw = _plain(node)
        lines = _lines(node)
    problems: list[Problem] = []

    def bad(path, value, message):
        problems.append(Problem(name, lines.get(path), ".".join(path), value, message))

    if not isinstance(raw, dict):
        raise DataValidationError([Problem(name, 1, None, None,
                                           "a mapping file must have sections: " + ", ".join(SECTIONS))])
    out = Mapping(source=name)
    for section in raw:
        if section not in SECTIONS:
            bad((section,), None, f"unknown section; expected one of: {', '.join(SECTIONS)}")

    def section(key):
        val = raw.get(key) or {}
        if not isinstance(val, dict):
            bad((key,), None, "must be a list of 'name: value' lines")
            return {}
        return val

    for canon, column in section("columns").items():
        if not _known_column(canon):
            bad(("columns", canon), None,
                "is not a gaptools column (see the data contract); declare extra outcomes under 'measures'")
        elif not isinstance(column, str) or not column.strip():
            bad(("columns", canon), None, "must name one column of the export")
        else:
            out.columns[canon] = column
    for canon, table in section("values").items():
        if not isinstance(table, dict):
            bad(("values", canon), None, "must map export values to gaptools values")
            continue
        out.values[canon] = {str(k): str(v) for k, v in table.items()}
    for canon, value in section("constants").items():
        if not _known_column(canon):
            bad(("constants", canon), None, "is not a gaptools column")
        elif not isinstance(value, str):
            bad(("constants", canon), None, "must be a single value")
        else:
            out.constants[canon] = value
    for mname, spec in section("measures").items():
        path = ("measures", mname)
        canon = canonical_name(mname)
        if _known_column(canon) or canon in DERIVED:
            bad(path, None, "clashes with a standard gaptools column or measure; choose another name")
            continue
        if not isinstance(spec, dict):
            bad(path, None, "must give at least 'column' and 'kind'")
            continue
        column, kind = spec.get("column"), spec.get("kind")
        if not column:
            bad(path, None, "needs 'column': the export column holding it")
            continue
        if kind not in MEASURE_KINDS:
            bad(path + ("kind",), kind, "must be 'score' (a mean) or 'rate' (a yes/no shown as a %)")
            continue
        hib = str(spec.get("higher_is_better", "true")).strip().lower()
        if hib not in TRUE_WORDS | FALSE_WORDS:
            bad(path + ("higher_is_better",), hib, "must be true or false")
            continue
        out.measures[canon] = CustomMeasure(canon, column, kind, hib in TRUE_WORDS,
                                            spec.get("label"), spec.get("unit"))
    if problems:
        raise DataValidationError(problems)
    return out
