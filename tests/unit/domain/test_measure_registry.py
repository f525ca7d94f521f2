"""The one registry of measures: consistent, the only place outside domain/io that names standard measures,
and adding an entry is all it takes for a measure to appear where it should (issue 25, item 2)."""
import ast
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gaptools
from gaptools.domain import registry as reg
from gaptools.domain.columns import COLUMNS, DERIVED, GRADE_PREFIX, VALUE_ADDED_PREFIX
from gaptools.domain.labels import MEASURE_ORDER, SHORT_LABELS, measure_order, short_label
from gaptools.domain.measures import HEADLINE_NEEDS
from gaptools.targeting.evidence import NEEDS, evidence_table

PKG = Path(gaptools.__file__).resolve().parent
#: The modules outside domain/ and io/ still allowed to name standard measures: the pupil-level
#: targeting bars and staff-list columns (about pupils' own columns, not about measures' facts).
#: At most two, by the issue.
ALLOWED = {"targeting/pupils.py"}


def _docstrings(tree) -> set[int]:
    """ids of the docstring nodes of a module, its classes and functions."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def naming_modules(root: Path, ids) -> dict[str, list[str]]:
    """Modules under ``root`` outside domain/ and io/ naming a standard measure, with what they name.

    Named: a string in the code (not a docstring or comment) without a space that holds a measure id as a
    word ("attainment8", "va_grade_english", "persistent_absence=True", "reading_score_code"), or an
    identifier that is one. A sentence ("behaviour and suspensions") is prose, not a name.
    """
    word = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(sorted(map(re.escape, ids), key=len, reverse=True))
                      + r")(?![A-Za-z0-9])")
    out = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] in ("domain", "io"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip \
                    and not re.search(r"\s", node.value):
                found += word.findall(node.value)
            elif isinstance(node, ast.Name) or isinstance(node, ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
                if name in ids:
                    found.append(name)
        if found:
            out[rel] = sorted(set(found))
    return out


def test_standard_measures_are_named_only_in_the_registry():
    named = naming_modules(PKG, set(reg.STANDARD_MEASURES))
    assert len(ALLOWED) <= 2
    assert set(named) <= ALLOWED, {m: v for m, v in named.items() if m not in ALLOWED}


def test_the_count_sees_a_name(tmp_path):
    """The check finds a measure named in code, and not one in a docstring, a comment or a sentence."""
    (tmp_path / "analysis").mkdir()
    (tmp_path / "domain").mkdir()
    (tmp_path / "analysis" / "a.py").write_text('"""attainment8 in a docstring."""\nX = ("attainment8",)\n')
    (tmp_path / "analysis" / "b.py").write_text('# attainment8\nY = "behaviour and suspensions"\n'
                                                'Z = f"{1}persistent_absence=True"\n')
    (tmp_path / "analysis" / "c.py").write_text('"""Doc."""\nW = "va_grade_english"\nV = "attainment88"\n')
    (tmp_path / "domain" / "d.py").write_text('X = "attainment8"\n')
    got = naming_modules(tmp_path, {"attainment8", "suspensions", "persistent_absence", "grade_english"})
    assert got == {"analysis/a.py": ["attainment8"], "analysis/b.py": ["persistent_absence"],
                   "analysis/c.py": ["grade_english"]}


def test_registry_is_consistent():
    every = reg.REGISTRY
    assert set(every) == set(reg.STANDARD_MEASURES) | set(reg.VALUE_ADDED_MEASURES)
    toolkit_needs = {n for needs in evidence_table()["needs"] for n in needs}
    for name, m in every.items():
        assert m.name == name and m.kind in ("score", "rate") and not m.custom
        assert m.label and (m.short_label or m.label)
        assert set(m.key_stages or ()) <= {"KS2", "KS4"} and m.key_stages
        assert m.kind != "rate" or (m.unit == "%" and m.decimals is None)  # rates: whole percentages
        assert m.weight is not None and 0 < m.weight <= 1, name
        assert m.need in NEEDS and m.need in toolkit_needs, name  # a need the EEF evidence table knows
        assert set(m.headline) <= set(reg.HEADLINE_LISTS), name
        assert m.order is not None
        if set(m.headline) - {"findings", "concentration"}:
            assert m.rank is not None, f"{name} is on an ordered headline list without a rank"
        if "overview" in m.headline:
            assert m.heading
        if m.pair is not None:
            other = every[m.pair]
            assert m.subject and other.subject and other.key_stages == m.key_stages and other.unit == m.unit
        if m.value_added_of is not None:
            base = reg.STANDARD_MEASURES[m.value_added_of]
            assert name == VALUE_ADDED_PREFIX + base.name and base.kind == "score" and m.progress
        if m.attendance or m.split:
            assert m.need == "attendance"
        if m.absent_below is not None:  # a share of pupils below a line of attendance
            assert m.attendance and m.kind == "rate" and not m.higher_is_better and 0 < m.absent_below < 100
    assert 0 < reg.DEFAULT_WEIGHT <= 1
    # every standard measure is a column of the data contract, or one gaptools derives from them
    for name in reg.STANDARD_MEASURES:
        assert name in COLUMNS or name in DERIVED or name.startswith(GRADE_PREFIX)
    assert set(DERIVED) <= set(reg.STANDARD_MEASURES)
    # orders and ranks are places: no two measures share one
    orders = [m.order for m in every.values()]
    ranks = [m.rank for m in every.values() if m.rank is not None]
    assert len(set(orders)) == len(orders) and len(set(ranks)) == len(ranks)
    assert reg.OTHER_SUBJECTS_ORDER not in orders
    # narrow places map a short label back to its measure: each is one measure's
    assert len(set(map(str.casefold, SHORT_LABELS.values()))) == len(SHORT_LABELS)
    # each key stage has exactly one funnel measure, of that key stage and on its decision list
    for ks in reg.key_stages():
        funnel = [m for m in reg.STANDARD_MEASURES.values() if m.funnel and ks in m.key_stages]
        assert len(funnel) == 1 and funnel[0].name in reg.headline("decision", ks)
    # every headline list has measures, each a registry entry; what a missing column loses names real ones
    for which in reg.HEADLINE_LISTS:
        assert reg.headline(which) and set(reg.headline(which)) <= set(every)
    for needs in HEADLINE_NEEDS.values():
        for cols, _ in needs:
            assert all(c in every or c in COLUMNS for c in cols)
    with pytest.raises(KeyError, match="no headline list 'bogus'"):
        reg.headline("bogus")


def test_reading_order_puts_english_beside_maths_and_other_subjects_in_their_place():
    assert MEASURE_ORDER.count(GRADE_PREFIX) == 1 and set(MEASURE_ORDER) == set(reg.REGISTRY) | {GRADE_PREFIX}
    ranked = sorted(reg.REGISTRY, key=measure_order)
    assert ranked.index("grade_maths") == ranked.index("grade_english") + 1
    subjects = ["grade_english", "grade_maths", "grade_Art", "grade_computing", "basics_4plus"]
    assert sorted(subjects, key=measure_order) == ["grade_english", "grade_maths", "grade_Art", "grade_computing",
                                                   "basics_4plus"]
    assert short_label("grade_computing") == "computing"


def test_headline_lists_follow_rank_and_key_stage():
    gov4 = reg.headline("governors", "KS4")
    assert all("KS4" in reg.REGISTRY[m].key_stages for m in gov4)
    assert [reg.REGISTRY[m].rank for m in gov4] == sorted(reg.REGISTRY[m].rank for m in gov4)
    assert reg.headline("governors", "KS3") == ()  # a key stage of a school's own: no standard headline
    assert reg.by_rank(["not_a_measure", "attendance_pct", "attainment8"]) == ["attainment8", "attendance_pct",
                                                                              "not_a_measure"]
    assert reg.weight("not_a_measure") == reg.DEFAULT_WEIGHT


_ADDED = textwrap.dedent('''
    import json, sys, warnings
    import pandas as pd
    from gaptools.domain import registry as reg
    new = reg.Measure("science_points", "science points", "score", "points", True, ("KS4",),
                      short_label="science", order=19, rank=12, weight=0.9, need="teaching",
                      headline=("findings", "governors", "decision"))
    reg.STANDARD_MEASURES[new.name] = new  # one entry, before anything reads the registry
    reg.REGISTRY[new.name] = new
    import gaptools
    from gaptools.analysis import findings, trust
    from gaptools.domain.formatting import number
    from gaptools.domain.labels import measure_order, short_label
    from gaptools.reporting import governors
    from gaptools.targeting import priorities
    warnings.simplefilter("ignore")
    p = gaptools.load_pupils(pd.read_pickle(sys.argv[1]))
    g = gaptools.gap_table(p, detail=True)
    f = gaptools.findings(g)
    row = g[(g.measure == "science_points") & (g.comparison == "in_school") & g.subgroup.isna()].iloc[0]
    print(json.dumps({
        "measures": [m.name for m in gaptools.domain.measures.measures_for(p, "KS4")],
        "gap": [float(row.gap), bool(row.clear), row.label],
        "findings": f.loc[f.measure == "science_points", "category"].tolist(),
        "governors": list(governors.HEADLINE["KS4"]), "decision": list(trust.HEADLINE_MEASURES),
        "need": priorities.MEASURE_NEEDS.get("science_points"), "weight": findings.WEIGHT.get("science_points"),
        "short": short_label("science_points"), "after": measure_order("science_points") > measure_order("suspensions"),
        "number": number(1.234, "points", "science_points"),
    }))
''')


def _pupils(n_dis=30, n_other=60, seed=3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dis = np.r_[np.ones(n_dis, bool), np.zeros(n_other, bool)]
    n = len(dis)
    return pd.DataFrame({"school_id": "A", "year": 2025, "key_stage": "KS4", "pupil_id": [f"P{i}" for i in range(n)],
                         "disadvantaged": dis, "attainment8": np.round(45 + 15 * rng.normal(size=n), 1).clip(0, 90),
                         "science_points": np.round(50 - 8 * dis + 10 * rng.normal(size=n), 1)})


def test_one_registry_entry_is_all_it_takes(tmp_path):
    """A measure added to the registry (and nothing else) is analysed, found, headlined, weighed and labelled."""
    frame = _pupils()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # without the entry the column is no measure: no gap row, no finding
        before = gaptools.gap_table(gaptools.load_pupils(frame), detail=True)
    assert "science_points" not in set(before["measure"])
    frame.to_pickle(tmp_path / "p.pkl")
    done = subprocess.run([sys.executable, "-c", _ADDED, str(tmp_path / "p.pkl")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import json
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["measures"] == ["attainment8", "science_points"]
    dis = frame.loc[frame.disadvantaged, "science_points"]
    other = frame.loc[~frame.disadvantaged, "science_points"]
    gap, clear, label = got["gap"]
    assert gap == pytest.approx(other.mean() - dis.mean()) and label == "science points"
    # on the findings' headline list: a clear gap is a finding, an unclear one says "no clear difference"
    assert ("gap" if clear and gap > 0 else "ahead" if clear else "no_clear_difference") in got["findings"]
    assert got["governors"][-1] == "science_points" and got["governors"][0] == "attainment8"
    assert got["decision"][-1] == "science_points"
    assert got["need"] == "teaching" and got["weight"] == 0.9
    assert got["short"] == "science" and got["after"] and got["number"] == "1.2"
