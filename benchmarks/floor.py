"""The in-process floor: every code cell of the school notebooks run in one already-started Python.

No kernel, no start-up, no imports after the first: what is left is the
notebooks' own work (load the data, analyse, draw the charts, build the tables,
write results.json), with each output rendered as a kernel would render it
(every MIME type the display formatter computes) and kept, not printed. Each
notebook gets a fresh namespace; a school's three notebooks share one
``out_dir``, with parameters built by :func:`gaptools.batch.school.school_parameters`
as the runner builds them.

    python benchmarks/floor.py [--data data/sample] [--repeat 1] [--profile floor.prof]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class FloorTimes:
    """Seconds per executed notebook, in order: (school, notebook, seconds); and per cell.

    Wall-clock seconds, and the process's CPU seconds beside them (``cpu``): on a
    busy machine the CPU time is the steadier measure of the work itself.
    """

    notebooks: list[tuple[str, str, float]] = field(default_factory=list)
    cells: list[tuple[str, str, str, float]] = field(default_factory=list)  # school, notebook, source, seconds
    cpu: list[float] = field(default_factory=list)  # CPU seconds of each notebook, as ``notebooks``
    cell_cpu: list[float] = field(default_factory=list)  # CPU seconds of each cell, as ``cells``
    warm_up_s: float = 0.0

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu)

    @property
    def total_s(self) -> float:
        return sum(t for _, _, t in self.notebooks)

    @property
    def per_notebook_s(self) -> float:
        return self.total_s / max(1, len(self.notebooks))


def validated_copy(data: Path, folder: Path) -> Path:
    """The validated Parquet file a run's notebooks read, made as the runner makes it."""
    from gaptools.batch.validate import validate_by_school
    from gaptools.domain.columns import NAME_COLUMNS
    from gaptools.io.loading import save_validated

    pupils, failures = validate_by_school(data, None)
    if failures:
        raise SystemExit(f"{data}: schools fail validation: {sorted(failures)}")
    pupils = pupils.drop(columns=list(NAME_COLUMNS), errors="ignore")
    return save_validated(pupils, folder / "pupils.parquet")


class _Shell:
    """An IPython shell whose display hook and publisher keep every output's MIME bundle."""

    def __init__(self):
        from IPython.core.displayhook import DisplayHook
        from IPython.core.displaypub import DisplayPublisher
        from IPython.core.interactiveshell import InteractiveShell

        outputs = self.outputs = []

        class Hook(DisplayHook):
            def write_output_prompt(self):
                pass

            def write_format_data(self, format_dict, md_dict=None):
                outputs.append(format_dict)

            def finish_displayhook(self):
                pass

        class Publisher(DisplayPublisher):
            def publish(self, data, metadata=None, *args, **kwargs):
                outputs.append(data)

        self.shell = InteractiveShell.instance()
        self.shell.displayhook = Hook(shell=self.shell, cache_size=0)
        self.shell.display_trap.hook = self.shell.displayhook
        self.shell.display_pub = Publisher(shell=self.shell)

    def run(self, source: str) -> None:
        result = self.shell.run_cell(source, store_history=False, silent=False)
        if not result.success:
            raise RuntimeError(f"cell failed: {source[:80]!r}") from (result.error_in_exec or result.error_before_exec)

    def fresh_namespace(self) -> None:
        self.shell.reset(new_session=False, aggressive=False)
        self.outputs.clear()


