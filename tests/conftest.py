import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SAMPLE = ROOT / "data" / "sample"
SAMPLE_YEAR = ROOT / "data" / "sample_year"
PUBLISHED = ROOT / "data" / "dfe" / "ks2_school_level"
ACTIVITIES = SAMPLE_YEAR / "activities.csv"


@pytest.fixture(scope="session")
def sample_pupils():
    import gaptools

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(SAMPLE)


@pytest.fixture(scope="session")
def sample_results(sample_pupils):
    """``analyse_school`` of every sample school at the default threshold, once a test process: read
    (never changed) by the tests that check it against the planted stories, a run's results.json and
    the disclosure attack."""
    import gaptools

    return {sid: gaptools.analyse_school(sample_pupils, sid) for sid in sorted(sample_pupils["school_id"].unique())}


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """One `gaptools run` of the sample trust (real kernels, local pool), shared by the
    batch, notebook, browser and PDF tests: with PDFs, the published benchmarks page
    of the real DfE KS2 files, none of whose schools is in the sample trust, the sample trust's
    synthetic activity register (``--activities``), and the sample year's data drops
    (``--assessments``: each school's in-year page, results.json ``in_year``). Run under umask 027
    (``SAMPLE_RUN_UMASK``), so that a file following the umask (0640) is told from one given a fixed
    mode (0644 or 0600)."""
    import os

    from gaptools.batch import run

    out = tmp_path_factory.mktemp("run") / "reports"
    before = os.umask(SAMPLE_RUN_UMASK)
    try:
        manifest = run(SAMPLE, out, quiet=True, pdf=True, published=[PUBLISHED], activities=ACTIVITIES,
                       assessments=SAMPLE_YEAR / "assessments.csv")
    finally:
        os.umask(before)
    return out, manifest


SAMPLE_RUN_UMASK = 0o027


