"""Notebook to HTML with one exporter per process (issue 15): the same page every time, from any thread.

``notebook_html`` keeps one nbconvert exporter, its templates compiled once, for
every page the process converts. The notebooks here are built with nbformat
from the outputs gaptools' own display types produce (a Table's HTML, a
Chart's PNG with its text alternative), as an executed notebook holds them.
"""
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from gaptools.reporting import html


def _notebook(title: str, school: str) -> nbformat.NotebookNode:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gaptools.reporting.display import Chart, Table

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["disadvantaged", "others"], [41.0, 52.5])
    ax.set_title(f"{title}: disadvantaged pupils behind", loc="left")
    png, meta = Chart(fig)._repr_mimebundle_()
    plt.close(fig)
    table = Table(pd.DataFrame({"Measure": ["Attainment 8", "RWM"], "School": [school, school]}))
    return new_notebook(metadata={"language_info": {"name": "python"}}, cells=[
        new_markdown_cell(f"## {title}\n\nLook for *the gap* in {school}."),
        new_code_cell("report.gap_table()", outputs=[
            new_output("display_data", data={"text/html": table._repr_html_(), "text/plain": "table"}),
            new_output("stream", name="stderr", text="GaptoolsWarning: machinery\n")]),
        new_code_cell("report.gap_chart()", outputs=[new_output("display_data", data=png, metadata=meta)]),
        new_code_cell("report.save()", metadata={"tags": [html.HIDDEN]},
                      outputs=[new_output("stream", name="stdout", text=f"wrote results.json for {school}\n")]),
    ])


@pytest.fixture(scope="module")
def notebooks():
    return {"a": _notebook("Know the cohort", "Alpha Academy"), "b": _notebook("Find the gaps", "Beta School")}


def test_two_conversions_in_a_row_give_the_same_page_from_one_exporter(notebooks):
    first = html.notebook_html(notebooks["a"], nav_html="<a href='../index.html'>Trust index</a>")
    other = html.notebook_html(notebooks["b"], nav_html="<strong>Find the gaps</strong>")
    again = html.notebook_html(notebooks["a"], nav_html="<a href='../index.html'>Trust index</a>")
    assert again == first
    assert html.exporters_built() == 1
    # nothing of the page converted in between carries over, and the shared exporter still hides what it must
    assert "Alpha Academy" in first and "Beta School" not in first and "Find the gaps" not in first
    assert "Beta School" in other and "Alpha Academy" not in other
    assert "Know the cohort: disadvantaged pupils behind" in first  # the chart's text alternative
    assert "wrote results.json" not in first and "machinery" not in first


def test_pages_converted_from_several_threads_match_those_converted_one_by_one(notebooks):
    navs = {"a": "<strong>Know the cohort</strong>", "b": "<strong>Find the gaps</strong>"}
    expected = {k: html.notebook_html(nb, nav_html=navs[k]) for k, nb in notebooks.items()}
    order = ["a", "b"] * 6
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda k: html.notebook_html(notebooks[k], nav_html=navs[k]), order))
    assert [p == expected[k] for k, p in zip(order, pages)] == [True] * len(order)
    assert html.exporters_built() == 1


def test_a_chart_is_its_figure_saved_at_110_dpi_and_leaves_the_figure_as_it_was():
    """A Chart's PNG is what ``savefig(dpi=110)`` makes of the same figure (drawn once, not twice), and
    the figure keeps its own resolution and canvas, as after savefig (a pyplot figure stays on screen)."""
    import io
    import pickle

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from PIL import Image

    from gaptools.reporting.display import Chart

    fig, ax = plt.subplots(figsize=(5, 2.5), layout="constrained")
    ax.bar(["disadvantaged", "others"], [41.0, 52.5], label="Attainment 8")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("A gap that is clear\nand a title on two lines", x=0.01, ha="left", fontweight="bold")
    twin = pickle.loads(pickle.dumps(fig))  # the same figure, not yet drawn
    dpi, canvas = fig.dpi, fig.canvas
    chart = Chart(fig)
    assert fig.dpi == dpi and fig.canvas is canvas
    saved = io.BytesIO()
    twin.savefig(saved, format="png", dpi=110)
    pixels = [np.asarray(Image.open(io.BytesIO(png))) for png in (chart.png, saved.getvalue())]
    assert pixels[0].shape == (275, 550, 4) and np.array_equal(*pixels)
    plt.close("all")
