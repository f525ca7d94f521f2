"""Withhold figures about small groups, so that no pupil can be picked out or worked out.

Every released table (the gap table, the cohort profile, the gap index) is
described to :func:`protect` in the same terms:

* **cells**: groups of pupils with a count (and, where the table shows one, a
  mean), e.g. "disadvantaged pupils with SEN support, reading score";
* **partitions**: a whole and the cells that make it up, e.g. the school's
  disadvantaged pupils split by SEN (no SEN, SEN support, EHC plan, and the
  pupils whose SEN is not known, who are never shown). The whole cohort is a
  partition too (disadvantaged + other pupils), whose total is public: it is on
  every page, and the DfE publishes each school's all-pupil figures;
* **rows**: what a reader sees, each showing one or more cells (an in-school
  gap row shows a disadvantaged and an other cell; a national comparison row
  only the disadvantaged one). A row is shown or withheld whole.

Primary suppression withholds rows about groups smaller than the threshold
(default 6; the DfE withholds groups of 5 or fewer). Secondary (complementary)
suppression then withholds further rows, smallest first, until in every
partition whose whole is known the withheld cells, taken together, are none
or at least ``threshold`` pupils: subtracting the shown cells from the whole
(``n_total - sum n_i``, ``n_total * mean_total - sum n_i * mean_i``) then
never gives the count or mean of a small group. Nor is a cell left as the one
withheld cell of a partition when its row also holds a small group (19
disadvantaged pupils beside 2 others): derived, it would give the 2 away to
anyone who knows the row's all-pupil total (where another cell can be withheld
instead). A withheld whole withholds its parts (a share of a group, or its
parts summed, would give the whole back).

Across tables (one rule for the whole run, README "Privacy"): a cell whose
count another table shows (the profile's pupils under 50% attendance, given by
the gap table's severe-absence rate times its count) is ``public``: shown, and
the rest withheld around it. A cell whose size another table gives but whose
figures it does not (the pupils without KS2 results, whose number a value-added
count gives) is ``counted``: still withheld, and the cells withheld beside it
must then be none or at least ``threshold`` pupils without it.
"""
from __future__ import annotations

import numpy as np

DEFAULT_THRESHOLD = 6
#: Where a table of the results model keeps the threshold it was computed at (``DataFrame.attrs``, which
#: pandas keeps through a filter): a table of it then says the right number in its withheld rows.
THRESHOLD_ATTR = "gaptools_threshold"

#: Why a row is withheld (``withheld_reason``; ``None`` when shown).
TOO_FEW_DISADVANTAGED = "too_few_disadvantaged"
TOO_FEW_OTHERS = "too_few_others"
PROTECTS_ANOTHER_GROUP = "protects_another_group"
NO_COMPARISON_GROUP = "no_comparison_group"
NO_NATIONAL_FIGURE = "no_national_figure"
WITHHELD_REASONS = (TOO_FEW_DISADVANTAGED, TOO_FEW_OTHERS, PROTECTS_ANOTHER_GROUP,
                    NO_COMPARISON_GROUP, NO_NATIONAL_FIGURE)


