"""Disclosure control: the derivation attack on every released table, and why each row is withheld.

The attack is the one a reader can make with a calculator: within every
partition of a table (each split crossed with disadvantaged / other pupils,
and the whole cohort, whose size and all-pupil figures are public), subtract
the shown cells from the whole, for counts (``n - sum n_i``) and for means
(``n * mean - sum n_i * mean_i``). It must never give a withheld group of 1 to
threshold - 1 pupils. A withheld whole that its shown parts add up to (or that
a shown share gives back) counts as known. The true group sizes come from the
pupil table itself, counted here with pandas.
"""
import warnings

import numpy as np
import pandas as pd
import pytest

import gaptools
from gaptools.analysis.results import analyse_school, results_dict
from gaptools.domain.suppression import (
    DEFAULT_THRESHOLD,
    NO_COMPARISON_GROUP,
    PROTECTS_ANOTHER_GROUP,
    TOO_FEW_DISADVANTAGED,
    TOO_FEW_OTHERS,
    WITHHELD_REASONS,
    group_sizes_withheld,
)

THRESHOLDS = (DEFAULT_THRESHOLD, 10)
UNIT = ["school_id", "key_stage", "year"]


# --- the pupils' true groups, counted directly --------------------------------------------

def level_labels(p: pd.DataFrame, split: str) -> pd.Series:
    """Each pupil's subgroup label (``split=value``), None where unknown."""
    if split == "prior_band":
        x = pd.to_numeric(p["prior_attainment"], errors="coerce").astype(float)
        v = pd.Series(np.select([x < 100, x < 110, x >= 110], ["low", "middle", "high"], None),
                      index=p.index).where(x.notna())
    else:
        v = p[split].astype(object).where(p[split].notna())
    known = v.notna()
    return (f"{split}=" + v[known].map(str)).reindex(v.index).astype(object).where(known, None)


def true_groups(pupils: pd.DataFrame, unit, measure: str, units: dict | None = None):
    """Pupils of one school, key stage and year with a value of ``measure``: their values and whether
    each is disadvantaged (two Series on the pupils' index), or None (a derived measure). ``units``
    keeps each unit's pupils once found (an attack asks for the same unit measure by measure)."""
    if measure not in pupils.columns:
        return None
    units = {} if units is None else units
    if unit not in units:
        units[unit] = pupils[(pupils.school_id == unit[0]) & (pupils.key_stage == unit[1])
                             & (pupils.year == unit[2])]
    p = units[unit]
    has = p[measure].notna().to_numpy()
    index = p.index[has]
    return (pd.Series(p[measure].to_numpy(dtype=float, na_value=np.nan)[has], index=index),
            pd.Series(p["disadvantaged"].to_numpy(dtype=bool)[has], index=index))


# --- the attack ---------------------------------------------------------------------------

def attack_gaps(pupils: pd.DataFrame, g: pd.DataFrame, t: int) -> list[str]:
    """Every withheld group of 1 to t-1 pupils that whole-minus-shown gives, in a gap table."""
    found, units, pupil_labels = [], {}, {}
    groups: dict[tuple, list] = {}  # the table's rows by unit and measure, read in one pass
    for r in g[UNIT + ["measure", "subgroup", "comparison", "suppressed", "n_disadvantaged", "mean_disadvantaged",
                       "n_reference", "mean_reference"]].itertuples(index=False):
        key = tuple(None if pd.isna(v) else v for v in (r.school_id, r.key_stage, r.year, r.measure))
        groups.setdefault(key, []).append(r._replace(subgroup=None if pd.isna(r.subgroup) else r.subgroup))
    for (sid, ks, yr, m), rows in groups.items():
        unit = (sid, ks, yr)
        cells = {"dis": {}, "oth": {}}  # group -> subgroup label (None: whole) -> (n, mean)
        for r in rows:
            if bool(r.suppressed):
                continue
            cells["dis"][r.subgroup] = (float(r.n_disadvantaged), float(r.mean_disadvantaged))
            if r.comparison == "in_school":
                cells["oth"][r.subgroup] = (float(r.n_reference), float(r.mean_reference))
        splits = sorted({r.subgroup.split("=")[0] for r in rows if r.subgroup is not None})
        truth = true_groups(pupils, unit, m, units)
        whole = {k: cells[k].get(None) for k in cells}
        if truth is not None:
            values, dis = truth
            in_group = {"dis": dis, "oth": ~dis}
            # a withheld whole its shown parts add up to is known too
            for k in cells:
                for split in splits if whole[k] is None else ():
                    if (unit, split) not in pupil_labels:  # each pupil's label, found once for the unit
                        pupil_labels[unit, split] = level_labels(units[unit], split)
                    lv = pupil_labels[unit, split].loc[values.index[in_group[k].to_numpy()]]
                    present = set(lv.dropna())
                    if lv.isna().sum() == 0 and present and present <= set(cells[k]):
                        parts = [cells[k][s] for s in present]
                        n = sum(a for a, _ in parts)
                        whole[k] = (n, sum(a * b for a, b in parts) / n)
                        if 0 < len(values[in_group[k]]) < t:
                            found.append(f"{unit} {m}: {k} whole of {n:.0f} from its {split} parts")
            # the whole cohort is public: one group's shown total gives the other's
            known = [k for k in whole if whole[k] is not None]
            if len(known) == 1:
                k = known[0]
                other = "oth" if k == "dis" else "dis"
                rest_n = len(values) - whole[k][0]
                rest_sum = values.sum() - whole[k][0] * whole[k][1]
                if 0 < rest_n < t:
                    found.append(f"{unit} {m}: count {rest_n:.0f} of {other} from the cohort")
                    if abs(rest_sum / rest_n - values[in_group[other]].mean()) < 1e-6:
                        found.append(f"{unit} {m}: mean of {rest_n:.0f} {other} from the cohort")
        for k, w in whole.items():
            if w is None:
                continue
            for split in splits:
                parts = [v for s, v in cells[k].items() if s is not None and s.startswith(split + "=")]
                rest_n = w[0] - sum(a for a, _ in parts)
                rest_sum = w[0] * w[1] - sum(a * b for a, b in parts)
                if 0.5 < rest_n < t - 0.5:
                    found.append(f"{unit} {m} {k} by {split}: count {rest_n:.0f} (whole {w[0]:.0f} minus shown)")
                    found.append(f"{unit} {m} {k} by {split}: mean {rest_sum / rest_n:.4f} of {rest_n:.0f} pupils")
    return found


