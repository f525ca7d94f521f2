"""The one label table: what people call every measure, group and term on a page.

Every chart and table names measures, characteristics and groups through
these functions, so a column name (``attainment8``, ``prior_band``,
``sen=K``, ``True``) never reaches a reader and one thing is called the same
everywhere. The glossary explains the few terms a page cannot avoid.
"""
from __future__ import annotations

from .columns import GRADE_PREFIX
from .registry import STANDARD_MEASURES, VALUE_ADDED_MEASURES, reading_order, short_labels

#: Labels of measures that are not columns of the pupil table (value added), from the registry.
DERIVED_LABELS = {m.name: m.label for m in VALUE_ADDED_MEASURES.values()}

#: Short labels for narrow places (chart axes, table headers, the index), from the registry.
SHORT_LABELS = short_labels()

#: Measures in reading order: headline first, then English beside maths (the registry's ``order``).
#: Subjects not listed follow in alphabetical order, ignoring case, where the grade prefix stands.
MEASURE_ORDER = reading_order()

#: Pupil characteristics (profile ``characteristic`` and subgroup splits).
CHARACTERISTIC_LABELS = {
    "all": "all pupils", "sex": "boys and girls", "sen": "SEN", "eal": "EAL", "fsm": "FSM",
    "prior_band": "prior attainment", "attendance": "attendance", "persistent_absence": "persistent absence",
    "ethnicity": "ethnicity", "disadvantaged": "disadvantage",
}

#: Values of a split as people say them; (split, value) -> label.
VALUE_LABELS = {
    ("sex", "F"): "girls", ("sex", "M"): "boys", ("sex", "female"): "girls", ("sex", "male"): "boys",
    ("sen", "N"): "no SEN", ("sen", "K"): "SEN support", ("sen", "E"): "EHC plan",
    ("persistent_absence", "True"): "persistently absent", ("persistent_absence", "False"): "not persistently absent",
    ("prior_band", "low"): "low prior attainment", ("prior_band", "middle"): "middle prior attainment",
    ("prior_band", "high"): "high prior attainment", ("prior_band", "unknown"): "prior attainment unknown",
    ("eal", "True"): "EAL", ("eal", "False"): "English first language",
}

#: Subgroups of the results model as a sentence names them ("concentrated in boys").
SUBGROUP_WORDS = {"prior_band=low": "low prior attainers", "prior_band=middle": "middle prior attainers",
                  "prior_band=high": "high prior attainers",
                  "prior_band=unknown": "pupils whose prior attainment is unknown", "sex=F": "girls", "sex=M": "boys",
                  "sen=N": "pupils without SEN", "sen=K": "pupils on SEN support", "sen=E": "pupils with an EHC plan",
                  "persistent_absence=True": "persistently absent pupils",
                  "persistent_absence=False": "pupils who attend regularly",
                  "eal=True": "pupils with English as an additional language",
                  "eal=False": "pupils with English as their first language"}

#: Measures of the DfE performance tables (published benchmarks), by their column names.
PUBLISHED_LABELS = {
    "PTRWM_EXP": "% reaching the expected standard in reading, writing and maths",
    "PTRWM_HIGH": "% reaching the higher standard in reading, writing and maths",
    "ATT8SCR": "Attainment 8", "P8MEA": "Progress 8", "PTL2BASICS_94": "% with grade 4+ in English and maths",
    "READPROG": "reading progress", "WRITPROG": "writing progress", "MATPROG": "maths progress",
}

#: The two groups every page compares.
GROUP_LABELS = {"disadvantaged": "disadvantaged pupils", "other": "other pupils", "reference": "other pupils"}

#: Terms a page may use, explained in a sentence each (the glossary).
GLOSSARY = {
    "disadvantaged": "Disadvantaged pupils: eligible for free school meals in the last six years (Ever 6 FSM), "
                     "looked after, or previously looked after, as the DfE counts them for the Pupil Premium.",
    "percentage points": "Percentage points (pts): the difference between two percentages; 60% against 45% is a "
                         "gap of 15 percentage points.",
    "interval": "95% interval: the range the true figure probably lies in, given the number of pupils.",
    "clear": "Clear gap: the interval excludes zero and the gap survives the false-discovery check.",
    "false discovery": "Check for false discoveries (Benjamini-Hochberg): with many comparisons some differences "
                       "look real by chance, so a gap is called clear only if it stays convincing after allowing "
                       "for how many were tested.",
    "withheld": "Withheld: a group of fewer pupils than the threshold is not shown, so no pupil can be identified.",
    "RWM": "RWM: reading, writing and maths at KS2; the expected standard means all three met.",
    "E&M": "E&M: English and maths at GCSE; grade 4+ (a standard pass) or 5+ (a strong pass) in both.",
    "Attainment 8": "Attainment 8: a pupil's points across eight GCSE-level subjects (English and maths "
                    "counted twice), out of 90.",
    "Progress 8": "Progress 8: how a pupil's Attainment 8 compares with pupils nationally with the same KS2 "
                  "results, in grades per subject (0 = average progress).",
    "value added": "Value added: how pupils did against pupils with similar KS2 results in the schools analysed "
                   "(relative to those schools, not the DfE's national Progress 8); 0 = as expected.",
    "gap index": "Gap index: the DfE's disadvantage gap index; pupils ranked on English and maths, 0 = no gap, "
                 "10 = every other pupil ahead of every disadvantaged pupil. Here pupils are ranked among the "
                 "pupils of the schools analysed, not across England, so it is close to, not the same as, "
                 "the DfE figure.",
    "persistent absence": "Persistently absent: attendance below 90%; severely absent: below 50%.",
    "SEN": "SEN: special educational needs; SEN support, or an education, health and care (EHC) plan.",
    "EAL": "EAL: English as an additional language.",
    "FSM": "FSM: eligible for free school meals.",
    "EEF": "EEF: the Education Endowment Foundation, whose Teaching and Learning Toolkit sums up the evidence "
           "on what helps, in months of extra progress for its cost.",
    "funnel": "Funnel plot: each school's gap against its number of disadvantaged pupils; small schools "
              "scatter more by chance, so the limits widen to the left.",
    "SD": "Standard deviations (SD): a gap divided by how spread out pupils' results are, so different "
          "measures can be compared.",
}


