"""The one registry of measures: everything gaptools knows about each standard measure, one entry each.

A :class:`Measure` holds what a page, a finding or a priority needs to know
about one outcome: its label and short label, kind and unit, the key stages it
applies to, where it stands in reading order, which headline lists it is on,
how much a gap in it weighs, which EEF need area it speaks to, and so on.
:data:`STANDARD_MEASURES` are the pupil table's standard outcome columns;
:data:`VALUE_ADDED_MEASURES` the trust-relative value added derived from some
of them. Code outside ``domain`` and ``io`` asks the functions below
(:func:`headline`, :func:`weight`, :func:`need_of` ...) instead of naming
measures, so adding a standard measure is one entry here.
"""
from __future__ import annotations

from dataclasses import dataclass

#: The headline lists a measure can be on (:func:`headline`), and what each is for.
HEADLINE_LISTS = {
    "findings": "a finding says 'no clear difference' for it, and reports its trend; it leads a priority's evidence",
    "concentration": "a finding looks for its gap concentrated in one subgroup",
    "governors": "shown first to governors (governors' summary), in headline order",
    "decision": "a trust's decision list rests on it (support priorities)",
    "overview": "a column of the trust overview's schools table",
    "index": "a cell of the run's index page",
    "review": "reviewed year on year in the pupil premium strategy statement",
    "lead": "the measure a school's charts lead with (the first the cohort has)",
}


@dataclass(frozen=True)
class Measure:
    """One outcome measure.

    Attributes
    ----------
    name : str
        Column name in the pupil table (or of a derived measure).
    label : str
        How a person reads it ("GCSE English grade").
    kind : {'score', 'rate'}
    unit : str
        "points", "grades", "%" ...
    higher_is_better : bool
    key_stages : tuple of str or None
        Key stages it applies to; None for every key stage.
    custom : bool
        Declared in a mapping file rather than standard.
    short_label : str or None
        For narrow places (chart axes, table headers); None: the label.
    heading : str or None
        A column heading for it on the trust overview ("Grade 4+ E&M").
    order : int or None
        Place in reading order (:func:`reading_order`); None: after the standard ones.
    rank : int or None
        Place in headline order (the governors' summary, the trust's lists).
    headline : tuple of str
        The headline lists it is on (keys of :data:`HEADLINE_LISTS`).
    weight : float or None
        How much a gap in it matters in a report, in (0, 1]; None: :data:`DEFAULT_WEIGHT`.
    need : str or None
        The EEF need area a gap in it speaks to (``literacy``, ``maths``, ``teaching`` ...).
    decimals : int or None
        Decimal places its figures are shown with (rates are always whole percentages).
    funnel : bool
        The measure of its key stages' funnel plot and heatmap order on the trust overview.
    subject : str or None
        The subject it is about, as a sentence names it ("English", "reading"): a standard
        subject of its key stage (the KS2 tests, GCSE English and maths).
    pair : str or None
        A measure its gap is compared with in a finding ("twice their maths gap").
    progress : bool
        A progress measure (pupils against others with the same starting point).
    value_added_of : str or None
        For a value-added measure, the measure it is the value added of.
    split : bool
        Also a characteristic every in-school gap is split by.
    attendance : bool
        An attendance measure: never split by attendance, never adjusted for it.
    absent_below : float or None
        An absence rate: the share of pupils whose attendance is below this (per cent).
    national_sd : bool
        The DfE publishes its national pupil-level SD (used for the interval against national).
    gap_index : bool
        One of the results the DfE gap index ranks pupils on (English and maths).
    """

    name: str
    label: str
    kind: str
    unit: str
    higher_is_better: bool = True
    key_stages: tuple[str, ...] | None = None
    custom: bool = False
    short_label: str | None = None
    heading: str | None = None
    order: int | None = None
    rank: int | None = None
    headline: tuple[str, ...] = ()
    weight: float | None = None
    need: str | None = None
    decimals: int | None = None
    funnel: bool = False
    subject: str | None = None
    pair: str | None = None
    progress: bool = False
    value_added_of: str | None = None
    split: bool = False
    attendance: bool = False
    absent_below: float | None = None
    national_sd: bool = False
    gap_index: bool = False


#: Weight of a gap in a measure the registry gives none (declared measures, other GCSE subjects).
DEFAULT_WEIGHT = 0.6
#: Where the GCSE subjects without an entry stand in reading order (alphabetically among themselves).
OTHER_SUBJECTS_ORDER = 7