def rate_counts(gaps: pd.DataFrame | None) -> dict[tuple, set]:
    """(unit, group) -> the counts page 02 gives of its persistently absent pupils and of the rest
    (the rate times the count, and the count less that): shown there, so not withheld on page 01."""
    out: dict[tuple, set] = {}
    if gaps is None:
        return out
    pa = gaps[(gaps.measure == "persistent_absence") & gaps.subgroup.isna() & ~gaps.suppressed.astype(bool)]
    for r in pa.itertuples(index=False):
        unit = (r.school_id, r.key_stage, r.year)
        cells = [("disadvantaged", r.n_disadvantaged, r.mean_disadvantaged)]
        if r.comparison == "in_school":
            cells.append(("other", r.n_reference, r.mean_reference))
        for group, n, mean in cells:
            yes = round(float(n) * float(mean))
            out.setdefault((unit, group), set()).update({yes, float(n) - yes})
    return out


def attack_profile(pupils: pd.DataFrame, prof: pd.DataFrame, t: int, gaps: pd.DataFrame | None = None) -> list[str]:
    """The same attack on the cohort profile (counts and shares); the attendance bands the gap
    table's persistent-absence rate gives together (``gaps``) are shown there, not withheld."""
    found = []
    by_rate = rate_counts(gaps)
    for unit, rows in prof.groupby(UNIT):
        p = pupils[(pupils.school_id == unit[0]) & (pupils.key_stage == unit[1]) & (pupils.year == unit[2])]
        size = {"disadvantaged": int(p.disadvantaged.astype(bool).sum()),
                "other": int((~p.disadvantaged.astype(bool)).sum())}
        shown = rows[~rows.suppressed.astype(bool)]
        whole = {}
        for grp in size:
            mine = shown[shown.group == grp]
            total = mine[mine.characteristic == "all"]
            parts = mine[mine.characteristic != "all"]
            if len(total):
                whole[grp] = float(total.n.iloc[0])
                continue
            share = parts[parts.n > 0]
            if len(share):  # n / pct gives the group's total back
                whole[grp] = float(share.n.iloc[0] / share.pct.iloc[0])
            for _char, cs in rows[(rows.group == grp) & (rows.characteristic != "all")].groupby("characteristic"):
                if not cs.suppressed.astype(bool).any():  # every value shown: they add up to the total
                    whole[grp] = float(cs.n.sum())
            if grp in whole and 0 < size[grp] < t:
                found.append(f"{unit}: {grp} total {whole[grp]:.0f} derived")
        if len(whole) == 1:
            grp = next(iter(whole))
            rest = len(p) - whole[grp]
            if 0.5 < rest < t - 0.5:
                found.append(f"{unit}: the other group's total {rest:.0f} from the cohort of {len(p)}")
        for grp, w in whole.items():
            for char, cs in rows[(rows.group == grp) & (rows.characteristic != "all")].groupby("characteristic"):
                rest = w - cs[~cs.suppressed.astype(bool)].n.astype(float).sum()
                if char == "attendance" and rest in by_rate.get((unit, grp), ()):
                    continue
                if 0.5 < rest < t - 0.5:
                    found.append(f"{unit}: {grp} by {char}: {rest:.0f} withheld pupils derived")
    return found


def attack_index(pupils: pd.DataFrame, gi: pd.DataFrame, t: int) -> list[str]:
    """The gap index shows both groups or neither; shown groups are never small."""
    found = []
    for r in gi.itertuples():
        shown = [v for v in (r.n_disadvantaged, r.n_other) if not pd.isna(v)]
        if len(shown) == 1:
            found.append(f"{r.school_id} {r.key_stage} {r.year}: one group's size beside a public cohort")
        if not r.suppressed and (min(shown) < t or pd.isna(r.value)):
            found.append(f"{r.school_id} {r.key_stage} {r.year}: a group under {t} shown")
        if r.suppressed and (shown or not pd.isna(r.value)):
            found.append(f"{r.school_id} {r.key_stage} {r.year}: withheld, yet figures shown")
    return found


SEN = {"N": "no SEN", "K": "SEN support", "E": "EHC plan"}
BANDS = ((95, "95% or more"), (90, "90% to 95%"), (50, "50% to 90% (persistently absent)"),
         (-np.inf, "below 50% (severely absent)"))
SEN_PA, LOW_PA = "overlap: SEN and persistently absent", "overlap: low prior attainment and persistently absent"


