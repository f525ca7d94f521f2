"""Which rows of a gap table to withhold, and why: small groups, and every cell they could be worked out from.

A gap table's rows share pupils (the whole cohort, each split's levels, the
comparisons with national figures), so withholding a small group is not
enough: the rows beside it would give it back by subtraction. The table's
cells and the partitions they form are handed to the one disclosure-control
mechanism, :func:`gaptools.domain.suppression.protect`.
"""
from __future__ import annotations

import numpy as np

from ..domain.suppression import (
    NO_COMPARISON_GROUP,
    NO_NATIONAL_FIGURE,
    PROTECTS_ANOTHER_GROUP,
    TOO_FEW_DISADVANTAGED,
    TOO_FEW_OTHERS,
    protect,
)


def withhold(unit_measure, block, order, src, in_school, n_dis, n_ref, no_figure, threshold,
             known_unknown=None) -> tuple[np.ndarray, np.ndarray]:
    """Which rows to withhold, and why, through :func:`~gaptools.domain.suppression.protect`.

    The first arguments describe the in-school rows (one per unit, measure and
    subgroup: ``block`` 0 is the whole cohort, then one block per split, in
    ``order`` for ties); the rest every row: ``src`` is the in-school row about
    the same pupils, ``in_school`` says whether the row also shows the other
    pupils (a national comparison shows only the disadvantaged), ``no_figure``
    where the reference figure is missing.

    Each in-school row holds two cells (its disadvantaged and its other
    pupils). Partitions: the whole cohort (public) into disadvantaged and
    other pupils; each group's whole into the levels of every split, plus the
    pupils whose level is unknown (never shown). ``known_unknown`` (by
    unit-measure, block and group, as ``((um * n_blocks) + block) * 2 + group``)
    marks the unknown cells whose size other rows give (the pupils without KS2
    results, from a value-added count): the withheld levels beside them must
    then be at least ``threshold`` pupils on their own (``counted``).
    """
    n_in = len(unit_measure)
    um = np.asarray(unit_measure, dtype=np.int64)
    n_um, n_blocks = int(um.max()) + 1, int(block.max()) + 1
    whole_row = np.zeros(n_um, dtype=np.int64)
    w = block == 0
    whole_row[um[w]] = np.flatnonzero(w)
    # cells 2i (disadvantaged) and 2i + 1 (other) of in-school row i
    cell_n = np.empty(2 * n_in)
    cell_n[0::2], cell_n[1::2] = n_dis[:n_in], n_ref[:n_in]
    group = np.tile(np.array([0, 1], dtype=np.int64), n_in)
    cell_um, cell_block = np.repeat(um, 2), np.repeat(block, 2)
    level = cell_block > 0
    # partitions: n_um whole cohorts, then one per unit-measure, block and group (dense ids;
    # those of block 0 stay empty)
    n_split = n_um * n_blocks * 2
    split = (cell_um * n_blocks + cell_block) * 2 + group
    split_whole = 2 * np.repeat(whole_row, n_blocks * 2) + np.tile(np.array([0, 1], dtype=np.int64), n_um * n_blocks)
    cell_part = np.where(level, n_um + split, cell_um)
    # the pupils of no level of a split (unknown), and the public whole cohort
    in_levels = np.bincount(split[level], weights=cell_n[level], minlength=n_split)
    unknown = np.where(in_levels > 0, np.round(cell_n[split_whole] - in_levels), 0.0)
    some = np.flatnonzero(unknown > 0)
    cohort = np.zeros(n_um)
    cohort[um[w]] = n_dis[:n_in][w] + n_ref[:n_in][w]
    first_public = 2 * n_in + len(some)
    cells_n = np.concatenate([cell_n, unknown[some], cohort])
    cells_part = np.concatenate([cell_part, n_um + some, np.full(n_um, -1)])
    part_whole = np.concatenate([first_public + np.arange(n_um), split_whole])
    public = np.zeros(len(cells_n), dtype=bool)
    public[first_public:] = True
    counted = np.zeros(len(cells_n), dtype=bool)
    if known_unknown is not None:
        counted[2 * n_in: first_public] = known_unknown[some]
    rows = np.arange(len(src))
    link_row = np.concatenate([rows, rows[in_school]])
    link_cell = np.concatenate([2 * src, 2 * src[in_school] + 1])
    cell_order = np.concatenate([np.repeat(order, 2), np.zeros(len(some) + n_um, dtype=np.int64)])

    few_dis = n_dis < threshold
    few_ref = in_school & (n_ref < threshold)
    missing = ~in_school & no_figure
    hidden = protect(cells_n, cells_part, part_whole, link_row, link_cell, few_dis | few_ref | missing,
                     threshold, public=public, order=cell_order, counted=counted)
    # no comparison in school: either group of the whole cohort is empty
    empty = (cell_n[2 * whole_row] == 0) | (cell_n[2 * whole_row + 1] == 0)
    reason = np.full(len(src), None, dtype=object)
    reason[hidden] = PROTECTS_ANOTHER_GROUP
    reason[few_ref] = TOO_FEW_OTHERS
    reason[few_dis] = TOO_FEW_DISADVANTAGED
    reason[in_school & empty[um[src]]] = NO_COMPARISON_GROUP
    reason[missing] = NO_NATIONAL_FIGURE
    return hidden, reason