@pytest.fixture(scope="module")
def dask_cluster():
    """One real Dask cluster on loopback (two worker processes) for a module's tests that run on Dask:
    starting one, and a warm kernel parent in each worker, costs more than most such tests. Stopped
    when the module's tests are done: an idle cluster's monitors keep both cores busy for the rest
    of the session (about 20 core-seconds)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        yield cluster


@pytest.fixture(scope="session", autouse=True)
def shipped_reference_only(tmp_path_factory):
    """Every test (and every kernel it starts) sees the shipped national figures only,
    never figures the person running the suite imported into their own reference folder."""
    import os

    before = os.environ.get("GAPTOOLS_REFERENCE_DIR")
    os.environ["GAPTOOLS_REFERENCE_DIR"] = str(tmp_path_factory.mktemp("no-user-reference"))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("GAPTOOLS_REFERENCE_DIR", None)
        else:
            os.environ["GAPTOOLS_REFERENCE_DIR"] = before


@pytest.fixture(scope="session", autouse=True)
def warm_parent(shipped_reference_only):
    """One warm kernel parent for every run this test process makes itself (``run()``, ``gaptools_cli``,
    ``execute_notebook``), as a Dask worker keeps one between tasks: a run joins the parent that is
    there instead of starting its own (about 10 core-seconds each). Every notebook still gets a fresh
    fork of it (the isolation tests check that); runs in separate processes start their own."""
    from gaptools.batch import warm

    with warm.session() as zygote:
        yield zygote


# ------------------------------------------------------------------ running the suite on every core
#: Session or module fixtures that cost next to nothing: tests sharing them need not share a worker.
CHEAP_SHARED = {"sample_pupils", "sample_results", "shipped_reference_only", "warm_parent"}


def _shared_fixtures(item) -> set[str]:
    """The costly fixtures an item shares with other tests (broader than one test, defined in tests/)."""
    info = getattr(item, "_fixtureinfo", None)
    found = set()
    for name in (info.names_closure if info else ()):
        defs = info.name2fixturedefs.get(name) or ()
        for fd in defs[-1:]:
            module = getattr(fd.func, "__module__", "") or ""
            if fd.scope != "function" and name not in CHEAP_SHARED and \
                    (module == "conftest" or module.startswith("test_")):
                found.add(f"{fd.baseid}::{name}")
    return found


def _in_group(item, group: str) -> None:
    """Put ``item`` in xdist's work unit ``group``: loadgroup keeps together the tests whose ids end
    in the same ``@group``. (What xdist's own ``xdist_group`` mark does, by setting a private id that
    pytest 9 no longer reads: its ids are structured.)"""
    new = f"{item.nodeid}@{group}"
    if hasattr(item, "_id"):  # pytest >= 9
        from _pytest.nodeid import coerce_node_id

        item._id = coerce_node_id(new)
    else:
        item._nodeid = new


#: Tests that start what a run starts (kernels, a run, Chromium, a Dask cluster) live in tests/e2e/.
E2E_DIR = Path(__file__).parent / "e2e"
#: Single tests elsewhere that do the same, or analyse every sample school again at another threshold.
E2E_TESTS = {"test_run_with_current_keeps_names_in_the_school_folder",
             "test_no_withheld_group_derivable_in_sample_results", "test_threshold_passed_in_is_the_one_used"}


def _mark_e2e(items) -> None:
    """Mark ``e2e`` every test in tests/e2e/, or that shares a costly fixture (a batch run, a cluster), or
    is one of :data:`E2E_TESTS`: ``make test-quick`` (``-m "not e2e"``) leaves them out."""
    for item in items:
        if E2E_DIR in Path(item.path).parents or _shared_fixtures(item) \
                or getattr(item, "originalname", item.name) in E2E_TESTS:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    _mark_e2e(items)
    """Under ``pytest -n`` (pytest-xdist, ``--dist loadgroup``): tests that share a costly fixture
    (one batch run read by many tests, a Dask cluster) go to the same worker, so it is made once; the
    groups that hold such runs go first, so that no worker is left with a long one at the end."""
    if not getattr(config.option, "loadgroup", False):  # set in each xdist worker by --dist loadgroup
        return
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    shared = {item.nodeid: _shared_fixtures(item) for item in items}
    for nodeid, fixtures in shared.items():
        for f in fixtures:
            parent[find(nodeid)] = find(f)
    groups: dict[str, list] = {}
    for item in items:
        if shared[item.nodeid]:
            root = find(item.nodeid)
            groups.setdefault(root, []).append(item)
    weight = {root: len({f for i in members for f in shared[i.nodeid]}) * 10 + len(members)
              for root, members in groups.items()}
    rank = {root: n for n, root in enumerate(sorted(groups, key=lambda r: -weight[r]))}
    order = {id(item): rank[find(item.nodeid)] if shared[item.nodeid] else len(rank) for item in items}
    items.sort(key=lambda item: order[id(item)])  # stable: each group's tests in the order written
    for root, members in groups.items():
        for item in members:
            _in_group(item, f"shared{rank[root]}")


#: Base64 payloads of embedded raster images: in a page (a data URI) and in a notebook's outputs.
_IMAGE_DATA = (re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+"),
               re.compile(r'"image/(?:png|jpeg|gif|webp)": "[A-Za-z0-9+/=\\n]*"'))


def readable_text(path) -> str:
    """A file's text as a search for pupil data reads it: without the base64 payloads of its images.

    Those encode pixels, not text (a name drawn into a chart is not found by a text search either),
    and are most of a report's bytes: a substring found there is a coincidence of base64, and
    searching for every pupil's id and name through them took seconds a run.
    """
    if Path(path).suffix == ".xlsx":  # a zip of XML parts: their text, where a name would be
        import zipfile

        with zipfile.ZipFile(path) as book:
            return "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    text = Path(path).read_bytes().decode("utf-8", "replace")
    for pattern in _IMAGE_DATA:
        text = pattern.sub("(image)", text)
    return text


def gaptools_cli(*args, cwd=None):
    """``gaptools ARGS`` run in this process: the console script's own ``main``, its exit code
    (argparse's ``SystemExit`` included) and everything it printed, as a ``CompletedProcess``.

    The same code as ``python -m gaptools.cli ARGS`` without a fresh interpreter importing
    pandas, pandera and scipy again (about 2 s a call): for tests of what a command says and
    returns. What a process would also print on its stderr is printed there here too: Python's
    warnings under a fresh interpreter's filters, an exception in any thread (with its
    "Traceback"), and log records of WARNING and above. An exception escaping ``main`` (a user
    would see its traceback) fails the calling test. A test of the process itself (the entry
    point, a signal, a hang guarded by a timeout) starts a real process instead.
    """
    import contextlib
    import io
    import logging
    import subprocess
    import threading
    import traceback
    import warnings

    from gaptools.cli import main

    out, err = io.StringIO(), io.StringIO()

    def thread_died(hook_args):  # as Python prints it in a process
        print(f"Exception in thread {hook_args.thread.name if hook_args.thread else '?'}:", file=err)
        traceback.print_exception(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback, file=err)

    last_resort = logging.StreamHandler(err)
    last_resort.setLevel(logging.WARNING)
    root, hook = logging.getLogger(), threading.excepthook
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings(), \
            (contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext()):
        warnings.resetwarnings()  # a fresh interpreter's filters
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        threading.excepthook = thread_died
        root.addHandler(last_resort)
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            root.removeHandler(last_resort)
            threading.excepthook = hook
    return subprocess.CompletedProcess(["gaptools", *map(str, args)], code, out.getvalue(), err.getvalue())


def process_running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def all_gone(pids, within_s: float = 10.0) -> bool:
    """None of the processes is running within ``within_s`` seconds."""
    import time

    deadline = time.monotonic() + within_s
    while any(process_running(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def pdf_text(path) -> tuple[int, str]:
    """(pages, text) of a PDF, as PDFium (Chromium's own PDF library, through pypdfium2) reads it.

    Lines end in ``\\n``; a word that the layout broke with a hyphen reads ``self-\\nregulation``, and
    ligatures ('ﬁ') read as letters (NFKC). (pypdf, used before, gives the same words, broken into
    lines elsewhere in table cells, for about 18 times the CPU: seconds over the sample trust's 25 PDFs.)
    """
    import unicodedata

    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        pages = len(document)
    finally:
        document.close()
    text = "\n".join(texts).replace("\r\n", "\n").replace("\ufffe", "-\n")  # U+FFFE: PDFium's line-break hyphen
    return pages, unicodedata.normalize("NFKC", text)


def occurring(words, text: str) -> set[str]:
    """Which of ``words`` occur in ``text``: one pass of one pattern (longest first) instead of a search
    per word (seconds for a few thousand pupil ids over a run's files). The ids and names searched for
    start with a letter and have a fixed width per kind, so no occurrence can hide inside another."""
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return set()
    return set(re.findall("|".join(map(re.escape, words)), text))