_KS4 = ("KS4",)
_KS2 = ("KS2",)
_STD = ("KS2", "KS4")
_ALL = ("findings", "concentration")  # the findings' headline lists
STANDARD_MEASURES: dict[str, Measure] = {m.name: m for m in [
    Measure("attainment8", "Attainment 8", "score", "points", True, _KS4, short_label="Attainment 8",
            heading="Attainment 8", order=0, rank=1, weight=1.0, need="teaching", funnel=True,
            headline=(*_ALL, "governors", "decision", "overview", "index", "review", "lead")),
    Measure("progress8", "Progress 8", "score", "grades", True, _KS4, short_label="Progress 8", order=1, rank=2,
            weight=1.0, need="teaching", decimals=2, progress=True, national_sd=True,
            headline=(*_ALL, "governors", "decision", "index", "review", "lead")),
    Measure("grade_english", "GCSE English grade", "score", "grades", True, _KS4, short_label="English", order=3,
            rank=4, weight=1.0, need="literacy", subject="English", pair="grade_maths", gap_index=True,
            headline=(*_ALL, "governors", "decision", "review", "lead")),
    Measure("grade_maths", "GCSE maths grade", "score", "grades", True, _KS4, short_label="maths", order=4, rank=5,
            weight=1.0, need="maths", subject="maths", gap_index=True,
            headline=(*_ALL, "governors", "decision", "review")),
    Measure("basics_4plus", "grade 4+ in English and maths", "rate", "%", True, _KS4, short_label="grade 4+ E&M",
            heading="Grade 4+ E&M", order=8, rank=3, weight=1.0, need="teaching",
            headline=(*_ALL, "governors", "decision", "overview", "index")),
    Measure("basics_5plus", "grade 5+ in English and maths", "rate", "%", True, _KS4, short_label="grade 5+ E&M",
            order=9, weight=0.9, need="teaching", headline=_ALL),
    Measure("reading_score", "KS2 reading scaled score", "score", "points", True, _KS2, short_label="KS2 reading",
            order=12, rank=7, weight=1.0, need="literacy", subject="reading", pair="maths_score", gap_index=True,
            headline=(*_ALL, "governors", "decision", "review", "lead")),
    Measure("maths_score", "KS2 maths scaled score", "score", "points", True, _KS2, short_label="KS2 maths",
            order=13, rank=8, weight=1.0, need="maths", subject="maths", gap_index=True,
            headline=(*_ALL, "governors", "decision", "review")),
    Measure("gps_score", "KS2 grammar, punctuation and spelling score", "score", "points", True, _KS2,
            short_label="KS2 GPS", order=14, rank=9, weight=0.8, need="literacy", subject="grammar, punctuation "
            "and spelling", headline=(*_ALL, "governors")),
    Measure("rwm_expected", "expected standard in reading, writing and maths", "rate", "%", True, _KS2,
            short_label="RWM expected standard", heading="RWM expected", order=10, rank=6, weight=1.0,
            need="teaching", funnel=True,
            headline=(*_ALL, "governors", "decision", "overview", "index", "review", "lead")),
    Measure("rwm_higher", "higher standard in reading, writing and maths", "rate", "%", True, _KS2,
            short_label="RWM higher standard", order=11, weight=0.8, need="teaching", headline=_ALL),
    Measure("attendance_pct", "attendance", "score", "%", True, _STD, short_label="attendance", heading="Attendance",
            order=15, rank=10, weight=0.8, need="attendance", attendance=True,
            headline=(*_ALL, "governors", "decision", "overview", "index", "review")),
    Measure("persistent_absence", "persistently absent (attendance below 90%)", "rate", "%", False, _STD,
            short_label="persistent absence", order=16, rank=11, weight=0.85, need="attendance", attendance=True,
            absent_below=90, split=True, headline=(*_ALL, "decision")),
    Measure("severe_absence", "severely absent (attendance below 50%)", "rate", "%", False, _STD,
            short_label="severe absence", order=17, weight=0.7, need="attendance", attendance=True,
            absent_below=50),
    Measure("suspensions", "suspensions per pupil", "score", "suspensions", False, _STD, short_label="suspensions",
            order=18, weight=0.7, need="behaviour"),
]}

#: Trust-relative value added (``va_<measure>``), in the order it is worked out.
VALUE_ADDED_MEASURES: dict[str, Measure] = {m.name: m for m in [
    Measure("va_grade_english", "English value added", "score", "grades", True, _KS4, order=5, weight=0.95,
            need="literacy", decimals=2, subject="English progress", pair="va_grade_maths", progress=True,
            value_added_of="grade_english", headline=("concentration",)),
    Measure("va_grade_maths", "maths value added", "score", "grades", True, _KS4, order=6, weight=0.95,
            need="maths", decimals=2, subject="maths progress", progress=True, value_added_of="grade_maths",
            headline=("concentration",)),
    Measure("va_attainment8", "Attainment 8 value added", "score", "points", True, _KS4, order=2, weight=0.9,
            need="teaching", progress=True, value_added_of="attainment8"),
]}

#: Every measure of the registry, standard then value added.
REGISTRY: dict[str, Measure] = {**STANDARD_MEASURES, **VALUE_ADDED_MEASURES}


def facts(name) -> Measure | None:
    """The registry's entry for ``name`` (standard or value added), or None."""
    return REGISTRY.get(str(name))


def by_rank(names) -> list[str]:
    """``names`` in headline order (those without a rank after, in the order given)."""
    def place(name) -> int:
        m = REGISTRY.get(name)
        return m.rank if m is not None and m.rank is not None else 10**6

    return sorted(names, key=place)