def measure_label(name: str, given: str | None = None) -> str:
    """A measure as people read it ('GCSE English grade', 'English value added').

    Parameters
    ----------
    name : str
        The measure's name (a column of the pupil table or a derived measure).
    given : str, optional
        A label recorded with the figure (e.g. a custom measure declared in a
        mapping file); used when the table does not know the name.
    """
    name = str(name)
    if name in STANDARD_MEASURES:
        return STANDARD_MEASURES[name].label
    if name in DERIVED_LABELS:
        return DERIVED_LABELS[name]
    if name.startswith(GRADE_PREFIX):
        return f"GCSE {name[len(GRADE_PREFIX):].replace('_', ' ')} grade"
    if given and str(given) != name:
        return str(given)
    return name.replace("_", " ")


def short_label(name: str, given: str | None = None) -> str:
    """A measure's short label for narrow places ('English', 'grade 4+ E&M', 'computing')."""
    name = str(name)
    if name in SHORT_LABELS:
        return SHORT_LABELS[name]
    if name.startswith(GRADE_PREFIX):
        return name[len(GRADE_PREFIX):].replace("_", " ")
    return measure_label(name, given)


def measure_order(name: str) -> tuple:
    """Sort key putting measures in reading order (English beside maths; case ignored)."""
    name = str(name)
    if name in MEASURE_ORDER:
        return (MEASURE_ORDER.index(name), "")
    if name.startswith(GRADE_PREFIX):
        return (MEASURE_ORDER.index(GRADE_PREFIX), short_label(name).casefold())
    return (len(MEASURE_ORDER), short_label(name).casefold())


def published_label(column: str) -> str:
    """A DfE performance-table measure as people read it ('READPROG' -> 'reading progress')."""
    return PUBLISHED_LABELS.get(str(column), str(column))


def characteristic_label(name: str) -> str:
    """A characteristic or split ('prior_band' -> 'prior attainment', 'eal' -> 'EAL')."""
    name = str(name)
    if name.startswith("overlap: "):
        return name.split(": ", 1)[1]
    return CHARACTERISTIC_LABELS.get(name, name.replace("_", " "))


def value_label(split: str, value) -> str:
    """One value of a split as people say it ('sen', 'K' -> 'SEN support'; True -> 'yes')."""
    value = str(value)
    if (str(split), value) in VALUE_LABELS:
        return VALUE_LABELS[(str(split), value)]
    return {"True": "yes", "False": "no"}.get(value, value)


def subgroup_label(subgroup) -> str:
    """A subgroup of the results model ('sex=F') as people say it ('girls'); '' for the whole cohort."""
    if subgroup is None or str(subgroup) in ("", "None", "nan", "<NA>"):
        return ""
    split, _, value = str(subgroup).partition("=")
    return value_label(split, value)


def subgroup_words(subgroup) -> str:
    """A subgroup as a sentence names it ('sen=K' -> 'pupils on SEN support'); never 'nan' or 'None'.

    A subgroup the table does not know is named from its split and value
    ('pupils with ethnicity: WBRI'); a missing one is 'the whole cohort'.
    """
    if subgroup is None or str(subgroup) in ("", "None", "nan", "<NA>"):
        return "the whole cohort"
    text = str(subgroup)
    if text in SUBGROUP_WORDS:
        return SUBGROUP_WORDS[text]
    split, _, value = text.partition("=")
    for true, false in (("1", "0"), ("1.0", "0.0"), ("yes", "no")):  # a yes/no split written as a number
        if value in (true, false):
            return SUBGROUP_WORDS.get(f"{split}={value == true}", f"pupils with {characteristic_label(split)}: "
                                      f"{'yes' if value == true else 'no'}")
    if value in ("", "None", "nan", "<NA>", "unknown"):
        return f"pupils whose {characteristic_label(split)} is unknown"
    return f"pupils with {characteristic_label(split)}: {value_label(split, value)}"


def group_label(group: str) -> str:
    """'disadvantaged' -> 'disadvantaged pupils', 'other' -> 'other pupils'."""
    return GROUP_LABELS.get(str(group), str(group))


def glossary(terms) -> dict[str, str]:
    """The glossary entries for ``terms`` (keys of :data:`GLOSSARY`), in the order given."""
    return {t: GLOSSARY[t] for t in dict.fromkeys(terms) if t in GLOSSARY}
