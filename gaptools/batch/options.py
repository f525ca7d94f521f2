"""A run's options: ``run()``'s keywords as one value, checked before any work."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.suppression import DEFAULT_THRESHOLD
from ..errors import UsageError
from .dispatch import scheduler_address

MIN_YEAR = 1900


def check_options(*, threshold: int, year: int | None, workers: int | None, scheduler: str | None) -> None:
    """Refuse impossible options before any work (raises :class:`UsageError`)."""
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 2:
        raise UsageError(f"--threshold {threshold}: the suppression threshold must be a whole number, at least 2 "
                         "(default 6: groups of 5 or fewer pupils are withheld)")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= 2100):
        raise UsageError(f"--year {year}: give a results year from {MIN_YEAR} to 2100 (2025 = 2024/25)")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    if scheduler:
        scheduler_address(scheduler)


@dataclass(frozen=True)
class RunOptions:
    """The options of one run, as given to :func:`gaptools.batch.runner.run` (see it for each one's meaning).

    Paths are kept as given: the run resolves them once, as it starts.
    """

    mapping: Any = None
    schools: Any = None
    workers: int | None = None
    scheduler: str | None = None
    resume: bool = False
    quiet: bool = False
    threshold: int = DEFAULT_THRESHOLD
    year: int | None = None
    force: bool = False
    timeout: int = 600
    published: Any = None
    notebook_dir: Any = None
    current: Any = None
    pdf: bool = False
    current_mapping: Any = None
    assessments: Any = None
    assessments_mapping: Any = None
    activities: Any = None
    activities_mapping: Any = None

    def check(self) -> None:
        """Refuse impossible options before any work (raises :class:`UsageError`)."""
        check_options(threshold=self.threshold, year=self.year, workers=self.workers, scheduler=self.scheduler)