def true_cells(p: pd.DataFrame) -> dict[tuple, int]:
    """One cohort's true counts, by group: its size, the profile's values of SEN, sex, prior band,
    attendance band and their overlaps, and the persistently absent in each SEN and prior group."""
    att = p.attendance_pct.astype(float) if "attendance_pct" in p else pd.Series(np.nan, index=p.index)
    band = pd.Series("unknown", index=p.index, dtype=object)
    for lo, name in BANDS[::-1]:
        band[att >= lo] = name
    prior = p.prior_attainment.astype(float) if "prior_attainment" in p else pd.Series(np.nan, index=p.index)
    labels = {"sen": p.sen.astype(object).map(SEN).fillna("unknown") if "sen" in p else None,
              "sex": p.sex.astype(object).map({"F": "female", "M": "male"}).fillna("unknown") if "sex" in p else None,
              "prior_band": pd.Series(np.select([prior < 100, prior < 110, prior >= 110], ["low", "middle", "high"],
                                                "unknown"), index=p.index),
              "attendance": band}
    pa = (att < 90).to_numpy()
    sen_any = labels["sen"].isin(["SEN support", "EHC plan"]).to_numpy() if labels["sen"] is not None else None
    low = (prior < 100).to_numpy()
    # an overlap is unknown where either part is (no attendance, SEN or KS2 results), never "no"
    no_att = att.isna().to_numpy()
    if sen_any is not None:
        labels[SEN_PA] = pd.Series(np.select([sen_any & pa, no_att | (labels["sen"] == "unknown").to_numpy()],
                                             ["yes", "unknown"], "no"), index=p.index)
    labels[LOW_PA] = pd.Series(np.select([low & pa, no_att | prior.isna().to_numpy()], ["yes", "unknown"], "no"),
                               index=p.index)
    out = {}
    for group, mine in (("disadvantaged", p.disadvantaged.astype(bool).to_numpy()),
                        ("other", ~p.disadvantaged.astype(bool).to_numpy())):
        out[group, "all", "all pupils"] = int(mine.sum())
        for char, v in labels.items():
            if v is None:
                continue
            for value in v.unique():  # every value the cohort has: a group may have none of it
                out[group, char, value] = int((mine & (v == value).to_numpy()).sum())
                if char in ("sen", "prior_band"):  # the persistently absent of each group
                    out[group, "PA|" + char, value] = int((mine & pa & (v == value).to_numpy()).sum())
    return out


def attack_across(pupils: pd.DataFrame, gaps: pd.DataFrame, prof: pd.DataFrame, t: int) -> list[str]:
    """Every withheld group of 1 to t-1 pupils that the profile (page 01) and the gap table
    (page 02, results.json) give together, cohort by cohort.

    The unknowns are a cohort's counts: for each group, its size, its pupils of each value of
    SEN, sex, prior band, attendance band and their overlaps, and the persistently absent of
    each SEN and prior group. What a reader knows of them: the identities (each characteristic's
    values add up to the group; the persistently absent are the 50-90% and under-50% bands, and
    add up by SEN and by prior band; the overlaps are sums of those), the public cohort size, the
    profile's shown counts, and from the gap table: a rate times its count (severe absence gives
    the under-50% band, persistent absence the two bands together, the persistent-absence rate of
    an SEN or prior group its persistently absent), a whole-group count of a measure (those
    without it), a subgroup's count of a measure every pupil of the group has (the profile's
    value), a value-added count of such a measure (those with KS2 results). A withheld count is
    given back when it is a linear combination of those (the solver a reader would use).
    """
    found = []
    keys = gaps[UNIT].drop_duplicates().itertuples(index=False)
    for sid, ks, yr in keys:
        p = pupils[(pupils.school_id == sid) & (pupils.key_stage == ks) & (pupils.year == yr)]
        truth = true_cells(p)
        names = sorted(truth)  # the unknowns
        at = {k: i for i, k in enumerate(names)}
        known = []  # linear forms over the unknowns whose values a reader has

        def form(*terms, names=names, at=at):
            f = np.zeros(len(names))
            for sign, k in terms:
                if k in at:
                    f[at[k]] += sign
            return f
        known.append(form((1, ("disadvantaged", "all", "all pupils")), (1, ("other", "all", "all pupils"))))
        identities = []
        for group in ("disadvantaged", "other"):
            whole = (group, "all", "all pupils")
            for char in {k[1] for k in names if k[0] == group and k[1] != "all"}:
                parts = [k for k in names if k[0] == group and k[1] == char]
                if char.startswith("PA|"):  # the persistently absent, by SEN or prior band
                    identities.append(form(*[(1, k) for k in parts], (-1, (group, "attendance", BANDS[2][1])),
                                           (-1, (group, "attendance", BANDS[3][1]))))
                else:
                    identities.append(form((1, whole), *[(-1, k) for k in parts]))
            identities.append(form((1, (group, SEN_PA, "yes")), (-1, (group, "PA|sen", "SEN support")),
                                   (-1, (group, "PA|sen", "EHC plan"))))
            identities.append(form((1, (group, LOW_PA, "yes")), (-1, (group, "PA|prior_band", "low"))))
        for r in prof[(prof.school_id == sid) & (prof.key_stage == ks) & (prof.year == yr)].itertuples():
            k = (r.group, r.characteristic, r.value)
            if not r.suppressed and k in at:
                assert truth[k] == r.n, (sid, ks, yr, k)
                known.append(form((1, k)))
        g = gaps[(gaps.school_id == sid) & (gaps.key_stage == ks) & (gaps.year == yr)]
        w = g[g.subgroup.isna() & (g.comparison == "in_school") & ~g.suppressed.astype(bool)]
        whole_n = {(m, "disadvantaged"): float(a) for m, a in zip(w.measure, w.n_disadvantaged)}
        whole_n.update({(m, "other"): float(a) for m, a in zip(w.measure, w.n_reference)})
        levels = {"sen": SEN, "sex": {"F": "female", "M": "male"},
                  "prior_band": {v: v for v in ("low", "middle", "high")}}
        secrets = []
        for r in g.itertuples(index=False):
            sub = None if pd.isna(r.subgroup) else r.subgroup
            cells = [("disadvantaged", r.n_disadvantaged, r.mean_disadvantaged)]
            if r.comparison == "in_school":
                cells.append(("other", r.n_reference, r.mean_reference))
            for group, n, _mean in cells:
                total = truth[group, "all", "all pupils"]
                split, value = sub.split("=") if sub else (None, None)
                if r.suppressed:
                    if r.measure == "persistent_absence" and split in ("sen", "prior_band"):
                        k = (group, "PA|" + split, levels[split][value])
                        size = truth.get((group, split, levels[split][value]), 0)
                        if 0 < truth.get(k, 0) < size < t:
                            secrets.append(k)  # the rate of a small group, from its persistently absent
                    continue
                n = float(n)
                if sub is None and r.measure == "severe_absence":
                    known.append(form((1, (group, "attendance", BANDS[3][1]))))
                if sub is None and r.measure == "persistent_absence":
                    known.append(form((1, (group, "attendance", BANDS[2][1])), (1, (group, "attendance", BANDS[3][1]))))
                if sub is None and r.measure in ("attendance_pct", "persistent_absence", "severe_absence"):
                    known.append(form((1, (group, "all", "all pupils")), (-1, (group, "attendance", "unknown"))))
                if r.measure == "persistent_absence" and split in ("sen", "prior_band"):
                    known.append(form((1, (group, "PA|" + split, levels[split][value]))))
                if split in levels and whole_n.get((r.measure, group)) == total:  # every pupil has it
                    known.append(form((1, (group, split, levels[split][value]))))
                if split == "persistent_absence" and whole_n.get((r.measure, group)) == total:
                    two = BANDS[2:] if value == "True" else BANDS[:2]  # those below 90%, or the rest
                    known.append(form(*[(1, (group, "attendance", name)) for _, name in two]))
                outcome = r.measure[3:] if r.measure.startswith("va_") else None
                if sub is None and outcome and whole_n.get((outcome, group)) == total:
                    known.append(form((1, (group, "all", "all pupils")), (-1, (group, "prior_band", "unknown"))))
        here = prof[(prof.school_id == sid) & (prof.key_stage == ks) & (prof.year == yr)]
        for r in here[here.suppressed].itertuples():
            k = (r.group, r.characteristic, r.value)
            if 0 < truth.get(k, 0) < t:
                secrets.append(k)
        if not secrets:
            continue
        rows = np.array(identities + known)
        _, sv, vt = np.linalg.svd(rows, full_matrices=False)
        basis = vt[sv > 1e-9 * sv[0]]
        for k in sorted(set(secrets)):
            e = form((1, k))
            if np.linalg.norm(e - (e @ basis.T) @ basis) < 1e-6:
                found.append(f"{(sid, ks, yr)} {k}: {truth[k]} pupils from the figures shown")
    return found