def notebook_cells(notebook: Path, params: dict) -> list[str]:
    """The notebook's code cells, with the parameters injected after its parameters cell as papermill does."""
    import nbformat
    from papermill.translators import translate_parameters

    nb = nbformat.read(str(notebook), as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cells.append(cell.source)
        if "parameters" in cell.metadata.get("tags", []):
            cells.append(translate_parameters("python", "python", params, "injected parameters"))
    return cells


def run_floor(data_file: Path, schools: list[str], work: Path, *, notebook_dir: Path = ROOT / "notebooks",
              threshold: int | None = None) -> FloorTimes:
    """Run every school's notebooks 01-03 in this process; return seconds per notebook.

    Each school's side outputs (results.json, targets.csv, strategy.md) are left in
    ``work/<school>`` for comparison with a run's.
    """
    import os

    from gaptools.batch.school import SCHOOL_NOTEBOOKS, SchoolJob, _for, school_parameters
    from gaptools.domain.suppression import DEFAULT_THRESHOLD

    times = FloorTimes()
    start = time.perf_counter()
    shell = _Shell()
    shell.run("import pandas, numpy, seaborn, matplotlib.pyplot, gaptools as gt\n"
              "import gaptools.reporting.school, gaptools.analysis.results, gaptools.reporting.charts")
    times.warm_up_s = time.perf_counter() - start
    here = os.getcwd()
    os.chdir(notebook_dir)  # the runner's kernels start in the notebook folder
    try:
        for school in schools:
            out_dir = work / school
            out_dir.mkdir(parents=True)
            job = SchoolJob(school, school, school, str(data_file), str(work / "stage"),
                            threshold=DEFAULT_THRESHOLD if threshold is None else threshold)
            params = school_parameters(job, str(data_file), str(out_dir))
            for name, _ in SCHOOL_NOTEBOOKS:
                cells = notebook_cells(notebook_dir / f"{name}.ipynb", _for(name, params))
                shell.fresh_namespace()
                t0, c0 = time.perf_counter(), time.process_time()
                for source in cells:
                    t1, c1 = time.perf_counter(), time.process_time()
                    shell.run(source)
                    times.cells.append((school, name, source, time.perf_counter() - t1))
                    times.cell_cpu.append(time.process_time() - c1)
                times.notebooks.append((school, name, time.perf_counter() - t0))
                times.cpu.append(time.process_time() - c0)
    finally:
        os.chdir(here)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--profile", type=Path, help="write a cProfile of the (last) timed notebooks here")
    ap.add_argument("--keep", type=Path, help="leave the side outputs in this folder")
    args = ap.parse_args()
    import gaptools

    schools = sorted(gaptools.load_pupils(args.data)["school_id"].unique())
    work = Path(tempfile.mkdtemp(prefix="gaptools-floor-"))
    try:
        data_file = validated_copy(args.data.resolve(), work)
        for r in range(args.repeat):
            folder = work / f"run{r}"
            if args.profile and r == args.repeat - 1:
                import cProfile

                prof = cProfile.Profile()
                times = prof.runcall(run_floor, data_file, schools, folder)
                prof.dump_stats(args.profile)
            else:
                times = run_floor(data_file, schools, folder)
            by_nb = {}
            for _, nb, t in times.notebooks:
                by_nb.setdefault(nb, []).append(t)
            print(f"repeat {r + 1}: {len(times.notebooks)} notebooks, {times.total_s:.1f} s, "
                  f"{times.per_notebook_s:.2f} s a notebook, CPU {times.cpu_s / len(times.cpu):.2f} s a notebook "
                  f"(imports {times.warm_up_s:.1f} s, not counted); "
                  + ", ".join(f"{nb[:2]} {sum(v) / len(v):.2f}" for nb, v in by_nb.items()))
        by_cell: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for (_, nb, source, t), cpu in zip(times.cells, times.cell_cpu):
            line = [ln for ln in source.splitlines() if ln.strip() and not ln.startswith("#")] or [""]
            what = line[0] if not line[0].startswith("import") else " ".join(ln.strip() for ln in line[1:])
            by_cell.setdefault((nb[:2], what[:70]), []).append((t, cpu))
        print("\nper cell, mean over schools (last repeat), slowest first:   wall s   CPU s")
        for (nb, what), v in sorted(by_cell.items(), key=lambda kv: -sum(c for _, c in kv[1])):
            print(f"  {nb} {sum(t for t, _ in v) / len(v):6.3f} {sum(c for _, c in v) / len(v):6.3f}  {what}")
        if args.keep:
            shutil.copytree(work / f"run{args.repeat - 1}", args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
