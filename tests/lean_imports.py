"""Loaded first in every test process (``-p lean_imports``, pyproject.toml), before any test module.

nbformat (imported by test modules, and by nbval where it is loaded) imports jsonschema,
which would compile an RFC 3987 grammar at import (about 2 core-seconds a process) to
check an "iri" format that no notebook schema uses. Importing :mod:`gaptools.batch`
first prevents that, as in `gaptools run` (see its ``__init__``). The package is not
itself the plugin: pytest looks through a plugin's names for fixtures, and so would
import the whole runner (about 1.5 s) through its lazy exports, in the controlling
process too.
"""
import gaptools.batch  # noqa: F401
