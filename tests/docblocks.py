"""The fenced code blocks of a docs page, for the tests that run a page's worked example
(``docs/sensors.md``, ``docs/missions.md``): blocks whose info string is ``file=PATH`` are files of
the example, the others (``run``, ``cli``, output) are read by info string or language."""

from __future__ import annotations

import re
from pathlib import Path

FENCE = re.compile(r"^```(\w+) ?([^\n]*)\n(.*?)^```", re.S | re.M)


def doc_blocks(doc: Path) -> list[tuple[str, str, str]]:
    """(language, info string, body) of each fenced block of ``doc``, in order."""
    return [(lang, info.strip(), body) for lang, info, body in FENCE.findall(doc.read_text(encoding="utf-8"))]


def write_doc_files(blocks: list[tuple[str, str, str]], folder: Path) -> dict[str, str]:
    """Write each ``file=PATH`` block to ``folder / PATH`` (folders made); returns the other blocks'
    bodies by info string (the last block of an info string wins)."""
    other: dict[str, str] = {}
    for _lang, info, body in blocks:
        if info.startswith("file="):
            path = folder / info.split("=", 1)[1]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
        elif info:
            other[info] = body
    return other
