"""Keep numba's on-disk cache true to the source it was compiled from.

numba's cache (``cache=True``) checks only the file that defines a compiled function: a kernel in
``engine/full.py`` that calls, or inlines, a function of ``tracking/core.py`` keeps its compiled
code after ``core.py`` changes (a ``git pull`` that edits one file and not the other), and would
run the old code. :func:`ensure_fresh` keeps a digest of every source file of the packages with
compiled code next to the cache; when the digest changes, it deletes the package's cached
compilations (``__pycache__/*.nbi``, ``*.nbc``) so that numba compiles them again from the
current source. It runs once per process, when iadsim is imported, and costs a few milliseconds.

With ``NUMBA_CACHE_DIR`` set, numba keeps its cache elsewhere and nothing is checked here.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["COMPILED_PACKAGES", "ensure_fresh", "sources_digest"]

#: the packages whose modules hold numba-compiled functions, or the constants and records they read
COMPILED_PACKAGES = ("c2", "coverage", "engine", "missions", "montecarlo", "physics", "tracking")
STAMP = "iadsim-compiled-sources.sha256"


def sources_digest(root: Path) -> str:
    """SHA-256 over the path and bytes of every ``.py`` file of :data:`COMPILED_PACKAGES`."""
    h = hashlib.sha256()
    for pkg in COMPILED_PACKAGES:
        for f in sorted((root / pkg).glob("*.py")):
            h.update(f"{pkg}/{f.name}\0".encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def ensure_fresh(root: Path | None = None) -> bool:
    """Delete numba's cached compilations of iadsim if its compiled sources changed since they
    were cached; True when it deleted them. Never raises: a read-only install is left as it is."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return False
    root = Path(__file__).resolve().parent if root is None else Path(root)
    try:
        digest = sources_digest(root)
        stamp = root / "__pycache__" / STAMP
        if stamp.is_file() and stamp.read_text(encoding="ascii").strip() == digest:
            return False
        for pkg in COMPILED_PACKAGES:
            cache = root / pkg / "__pycache__"
            if cache.is_dir():
                for f in cache.iterdir():
                    if f.suffix in (".nbi", ".nbc"):
                        f.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        tmp = stamp.with_name(f"{STAMP}.{os.getpid()}.tmp")
        tmp.write_text(digest + "\n", encoding="ascii")
        os.replace(tmp, stamp)
        return True
    except OSError:
        return False