# --- the tables attacked ------------------------------------------------------------------

def small_schools(seed: int = 3) -> pd.DataFrame:
    """KS4 schools with 1-7 (and 8-14) disadvantaged pupils spread across SEN, sex and prior bands."""
    rng = np.random.default_rng(seed)
    rows = []
    for n_dis in list(range(1, 8)) * 3 + list(range(8, 15)):
        sid = f"S{len(rows):05d}"
        n_oth = int(rng.integers(20, 70))
        n = n_dis + n_oth
        dis = np.arange(n) < n_dis
        prior = rng.choice([np.nan, 92.0, 98.5, 103.0, 107.5, 112.0, 116.0], n)
        eng = np.clip(np.round(4.5 + 1.5 * rng.normal(0, 1, n) - dis), 0, 9).astype(int)
        mat = np.clip(np.round(4.5 + 1.5 * rng.normal(0, 1, n) - dis), 0, 9).astype(int)
        for i in range(n):
            rows.append({"school_id": sid, "year": 2024, "key_stage": "KS4", "pupil_id": f"{sid}-{i}",
                         "disadvantaged": bool(dis[i]), "sex": rng.choice(["F", "M"]),
                         "sen": rng.choice(["N", "K", "E"], p=[0.5, 0.35, 0.15] if dis[i] else [0.8, 0.15, 0.05]),
                         "prior_attainment": prior[i],
                         "attainment8": float(np.clip(45 + 15 * rng.normal(), 0, 90).round(1)),
                         "grade_english": int(eng[i]), "grade_maths": int(mat[i]),
                         "attendance_pct": float(np.clip(94 + 5 * rng.normal(), 30, 100).round(1))})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def small():
    return small_schools()


@pytest.mark.parametrize("t", THRESHOLDS)
def test_no_withheld_group_derivable_in_sample_results(sample_pupils, sample_results, t):
    found = []
    for sid in sorted(sample_pupils.school_id.unique()):
        res = sample_results[sid] if t == DEFAULT_THRESHOLD else analyse_school(sample_pupils, sid, threshold=t)
        doc = results_dict(res)  # what results.json carries, rounded as written
        gaps = pd.DataFrame(doc["gaps"]).assign(school_id=sid)
        assert (gaps.withheld_reason.isna() == ~gaps.suppressed).all()
        found += attack_gaps(sample_pupils, gaps, t)
        found += attack_gaps(sample_pupils, res.gaps, t)
        found += attack_profile(sample_pupils, res.profile, t, gaps)
        found += attack_index(sample_pupils, res.gap_index, t)
        found += attack_across(sample_pupils, gaps, res.profile, t)
    assert not found, found[:20]