def headline(which: str, key_stage: str | None = None) -> tuple[str, ...]:
    """The measures on one headline list (:data:`HEADLINE_LISTS`), in headline order.

    Parameters
    ----------
    which : str
        ``"findings"``, ``"governors"``, ``"decision"``, ``"overview"``, ``"index"``, ...
    key_stage : str, optional
        Only the measures of this key stage.
    """
    if which not in HEADLINE_LISTS:
        raise KeyError(f"no headline list {which!r}; there are {', '.join(HEADLINE_LISTS)}")
    names = [m.name for m in REGISTRY.values() if which in m.headline
             and (key_stage is None or m.key_stages is None or key_stage in m.key_stages)]
    return tuple(by_rank(names))


def key_stages() -> tuple[str, ...]:
    """The key stages standard measures apply to, in the order first named."""
    return tuple(dict.fromkeys(ks for m in STANDARD_MEASURES.values() for ks in (m.key_stages or ())))


def funnel_measures() -> dict[str, str]:
    """Each key stage's funnel measure (``{"KS4": ..., "KS2": ...}``)."""
    return {ks: m.name for m in STANDARD_MEASURES.values() if m.funnel for ks in (m.key_stages or ())}


def weight(name) -> float:
    """How much a gap in ``name`` matters in a report (:data:`DEFAULT_WEIGHT` without an entry)."""
    m = facts(name)
    return m.weight if m is not None and m.weight is not None else DEFAULT_WEIGHT


def weights() -> dict[str, float]:
    """Every registry weight, by measure."""
    return {m.name: m.weight for m in REGISTRY.values() if m.weight is not None}


def needs() -> dict[str, str]:
    """The EEF need area of every measure that has one."""
    return {m.name: m.need for m in REGISTRY.values() if m.need is not None}


def subjects(key_stage: str) -> tuple[str, ...]:
    """The standard subject measures of a key stage, in registry order (KS2: the tests with a scaled score)."""
    return tuple(m.name for m in STANDARD_MEASURES.values()
                 if m.subject is not None and key_stage in (m.key_stages or ()))


def pairs() -> tuple[tuple[str, str, str, str], ...]:
    """(measure, its pair, the subject of each) for every measure compared with another in a finding."""
    return tuple((m.name, m.pair, str(m.subject), str(REGISTRY[m.pair].subject))
                 for m in REGISTRY.values() if m.pair is not None)


def progress_measures() -> tuple[str, ...]:
    """The standard progress measures (Progress 8); value added is recognised by its prefix too."""
    return tuple(m.name for m in STANDARD_MEASURES.values() if m.progress)


def value_added() -> dict[str, str]:
    """The measures that get a trust-relative value added, with the value added's label."""
    return {str(m.value_added_of): m.label for m in VALUE_ADDED_MEASURES.values()}


def measure_splits() -> tuple[str, ...]:
    """Standard measures that are also a characteristic every in-school gap is split by."""
    return tuple(m.name for m in STANDARD_MEASURES.values() if m.split)


def attendance_measures() -> tuple[str, ...]:
    """The attendance measures (never split by attendance, never adjusted for it)."""
    return tuple(m.name for m in STANDARD_MEASURES.values() if m.attendance)


def attendance_score() -> str:
    """The pupil's attendance as a percentage: the score the absence rates are worked out from."""
    return next(m.name for m in STANDARD_MEASURES.values() if m.attendance and m.kind == "score")


def absence_rates() -> tuple[str, ...]:
    """The absence rates (attendance below a line), the widest first: persistent, then severe absence."""
    rates = [m for m in STANDARD_MEASURES.values() if m.absent_below is not None]
    return tuple(m.name for m in sorted(rates, key=lambda m: -float(m.absent_below or 0)))


def percent_scores() -> tuple[str, ...]:
    """Standard scores already in per cent (attendance): not proportions, and not yes/no measures."""
    return tuple(m.name for m in STANDARD_MEASURES.values() if m.kind == "score" and m.unit == "%")


def national_sd_measures() -> tuple[str, ...]:
    """Measures whose national pupil-level SD the DfE publishes (:func:`gaptools.domain.reference.p8_sd`)."""
    return tuple(m.name for m in STANDARD_MEASURES.values() if m.national_sd)


def gap_index_measures(key_stage: str) -> tuple[str, ...]:
    """The results the DfE gap index ranks a key stage's pupils on (English and maths)."""
    return tuple(m.name for m in STANDARD_MEASURES.values() if m.gap_index and key_stage in (m.key_stages or ()))


def reading_order() -> list[str]:
    """Every measure with an ``order``, in reading order, with the grade prefix where other subjects go."""
    from .columns import GRADE_PREFIX

    places = sorted((m.order, m.name) for m in REGISTRY.values() if m.order is not None)
    names = [name for _, name in places]
    at = sum(1 for order, _ in places if order < OTHER_SUBJECTS_ORDER)
    return names[:at] + [GRADE_PREFIX] + names[at:]


def short_labels() -> dict[str, str]:
    """Short labels of every measure (the label where none is given)."""
    return {m.name: m.short_label or m.label for m in REGISTRY.values()}
