"""The package's layers import one way (down), with no cycles and no private names crossing modules.

Layers, lowest first: ``errors`` < ``domain`` < ``io`` < ``analysis`` < ``targeting`` <
``reporting`` < ``batch`` < ``cli``. A module may import from its own layer or any layer
below it, never above, whether the import is at the top of the file or inside a function
(a function-level import is allowed for start-up speed, never to dodge a cycle).
"""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "gaptools"
LAYERS = ["errors", "domain", "io", "analysis", "targeting", "reporting", "batch", "cli"]


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        parts = path.relative_to(PKG.parent).with_suffix("").parts
        yield path, ".".join(parts[:-1] if parts[-1] == "__init__" else parts), parts[-1] == "__init__"


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package itself (lazy public API)
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def _imports(path: Path, module: str, is_package: bool):
    """(imported module, names, line) for every gaptools import in the file, resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    base = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "gaptools":
                continue
            yield target, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "gaptools":
                    yield a.name, [], node.lineno


def _graph():
    mods = {m: (p, pkg) for p, m, pkg in _modules()}
    edges = {}
    for module, (path, pkg) in mods.items():
        for target, names, line in _imports(path, module, pkg):
            # "from gaptools.x import y" may name a submodule y
            full = [f"{target}.{n}" for n in names if f"{target}.{n}" in mods] or [target]
            for t in full:
                edges.setdefault(module, []).append((t, names, line))
    return mods, edges


def test_every_module_sits_in_a_layer():
    stray = [m for _, m, _ in _modules() if m != "gaptools" and _layer(m) is None]
    assert not stray, f"modules outside the layers {LAYERS}: {stray}"


def test_imports_run_down_the_layers():
    _, edges = _graph()
    wrong = []
    for module, targets in edges.items():
        low = _layer(module)
        if low is None:
            continue
        for target, _, line in targets:
            high = _layer(target)
            if target == "gaptools" or high is None:
                if module != "gaptools" and target == "gaptools":
                    continue  # `from .. import __version__`
                continue
            if high > low:
                wrong.append(f"{module}:{line} imports {target} ({LAYERS[high]} is above {LAYERS[low]})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    mods, edges = _graph()
    graph = {m: sorted({t for t, _, _ in edges.get(m, []) if t in mods and t != m}) for m in mods}
    # a package's __init__ re-exporting its own modules is not a cycle of behaviour
    graph = {m: [t for t in ts if not t.startswith(m + ".")] for m, ts in graph.items()}
    seen, stack, cycles = {}, [], []

    def visit(m):
        seen[m] = 1
        stack.append(m)
        for t in graph[m]:
            if seen.get(t) == 1:
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in seen:
                visit(t)
        stack.pop()
        seen[m] = 2

    for m in graph:
        if m not in seen:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_private_name_is_imported_from_another_module():
    _, edges = _graph()
    private = [f"{module}:{line} imports {n} from {target}"
               for module, targets in edges.items() for target, names, line in targets
               for n in names if n.startswith("_") and not n.startswith("__")]
    assert not private, "\n".join(private)


@pytest.mark.parametrize("bad, expected", [
    ("from ..reporting.display import Chart\n", "imports gaptools.reporting.display"),
    ("def f():\n    from ..batch import run\n", "imports gaptools.batch"),
])
def test_the_rule_catches_an_upward_import(tmp_path, bad, expected, monkeypatch):
    """The check itself can fail: an upward import planted in a copy of a domain module is found."""
    import shutil

    copy = tmp_path / "gaptools"
    shutil.copytree(PKG, copy, ignore=shutil.ignore_patterns("__pycache__", "data", "templates"))
    target = copy / "domain" / "formatting.py"
    target.write_text(target.read_text() + "\n" + bad)
    monkeypatch.setattr(__import__(__name__), "PKG", copy)
    with pytest.raises(AssertionError, match=expected):
        test_imports_run_down_the_layers()


def test_mypy_finds_no_error():
    """The package type-checks with mypy as pyproject.toml configures it (``[tool.mypy]``).

    Run as a test rather than a step of ``make test``: it then runs beside the other tests on the second
    core. Its cache (``.mypy_cache``) makes a run after a small change well under a second; a fresh
    one (a new clone, CI) takes about 7 s.
    """
    run = subprocess.run([sys.executable, "-m", "mypy"], cwd=PKG.parent, capture_output=True, text=True)
    assert run.returncode == 0, (f"mypy found errors (fix them in the code; see pyproject.toml):\n"
                                 f"{run.stdout}{run.stderr}")


def test_ruff_finds_nothing():
    """The code passes ruff as pyproject.toml configures it (``[tool.ruff]``): about a second."""
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "gaptools", "tests", "benchmarks"],
                         cwd=PKG.parent, capture_output=True, text=True)
    assert run.returncode == 0, f"ruff found problems (`ruff check --fix` mends most):\n{run.stdout}{run.stderr}"


def test_the_typed_stub_declares_the_lazily_loaded_api_as_it_is():
    """gaptools/__init__.pyi (what a type checker or an editor reads) names every name of ``__all__``,
    each from the module that ``import gaptools`` really loads it from on first use."""
    import ast
    import importlib

    import gaptools

    stub = ast.parse((PKG / "__init__.pyi").read_text())
    declared = {}
    for node in stub.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                declared[alias.asname or alias.name] = (node.module, alias.name)
    assert set(declared) == set(gaptools.__all__)
    for name, (module, attr) in declared.items():
        source = importlib.import_module(f"gaptools.{module}")
        value = getattr(source, attr) if hasattr(source, attr) else importlib.import_module(f"gaptools.{module}.{attr}")
        assert getattr(gaptools, name) is value, name
    assert (PKG / "py.typed").exists()  # PEP 561: the stub is used where gaptools is installed


def test_docs_architecture_names_every_module():
    """docs/architecture.md is the map of the package: a module it leaves out is one a newcomer cannot find."""
    text = (PKG.parent / "docs" / "architecture.md").read_text()
    missing = [str(path.relative_to(PKG)) for path in PKG.rglob("*.py")
               if path.stem != "__init__" and not re.search(rf"`({path.stem}|gaptools/{path.name})`", text)]
    assert missing == []