@pytest.mark.parametrize("t", THRESHOLDS)
def test_no_withheld_group_derivable_in_small_schools(small, t):
    g = gaptools.gap_table(small, threshold=t)
    assert g.suppressed.any() and (~g.suppressed).any()
    found = attack_gaps(small, g, t)
    prof = gaptools.cohort_profile(small, threshold=t, gaps=g)
    found += attack_profile(small, prof, t, g)
    found += attack_across(small, g, prof, t)
    found += attack_index(small, gaptools.gap_index(small, threshold=t), t)
    assert not found, found[:20]


def test_the_issue_example_is_closed(sample_pupils):
    # 900201 KS2 2025 reading: 51 disadvantaged, 46 with sen=N, and sen=K and sen=E withheld
    g = gaptools.gap_table(sample_pupils, school_id="900201", year=2025, measures=["reading_score"])
    dis = sample_pupils[(sample_pupils.school_id == "900201") & (sample_pupils.year == 2025)
                        & sample_pupils.disadvantaged.astype(bool) & sample_pupils.reading_score.notna()]
    sen = g[(g.comparison == "in_school") & g.subgroup.fillna("").str.startswith("sen=")]
    counts = dis.sen.astype(str).value_counts()
    hidden = sen[sen.suppressed].subgroup.str[4:]
    assert (counts[counts < DEFAULT_THRESHOLD].index.isin(hidden)).all()
    assert counts.reindex(hidden).sum() >= DEFAULT_THRESHOLD
    assert not attack_gaps(sample_pupils, g, DEFAULT_THRESHOLD)


def test_the_attack_finds_the_old_leak(sample_pupils):
    # the attack itself can fail: with secondary suppression undone it finds the issue's example
    g = gaptools.gap_table(sample_pupils, school_id="900201", year=2025, measures=["reading_score"],
                           subgroups=("sen",))
    raw = gaptools.gap_table(sample_pupils, school_id="900201", year=2025, measures=["reading_score"],
                             subgroups=("sen",), threshold=1)
    leaky = raw.copy()
    small = (raw.n_disadvantaged < DEFAULT_THRESHOLD) | (raw.n_reference < DEFAULT_THRESHOLD)
    leaky.loc[small, ["n_disadvantaged", "n_reference", "mean_disadvantaged", "mean_reference"]] = np.nan
    leaky["suppressed"] = small
    assert attack_gaps(sample_pupils, leaky, DEFAULT_THRESHOLD)
    assert not attack_gaps(sample_pupils, g, DEFAULT_THRESHOLD)


# --- why each row is withheld ---------------------------------------------------------------

def school(groups, year=2024, key_stage="KS4", seed=0):
    """groups: list of (disadvantaged, n, overrides) -> a loaded pupil table for school 'H'."""
    rng = np.random.default_rng(seed)
    rows = []
    for dis, n, extra in groups:
        for _ in range(n):
            rows.append({"school_id": "H", "school_name": "Hand-made School", "year": year, "key_stage": key_stage,
                         "pupil_id": f"H{len(rows)}",
                         "disadvantaged": dis, "sex": "F" if len(rows) % 2 else "M",
                         "progress8": float(np.round(rng.normal(-0.3, 1.0), 2)),
                         "attainment8": float(np.clip(np.round(40 + 12 * rng.normal(), 1), 0, 90)),
                         "grade_english": int(rng.integers(2, 8)), "grade_maths": int(rng.integers(2, 8)),
                         **extra})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(pd.DataFrame(rows))


def test_reason_all_disadvantaged_school_keeps_national_rows():
    p = school([(True, 150, {})])
    g = gaptools.gap_table(p, subgroups=("sex",), detail=True)
    ins = g[g.comparison == "in_school"]
    assert ins.suppressed.all() and (ins.withheld_reason == NO_COMPARISON_GROUP).all()
    nat = g[(g.comparison != "in_school") & (g.measure == "progress8")]
    assert len(nat) >= 1 and not nat.suppressed.any() and nat.withheld_reason.isna().all()
    assert (nat.n_disadvantaged == 150).all()
    assert nat.mean_disadvantaged.iloc[0] == pytest.approx(p.progress8.astype(float).mean())


def test_reason_one_pupil_prior_band_protected_by_the_next_smallest():
    bands = [(True, 1, {"prior_attainment": 95.0}), (True, 19, {"prior_attainment": 105.0}),
             (True, 30, {"prior_attainment": 115.0}), (False, 20, {"prior_attainment": 95.0}),
             (False, 53, {"prior_attainment": 105.0}), (False, 60, {"prior_attainment": 115.0})]
    g = gaptools.gap_table(school(bands), subgroups=("prior_band",), progress=False, detail=True)
    ins = g[(g.comparison == "in_school") & (g.measure == "attainment8")].set_index("subgroup", drop=False)
    assert ins.loc["prior_band=low", "withheld_reason"] == TOO_FEW_DISADVANTAGED
    assert ins.loc["prior_band=middle", "withheld_reason"] == PROTECTS_ANOTHER_GROUP
    assert not ins.loc["prior_band=high", "suppressed"] and ins.loc["prior_band=high", "n_disadvantaged"] == 30
    whole = ins[ins.subgroup.isna()].iloc[0]
    assert not whole.suppressed and whole.n_disadvantaged == 50 and whole.n_reference == 133


