"""One formatting rule for every page: numbers with their units, labels, years, reasons (no plotting imports).

A ``rate`` measure (a yes/no) holds proportions 0-1 and is shown as a
percentage; its gaps and changes are in percentage points. A score whose unit
is ``%`` (attendance) is already a percentage: its gaps are percentage points
too. Every page formats through these functions, so one figure reads the same
everywhere.
"""
from __future__ import annotations

import html
import re

import pandas as pd

from .registry import facts, percent_scores

#: Why a figure is withheld (the values of ``withheld_reason`` in the results
#: model, set by the gap table), in words; ``{t}`` is the threshold used.
WITHHELD_WORDS = {
    "too_few_disadvantaged": "withheld: too few disadvantaged pupils (under {t})",
    "too_few_others": "withheld: too few other pupils (under {t})",
    "protects_another_group": "withheld to protect another, smaller group",
    "no_comparison_group": "no comparison group in school",
    "no_national_figure": "no national figure on file",
}
#: A withheld figure whose reason is not recorded (a results file written before reasons existed).
WITHHELD_UNKNOWN = "withheld: too few pupils (under {t})"
#: Said in place of a 95% interval that cannot be computed (every pupil of the groups has the same value).
NO_INTERVAL = "no interval: the values do not vary, so chance cannot be measured"
#: The trend verdicts of the results model, and how a page says each.
TREND_WORDS = {"closing": "closing", "widening": "widening", "no clear change": "no clear change"}


def cap(text) -> str:
    """Capitalise the first letter only ('GCSE English grade' stays as it is)."""
    text = str(text)
    return text[:1].upper() + text[1:]


def is_yes(x) -> bool:
    """True for a true flag; False for false or missing (pandas NA-aware)."""
    return x is not None and not pd.isna(x) and bool(x)


def is_missing(x) -> bool:
    """None, NA or NaN."""
    return x is None or (not isinstance(x, str) and bool(pd.isna(x)))


def is_proportion(unit: str, measure: str, kind: str | None = None) -> bool:
    """Whether figures are proportions 0-1 shown x100: every ``rate`` measure.

    Without ``kind`` (older callers), a ``%`` unit other than attendance.
    """
    if kind is not None:
        return kind == "rate"
    return unit == "%" and measure not in percent_scores()


def decimals(unit: str, measure: str, kind: str | None = None) -> int:
    """Decimal places a figure of this measure is shown with."""
    if is_proportion(unit, measure, kind):
        return 0
    known = facts(measure)
    if known is not None and known.decimals is not None:
        return known.decimals  # the registry's
    if unit == "suspensions" or str(measure).startswith("va_grade"):
        return 2
    return 1


def number(x: float, unit: str, measure: str, kind: str | None = None) -> str:
    """A figure as a bare number (rates x100), never '-0'."""
    if is_missing(x):
        return ""
    x = float(x) * (100 if is_proportion(unit, measure, kind) else 1)
    text = f"{x:.{decimals(unit, measure, kind)}f}"
    return text[1:] if re.fullmatch(r"-0(\.0*)?", text) else text


