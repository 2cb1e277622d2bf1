"""What every benchmark shares: the machine and versions, the result file, cold / warm-cache
timings in fresh processes, and failing loudly when data are missing.

Three figures are kept apart everywhere (STYLE.md 13):

* **cold**: the first call in a fresh process whose numba cache is empty (``NUMBA_CACHE_DIR``
  set to a new empty folder), so compilation is included;
* **warm-cache**: the first call in another fresh process sharing that now-filled cache (what a
  user sees from the second run on);
* **hot**: later calls in the same process (the steady state), as a median.

Named ``benchcommon`` (not ``common``) so nothing in this folder shadows a package.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
SHARED = REPO.parent / "shared"


def _version(mod: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:  # noqa: BLE001 - not installed
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def machine(*extra: str) -> dict:
    """The machine, the versions that matter and the code's commit."""
    info = {"platform": platform.platform(), "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "iadsim_commit": _git_commit()}
    try:
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        pass
    for mod in ("iadsim", "numpy", "numba", "scipy", *extra):
        info[mod] = _version(mod)
    return info


def command() -> str:
    """The command line that produced this result (relative to the repository)."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(REPO)
    except ValueError:
        pass
    return " ".join(["python", shlex.quote(str(script)), *map(shlex.quote, sys.argv[1:])])


def write_result(name: str, result: dict, *extra_versions: str) -> Path:
    """benchmarks/results/<name>.json with the machine, versions, command and date added (the
    file is committed: benchmarks/readme_table.py builds the README table from these)."""
    result = dict(result)
    result.setdefault("name", name)
    m = machine(*extra_versions)
    m.update(result.get("machine") or {})  # a benchmark's own machine fields win
    result["machine"] = m
    result["command"] = command()
    result["date"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8")
    return path


def require(path: Path, what: str) -> Path:
    """Exit with status 2 (the benchmark FAILS) when its data are missing."""
    if not path.exists():
        print(f"error: {what} not found at {path} (expected shared/ next to the repository)",
              file=sys.stderr)
        sys.exit(2)
    return path


def fresh_process_timings(code: str, *, cache_dir: str | None = None, runs: int = 2,
                          env: dict | None = None, timeout: float = 900) -> list[dict]:
    """Run ``code`` (Python source that prints one JSON object on its last stdout line) in
    ``runs`` fresh processes sharing one numba cache folder that starts empty: the first result
    is the cold one, the next ones are warm-cache. Returns the parsed JSON objects."""
    own = cache_dir is None
    tmp = tempfile.mkdtemp(prefix="iadsim-numba-cache-") if own else cache_dir
    e = dict(os.environ, NUMBA_CACHE_DIR=tmp, **(env or {}))
    src = str(REPO / "src")
    e["PYTHONPATH"] = src + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    out = []
    try:
        for _ in range(runs):
            p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               env=e, timeout=timeout, cwd=str(REPO))
            if p.returncode != 0:
                raise RuntimeError(f"benchmark child failed ({p.returncode}):\n{p.stderr[-3000:]}")
            out.append(json.loads(p.stdout.strip().splitlines()[-1]))
    finally:
        if own:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return out


def median(xs) -> float:
    xs = sorted(xs)
    n = len(xs)
    return float(xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2]))
