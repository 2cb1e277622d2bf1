"""Errors raised for a user's mistakes.

Every error a user can cause derives from :class:`IadsimError`. The command line
prints these without a traceback and exits with code 2; Python callers catch them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: C0 and C1 control characters (ESC starts a terminal escape sequence), DEL, and the Unicode
#: bidirectional overrides that reorder what a terminal shows
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(text: object, newlines: bool = False) -> str:
    """Text safe to print on a terminal: control characters (terminal escape sequences, NUL,
    newlines unless ``newlines``), bidirectional overrides and undecodable bytes (lone
    surrogates) become backslash escapes, so a file name cannot rewrite the screen."""
    s = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return (_CONTROL_BUT_NEWLINE if newlines else _CONTROL).sub(_escape, s)


@dataclass(frozen=True)
class Problem:
    """One problem in an input file: where it is and what was expected."""

    file: str
    path: str  # field path, e.g. "effectors[2].site.lat"; "" for the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return printable(f"{where}: {self.message}", newlines=True)


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