def count(n: int, noun: str) -> str:
    """'1 pupil', '2 pupils': a whole number with its noun, singular or plural (a regular plural)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def gap_unit(unit: str) -> str:
    """The unit of a difference (gap, change) in words: percentage points for anything in %."""
    return "percentage points" if unit == "%" else str(unit)


def value_text(x: float, unit: str, measure: str, kind: str | None = None) -> str:
    """A mean as people read it: '45%', '94.5%', '4.2' (blank when missing)."""
    if is_missing(x):
        return ""
    return number(x, unit, measure, kind) + ("%" if unit == "%" or is_proportion(unit, measure, kind) else "")


def amount(x: float, unit: str, measure: str, kind: str | None = None, *, short: bool = False) -> str:
    """A gap or a change with its unit: '12 percentage points' ('12 pts' with ``short``), '4.8 points'."""
    if is_missing(x):
        return ""
    text = number(x, unit, measure, kind)
    words = gap_unit(unit)
    if short and words == "percentage points":
        words = "pts"
    if text in ("1", "-1"):
        words = {"percentage points": "percentage point", "pts": "pt", "points": "point",
                 "grades": "grade", "suspensions": "suspension"}.get(words, words)
    return f"{text} {words}" if words else text


def with_interval(x: float, low: float, high: float, unit: str, measure: str, kind: str | None = None,
                  *, short: bool = True) -> str:
    """'4.8 points (0.2 to 9.4)': a figure with its 95% interval, the unit said once; where there is no
    interval (the values do not vary, so chance cannot be measured) it says so, never '( to )'."""
    if is_missing(x):
        return ""
    if is_missing(low) or is_missing(high):
        return f"{amount(x, unit, measure, kind, short=short)} ({NO_INTERVAL})"
    return (f"{amount(x, unit, measure, kind, short=short)} ({number(low, unit, measure, kind)} to "
            f"{number(high, unit, measure, kind)})")


def academic_year(year) -> str:
    """The results year 2025 as people write it: '2024/25'."""
    year = int(year)
    return f"{year - 1}/{str(year)[2:]}"


#: The same reasons, short enough to stand on a chart beside a missing bar.
WITHHELD_SHORT = {
    "too_few_disadvantaged": "withheld: too few disadvantaged pupils",
    "too_few_others": "withheld: too few other pupils",
    "protects_another_group": "withheld to protect a smaller group",
    "no_comparison_group": "no comparison group in school",
    "no_national_figure": "no national figure",
}


def withheld_short(reason) -> str:
    """Why a figure is missing, in a few words for a chart (``reason`` is the model's ``withheld_reason``)."""
    return WITHHELD_SHORT.get(reason, "withheld: too few pupils") if not is_missing(reason) else \
        "withheld: too few pupils"


def withheld_text(reason, threshold: int) -> str:
    """Why a figure is not shown, in words (``reason`` is the model's ``withheld_reason``)."""
    words = WITHHELD_WORDS.get(reason, WITHHELD_UNKNOWN) if not is_missing(reason) else WITHHELD_UNKNOWN
    return words.format(t=int(threshold))


def trend_text(verdict, year_from=None, low=None, high=None) -> str:
    """The model's trend verdict in words: 'widening since 2023'; '' where there is none.

    With the change's 95% interval (``low``, ``high``), 'no clear change' says
    why: the interval spans zero (the change could be chance), or it does not
    but the change is not clear once the number of comparisons is allowed for.
    """
    if is_missing(verdict):
        return ""
    since = f" since {int(year_from)}" if not is_missing(year_from) else ""
    why = ""
    if verdict == "no clear change" and not (is_missing(low) or is_missing(high)):
        why = (" (its 95% interval spans zero)" if float(low) <= 0 <= float(high)
               else " (not clear after the false-discovery check)")
    return TREND_WORDS.get(verdict, str(verdict)) + since + why


def row_trend_text(r) -> str:
    """:func:`trend_text` of a row of the results model (its verdict, year and the change's interval)."""
    get = r.get if hasattr(r, "get") else (lambda k, d=None: d)
    return trend_text(get("trend"), get("trend_from"), get("trend_ci_low"), get("trend_ci_high"))


#: Bidirectional controls (embeddings, overrides, isolates): in a name they would show the rest of a line
#: reversed ("evil.exe" as "exe.live"). A page shows each as a visible mark instead.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def bidi_visible(text: str) -> str:
    """``text`` with every bidirectional control shown as ``[U+202E]`` rather than obeyed (no page of
    gaptools' own uses them, so a whole page may be passed through)."""
    return _BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def md_text(text) -> str:
    """Text from data made safe for Markdown that is rendered as HTML (notebook Markdown, strategy.md).

    Data never becomes a tag, a link or an image: ``<``, ``>`` and ``&`` become
    entities (no tag, no entity of the data's own); the characters Markdown reads
    as emphasis, code, maths (``$``, which the notebook's Markdown keeps for
    MathJax) or table cells, and the brackets that open a link or an image (so
    ``(`` and ``!`` need not be), are backslash-escaped; and the
    autolinks of GitHub-flavoured Markdown are broken where they would start: ``:``
    is escaped (``https\\://``), so is the dot after ``www``, and an invisible word
    joiner follows ``@`` (an e-mail address is linked whatever is escaped). So a
    school called ``<meta ...>`` or ``[Official form](https://x.example)`` prints as
    written. Line breaks become spaces.
    """
    if is_missing(text):
        return ""
    marked = re.sub(r"([\\`*_\[\]|~:$])", r"\\\1", " ".join(str(text).splitlines()))
    marked = _WWW_DOT.sub(r"\\.", marked).replace("@", "@\u2060")
    return html.escape(bidi_visible(marked), quote=False)


_WWW_DOT = re.compile(r"(?i)(?<=www)\.")


#: Each ``comparison`` value of the gap table (data contract §3) in words.
COMPARATOR_WORDS = {
    "in_school": "other pupils in school",
    "national_other": "national other pupils",
    "national_disadvantaged": "national disadvantaged pupils",
    "national_all": "all pupils nationally",
}
#: The same comparators where a sentence needs a possessive ("... is 3 points behind national other pupils'").
COMPARATOR_POSSESSIVE = {
    "in_school": "other pupils' in school",
    "national_other": "national other pupils'",
    "national_disadvantaged": "national disadvantaged pupils'",
    "national_all": "the figure for all pupils nationally",
}


def comparator(comparison: str, possessive: bool = False) -> str:
    """The comparator a gap row was measured against, in words (e.g. "national other pupils")."""
    words = COMPARATOR_POSSESSIVE if possessive else COMPARATOR_WORDS
    return words.get(comparison, comparison)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text) -> str:
    """``text`` made safe to print to a terminal: every control character shown as an escape.

    Data is hostile: an ANSI escape sequence in a value could recolour, hide or
    rewrite what a terminal shows, and a line break or carriage return could
    forge a line of output. Each control character (C0, DEL, C1, and the Unicode
    line separators and bidirectional overrides) becomes a visible escape such
    as ``\\x1b``; everything else is left as it is.
    """
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))