def test_reason_five_pupil_cohort():
    g = gaptools.gap_table(school([(True, 3, {}), (False, 2, {})]), subgroups=("sex",), detail=True)
    assert g.suppressed.all()
    assert (g[g.comparison != "in_school"].withheld_reason == TOO_FEW_DISADVANTAGED).all()
    assert (g[g.comparison == "in_school"].withheld_reason == TOO_FEW_DISADVANTAGED).all()
    assert set(g.withheld_reason) <= set(WITHHELD_REASONS)


def test_reason_few_others_also_withholds_the_national_row():
    # 150 disadvantaged and 3 others: the public cohort size minus the national row's
    # 150 would give the 3 others away
    g = gaptools.gap_table(school([(True, 150, {}), (False, 3, {})]), subgroups=(), detail=True)
    ins, nat = g[g.comparison == "in_school"], g[g.comparison != "in_school"]
    assert (ins.withheld_reason == TOO_FEW_OTHERS).all()
    assert len(nat) and (nat.withheld_reason == PROTECTS_ANOTHER_GROUP).all() and nat.suppressed.all()


@pytest.mark.parametrize("t", THRESHOLDS)
def test_threshold_passed_in_is_the_one_used(t):
    # 8 disadvantaged: 4 girls and 4 boys; withheld only at 10
    g = gaptools.gap_table(school([(True, 8, {}), (False, 40, {})]), subgroups=("sex",), threshold=t,
                           detail=True)
    whole = g[g.subgroup.isna() & (g.comparison == "in_school")]
    assert whole.suppressed.all() == (8 < t)
    assert (whole.withheld_reason == TOO_FEW_DISADVANTAGED).all() == (8 < t)


# --- the profile and the gap index obey the same rule -----------------------------------------

def test_profile_five_disadvantaged_reveals_nothing():
    # the issue: 5 disadvantaged among 61, and the page showed 56 others
    p = school([(True, 5, {"sen": "N"}), (False, 56, {"sen": "N"})])
    prof = gaptools.cohort_profile(p)
    assert prof.suppressed.all() and prof.n.isna().all() and prof.pct.isna().all()
    assert not attack_profile(p, prof, DEFAULT_THRESHOLD)


def test_profile_lone_small_value_takes_the_next_smallest():
    p = school([(True, 2, {"sen": "E"}), (True, 9, {"sen": "K"}), (True, 30, {"sen": "N"}),
                (False, 12, {"sen": "E"}), (False, 20, {"sen": "K"}), (False, 60, {"sen": "N"})])
    prof = gaptools.cohort_profile(p)
    sen = prof[prof.characteristic == "sen"].set_index(["value", "group"])["suppressed"]
    assert sen[("EHC plan", "disadvantaged")] and sen[("SEN support", "disadvantaged")]
    assert not sen[("no SEN", "disadvantaged")]
    assert not attack_profile(p, prof, DEFAULT_THRESHOLD)


def test_headline_withholds_the_group_sizes():
    from gaptools.reporting.school import SchoolReport

    p = school([(True, 5, {}), (False, 56, {})])
    part = SchoolReport(p, "H").headline()[0]
    text = str(getattr(part, "data", part))
    assert "61 pupils" in text and "56" not in text and "5 disadvantaged" not in text
    assert f"fewer than {DEFAULT_THRESHOLD} are disadvantaged" in text


def test_gap_index_withholds_both_groups():
    p = school([(True, 5, {}), (False, 56, {})])
    gi = gaptools.gap_index(p, reference="school")
    assert gi.suppressed.all() and gi.n_other.isna().all() and gi.n_disadvantaged.isna().all()
    assert not attack_index(p, gi, DEFAULT_THRESHOLD)


@pytest.mark.parametrize("t", THRESHOLDS)
def test_group_sizes_rule_is_the_profiles(small, sample_pupils, t):
    # the strategy statement's shortcut gives what the profile's group totals show
    for pupils in (small, sample_pupils):
        prof = gaptools.cohort_profile(pupils, threshold=t)
        totals = prof[prof.characteristic == "all"].groupby(UNIT).suppressed.any()
        for (sid, ks, yr), withheld in totals.items():
            p = pupils[(pupils.school_id == sid) & (pupils.key_stage == ks) & (pupils.year == yr)]
            assert group_sizes_withheld(int(p.disadvantaged.astype(bool).sum()), len(p), t) == withheld


def test_strategy_does_not_give_the_few_others_away():
    from gaptools.targeting.strategy import strategy_statement

    p = school([(True, 150, {}), (False, 3, {})])
    text = strategy_statement(p, "H", year=2024, key_stage="KS4")
    assert "150 of 153" not in text and "98%" not in text
    assert f"withheld (fewer than {DEFAULT_THRESHOLD} pupils)" in text


# --- the mechanism on its own ------------------------------------------------------------------

def one_split(parts, threshold, *, whole_public=False):
    """One whole and its parts, each part its own row; returns the withheld parts."""
    from gaptools.domain.suppression import protect

    k = len(parts)
    n = np.array(list(parts) + [sum(parts)], dtype=float)
    cell_part = np.r_[np.zeros(k, dtype=np.int64), -1]
    rows = np.arange(k + 1)  # the last row shows the whole
    primary = np.r_[(n[:k] > 0) & (n[:k] < threshold), False]
    public = np.r_[np.zeros(k, dtype=bool), whole_public]
    hidden = protect(n, cell_part, np.array([k]), rows, rows, primary, threshold, public=public)
    return [p for p, h in zip(parts, hidden[:k]) if h], bool(hidden[k])