def group_sizes_withheld(n_disadvantaged: int, n_pupils: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Whether a cohort's numbers of disadvantaged and other pupils must be withheld.

    The cohort's size is public, so one group's size gives the other's: both
    are withheld where either group has 1 to ``threshold - 1`` pupils (what
    :func:`protect` does to the cohort profile's group totals).
    """
    return 0 < n_disadvantaged < threshold or 0 < n_pupils - n_disadvantaged < threshold


def protect(cell_n, cell_part, part_whole, link_row, link_cell, primary, threshold: int = DEFAULT_THRESHOLD,
            *, public=None, order=None, counted=None) -> np.ndarray:
    """Which rows to withhold: the primary ones, and enough more that nothing withheld can be derived.

    Parameters
    ----------
    cell_n : array of counts
        Pupils in each cell.
    cell_part : int array
        The partition each cell is a part of (``-1``: none).
    part_whole : int array
        For each partition, the cell that is its whole.
    link_row, link_cell : int arrays
        Pairs: row ``link_row[k]`` shows cell ``link_cell[k]``. A cell is shown
        while any row showing it is shown; a cell no row shows (pupils of an
        unknown level, say) is never shown.
    primary : bool array
        Rows withheld on their own account (a small group, nothing to compare).
    threshold : int
        Smallest group whose figures may be known.
    public : bool array, optional
        Cells everyone knows anyway (the cohort's size and all-pupil figures):
        always known, never withheld.
    order : int array, optional
        Which of equally small cells to withhold first (lowest first).
    counted : bool array, optional
        Cells whose size (not their figures) other tables give: the pupils
        without KS2 results, whose number a value-added count gives. Still
        withheld, but the withheld cells beside them must then be none or at
        least ``threshold`` pupils on their own: the whole less the shown
        cells less the counted ones gives their number.

    Returns
    -------
    bool array
        One per row: withheld. ``withheld & ~primary`` are the rows withheld to
        protect another group.
    """
    n = np.asarray(cell_n, dtype=float)
    n_cells, n_parts = len(n), len(part_whole)
    hidden = np.array(primary, dtype=bool, copy=True)
    n_rows = len(hidden)
    link_row, link_cell = np.asarray(link_row, dtype=np.int64), np.asarray(link_cell, dtype=np.int64)
    public = np.zeros(n_cells, dtype=bool) if public is None else np.asarray(public, dtype=bool)
    order = np.zeros(n_cells, dtype=np.int64) if order is None else np.asarray(order, dtype=np.int64)
    counted = np.zeros(n_cells, dtype=bool) if counted is None else np.asarray(counted, dtype=bool)
    part = np.asarray(cell_part, dtype=np.int64)
    part = np.where(part < 0, n_parts, part)  # one spare partition for cells in none
    whole = np.asarray(part_whole, dtype=np.int64)
    some = n > 0
    # a cell shown in a row beside a small group: derived alone, it gives that group away to
    # anyone who knows the row's all-pupil total (how many pupils have an EHC plan, say)
    small = some & (n < threshold)
    row_small = np.zeros(n_rows, dtype=bool)
    row_small[link_row[small[link_cell]]] = True
    exposes = np.zeros(n_cells, dtype=bool)
    exposes[link_cell[row_small[link_row]]] = True
    while True:
        shown = public.copy()
        shown[link_cell[~hidden[link_row]]] = True
        whole_known = np.append(shown[whole], True)  # cells in no partition answer to no whole
        # a withheld whole withholds its parts
        hide = shown & ~public & some & ~whole_known[part]
        # the withheld parts of a known whole: a small group, or one cell alone, can be derived
        concealed = np.flatnonzero(~shown & some)
        at = part[concealed]
        h_n = np.bincount(at, weights=n[concealed], minlength=n_parts + 1)
        h_k = np.bincount(at, minlength=n_parts + 1)
        h_alone = (h_k == 1) & (np.bincount(at[exposes[concealed]], minlength=n_parts + 1) == 1)
        short = whole_known & (h_k > 0) & ((h_n < threshold) | h_alone)
        # the withheld cells whose size no other table gives: their number is known too
        uncounted = concealed[~counted[concealed]]
        h_n2 = np.bincount(part[uncounted], weights=n[uncounted], minlength=n_parts + 1)
        few = whole_known & (h_n2 > 0) & (h_n2 < threshold)
        short |= few
        short[-1] = False
        h_n = np.where(few, h_n2, h_n)  # the smaller of the two withheld totals must reach the threshold
        if short.any():
            cand = np.flatnonzero(shown & ~public & some & short[part])
            by = np.lexsort((order[cand], n[cand], part[cand]))
            cand = cand[by]
            p = part[cand]
            first = np.r_[True, p[1:] != p[:-1]] if len(cand) else np.zeros(0, dtype=bool)
            total = np.cumsum(n[cand])
            before = total - n[cand]
            before -= np.maximum.accumulate(np.where(first, before, 0.0))
            # smallest first, until the withheld cells reach the threshold (and number two or more)
            hide[cand[first | (h_n[p] + before < threshold)]] = True
            # nothing left to withhold in a partition whose withheld cells are a small group:
            # its whole must go (unless public: then every part is already withheld and the
            # derivation gives only the public whole). A lone cell that is its whole's only
            # pupils is left: withholding the whole would hide every figure about a large group.
            stuck = short & (h_n < threshold) & (np.bincount(p, minlength=n_parts + 1) == 0)
            w = whole[stuck[:-1]]
            hide[w[~public[w]]] = True
        more = link_row[hide[link_cell]]
        if hidden[more].all():
            return hidden
        hidden[more] = True
