"""Errors raised for a user's mistakes.

Every error a user can cause derives from :class:`IadsimError`. The command line
prints these without a traceback and exits with code 2; Python callers catch them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem in an input file: where it is and what was expected."""

    file: str
    path: str  # field path, e.g. "effectors[2].site.lat"; "" for the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class IadsimError(Exception):
    """Base class of all errors caused by user input or environment."""

    exit_code = 2


class InputError(IadsimError):
    """One or more problems in an input file (scenario, catalog, DEM)."""

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: str | Path, path: str, message: str) -> "InputError":
        return cls(Problem(str(file), path, message))


class ResourceError(InputError):
    """A run or an input is larger than this machine (or iadsim's limits) allows.

    Raised up front, before the work starts, instead of running out of memory part-way.
    Each problem names the setting to change (``simulation.replications``,
    ``terrain.resolution_m``, ...), so it prints like any other input problem.
    """


class OutputError(IadsimError):
    """The output folder cannot be used (not writable, a file in the way, the disk is full, ...)."""