@pytest.mark.parametrize("parts, t, withheld", [
    ((46, 3, 2), 6, [46, 3, 2]),          # the issue's example: the 5 together are small, so 46 goes too
    ((1, 19, 30, 50), 6, [1, 19]),        # smallest first, then stop
    ((3, 6, 7, 30), 6, [3, 6]),
    ((1, 2, 2, 40), 6, [1, 2, 2, 40]),    # 1 + 2 + 2 = 5 is still small
    ((3, 4, 5, 20), 10, [3, 4, 5]),       # 12 together, three cells: nothing follows
    ((0, 20, 30), 6, []),                 # a zero is not a small group
    ((8, 9), 10, [8, 9]),
])
def test_protect_withholds_smallest_first_until_safe(parts, t, withheld):
    got, whole_hidden = one_split(parts, t)
    assert sorted(got) == sorted(withheld) and not whole_hidden
    # the whole minus the shown parts: nothing, or a group of at least t in two or more cells
    assert sum(got) == 0 or (sum(got) >= t and len(got) >= 2)


# --- across the pages: the issue's three examples, each a school made by hand -----------------

def across(p, t=DEFAULT_THRESHOLD):
    """The school's gap table and profile (as a report shows them side by side), and what the
    attacks find in them together and apart."""
    g = gaptools.gap_table(p, threshold=t, detail=True)
    prof = gaptools.cohort_profile(p, threshold=t)
    found = attack_across(p, g, prof, t) + attack_gaps(p, g, t) + attack_profile(p, prof, t, g)
    return g, prof.set_index(["characteristic", "value", "group"]), found


def rate_count(g, measure, subgroup=None, group="disadvantaged"):
    """How many pupils a shown rate gives: the rate times its count."""
    row = g[(g.measure == measure) & (g.comparison == "in_school")
            & (g.subgroup.isna() if subgroup is None else g.subgroup == subgroup)].iloc[0]
    assert not row.suppressed
    n, mean = (row.n_disadvantaged, row.mean_disadvantaged) if group == "disadvantaged" else \
        (row.n_reference, row.mean_reference)
    return round(float(n) * float(mean))


def test_attendance_bands_are_the_absence_rates():
    # 30 disadvantaged: 2 under 50%, 8 at 50-90%; page 02 shows severe absence 2/30 and persistent 10/30
    p = school([(True, 2, {"attendance_pct": 40.0}), (True, 8, {"attendance_pct": 80.0}),
                (True, 20, {"attendance_pct": 97.0}), (False, 10, {"attendance_pct": 80.0}),
                (False, 50, {"attendance_pct": 97.0})])
    g, prof, found = across(p)
    assert not found, found
    assert rate_count(g, "severe_absence") == 2 and rate_count(g, "persistent_absence") == 10
    # the profile shows what the rates give, rather than withholding it for show
    assert prof.loc[("attendance", "below 50% (severely absent)", "disadvantaged"), "n"] == 2
    assert prof.loc[("attendance", "50% to 90% (persistently absent)", "disadvantaged"), "n"] == 8


def test_sen_and_persistently_absent_is_the_sen_groups_rates():
    # 3 of the 10 disadvantaged pupils with SEN support are persistently absent: page 02's sen=K rate
    p = school([(True, 3, {"sen": "K", "attendance_pct": 80.0}), (True, 7, {"sen": "K", "attendance_pct": 97.0}),
                (True, 4, {"sen": "N", "attendance_pct": 80.0}), (True, 16, {"sen": "N", "attendance_pct": 97.0}),
                (False, 10, {"sen": "K", "attendance_pct": 97.0}), (False, 6, {"sen": "N", "attendance_pct": 80.0}),
                (False, 44, {"sen": "N", "attendance_pct": 97.0})])
    g, prof, found = across(p)
    assert not found, found
    assert rate_count(g, "persistent_absence", "sen=K") == 3
    assert prof.loc[("overlap: SEN and persistently absent", "yes", "disadvantaged"), "n"] == 3


def test_pupils_without_ks2_results_are_the_value_added_count():
    # 25 of 30 disadvantaged pupils have KS2 results: the value-added count gives the 5 without
    bands = [(True, 8, {"prior_attainment": 95.0}), (True, 9, {"prior_attainment": 105.0}),
             (True, 8, {"prior_attainment": 115.0}), (True, 5, {"prior_attainment": np.nan}),
             (False, 15, {"prior_attainment": 95.0}), (False, 25, {"prior_attainment": 105.0}),
             (False, 20, {"prior_attainment": 115.0})]
    p = school(bands)
    g, prof, found = across(p)
    assert not found, found
    va = g[(g.measure == "va_attainment8") & (g.comparison == "in_school") & g.subgroup.isna()].iloc[0]
    assert va.n_disadvantaged == 25
    assert prof.loc[("prior_band", "unknown", "disadvantaged"), "n"] == 30 - 25


def test_withheld_prior_band_is_not_the_value_added_count_less_the_others():
    # 5 with high prior attainment beside 3 without KS2 results: withheld together they were 8, but
    # the value-added count (37) less the low (17) and middle (15) bands gave the 5 back
    p = school([(True, 17, {"prior_attainment": 95.0}), (True, 15, {"prior_attainment": 105.0}),
                (True, 5, {"prior_attainment": 115.0}), (True, 3, {"prior_attainment": np.nan}),
                (False, 20, {"prior_attainment": 95.0}), (False, 25, {"prior_attainment": 105.0}),
                (False, 15, {"prior_attainment": 115.0})])
    g, prof, found = across(p)
    assert not found, found
    a8 = g[(g.measure == "attainment8") & (g.comparison == "in_school")
           & g.subgroup.fillna("").str.startswith("prior_band=")].set_index("subgroup")
    withheld = a8[a8.suppressed].index
    assert "prior_band=high" in withheld
    sizes = {"prior_band=low": 17, "prior_band=middle": 15, "prior_band=high": 5}
    assert sum(sizes[s] for s in withheld) >= DEFAULT_THRESHOLD  # on their own, without the 3


