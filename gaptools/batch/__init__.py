"""``gaptools run``: the batch runner (kernels, school jobs, the index page).

The runner's names are imported on first use (PEP 562), so ``from gaptools.batch
import warm`` (the warm kernel parent, a test session's kernel plugin) does not
load pandas, scipy and the reports just to start a warm parent.
"""
import importlib
import sys

# nbformat validates notebooks with jsonschema, which (when the optional rfc3987-syntax is installed,
# as JupyterLab's dependencies do) compiles a full RFC 3987 grammar at import, 2-5 s of CPU, only to
# check "iri" formats that no notebook schema uses. The runner does without that check.
if "jsonschema" not in sys.modules:
    # None in sys.modules is Python's documented way to make an import fail; typeshed types the values as
    # modules only.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

_EXPORTS = {"run": "runner", "run_cli": "runner", "SchoolJob": "school", "SchoolOutcome": "school",
            "run_school": "school", "safe_folder_names": "school"}
__all__ = ["SchoolJob", "SchoolOutcome", "run", "run_cli", "run_school", "safe_folder_names"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gaptools.batch' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