# --- across the pages of a run: page 01 as printed, with results.json -----------------------------

def page_profile(path, profile: pd.DataFrame) -> pd.DataFrame:
    """The profile as page 01 prints it (its tables of counts, and of overlaps), read back into the
    profile's terms: the cohort it shows is the one whose figures its cells are."""
    from bs4 import BeautifulSoup

    from gaptools.domain.formatting import cap
    from gaptools.domain.labels import characteristic_label, value_label

    names, overlaps = {}, {}  # the profile tables' labels, and the overlap table's
    for ch, v in profile[["characteristic", "value"]].drop_duplicates().itertuples(index=False):
        names[cap(characteristic_label(ch)), cap(value_label(ch, v))] = (ch, v)
        if ch.startswith("overlap: ") and v == "yes":
            overlaps[cap(ch.split(": ", 1)[1]), "Yes"] = (ch, v)
    cells = []
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for table in soup.find_all("table"):
        head = [th.get_text(" ", strip=True) for th in table.find("thead").find_all("th")]
        overlap = "Overlap" in head
        char = None
        for tr in table.find("tbody").find_all("tr"):
            ths = tr.find_all("th")
            tds = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
            if overlap:
                label, value, tds = tds[0], "Yes", tds[1:]
            else:
                if len(ths) == 2:
                    char = ths[0].get_text(" ", strip=True)
                label, value = char, ths[-1].get_text(" ", strip=True)
            known = overlaps if overlap else names
            assert (label, value) in known and len(tds) == 2, (path, label, value)
            ch, v = known[label, value]
            for group, text in zip(("disadvantaged", "other"), tds):
                withheld = not text[:1].isdigit()
                cells.append({"characteristic": ch, "value": v, "group": group, "suppressed": withheld,
                              "n": np.nan if withheld else float(text.split(" ")[0])})
    page = pd.DataFrame(cells).drop_duplicates()  # the overlap table repeats the profile's yes rows
    assert not page.duplicated(["characteristic", "value", "group"]).any()
    for (sid, ks, yr), rows in profile.groupby(UNIT):  # the cohort page 01 is about
        mine = page.merge(rows, on=["characteristic", "value", "group"], suffixes=("", "_table"))
        if len(mine) == len(page) and (mine.n.fillna(-1) == mine.n_table.astype(float).fillna(-1)).all():
            assert (mine.suppressed == mine.suppressed_table).all()
            return page.assign(school_id=sid, key_stage=ks, year=yr)
    raise AssertionError(f"{path}: page 01's counts are none of the profile's cohorts")


def test_no_withheld_group_derivable_across_a_runs_pages(sample_run, sample_pupils, sample_results):
    # page 01 as printed beside the school's results.json (pages 02, the PDFs and the trust page
    # print the same results): solved together, they give back no withheld group
    from gaptools.analysis.results import read_results

    out, manifest = sample_run
    found, pages = [], 0
    for sid, school_entry in manifest["schools"].items():
        folder = out / school_entry["folder"]
        doc = read_results(folder)
        gaps = pd.DataFrame(doc["gaps"]).assign(school_id=sid)
        page = page_profile(folder / "01_cohort_overview.html", sample_results[sid].profile)
        assert page.characteristic.str.startswith("overlap").any() and (page.characteristic == "attendance").any()
        found += attack_across(sample_pupils, gaps[gaps.year == page.year.iloc[0]], page, DEFAULT_THRESHOLD)
        pages += 1
    assert pages == 6 and not found, found[:20]


@pytest.mark.parametrize("levels, unknown, withheld", [
    ((17, 15, 5), 3, [15, 5]),   # the 3 without KS2 results are counted: 5 alone would be known
    ((17, 15, 8), 3, [8]),       # 8 on its own is enough: its count known, never a small group's
    ((17, 15, 5), 0, [15, 5]),
])
def test_protect_counted_cells_leave_the_rest_at_the_threshold(levels, unknown, withheld):
    # a whole (the measure's pupils) of levels and an unknown cell never shown, whose size another
    # table gives (counted): the withheld levels without it must reach the threshold on their own
    from gaptools.domain.suppression import protect

    k = len(levels)
    n = np.array(list(levels) + [unknown, sum(levels) + unknown], dtype=float)
    part = np.r_[np.zeros(k + 1, dtype=np.int64), -1]
    rows = np.arange(k)  # one row per level; the unknown cell and the whole are shown by none
    primary = np.array([0 < v < DEFAULT_THRESHOLD for v in levels])
    public = np.r_[np.zeros(k + 1, dtype=bool), True]
    counted = np.r_[np.zeros(k, dtype=bool), True, False]
    hidden = protect(n, part, np.array([k + 1]), rows, rows, primary, public=public, counted=counted)
    assert sorted(v for v, h in zip(levels, hidden) if h) == sorted(withheld)
    # whole - shown - unknown: the withheld levels' number, never 1 to threshold - 1
    rest = sum(levels) - sum(v for v, h in zip(levels, hidden) if not h)
    assert rest == 0 or rest >= DEFAULT_THRESHOLD
