"""Worker processes that cannot import code from the caller's folder.

A scenario is shared as a folder, and people run iadsim from inside it. Python puts the
current directory at the head of the import path in several places: a ``python -c`` child (how
``multiprocessing`` starts a spawned worker) has ``''`` there until its parent's path arrives,
and Ray adds the driver's working directory to every worker's path. A ``coverage.py`` (numba
imports ``coverage`` lazily), ``multiprocessing/`` or ``numpy.py`` planted in that folder would
then run in every worker.

Every process pool iadsim starts therefore uses :func:`isolated_spawn_context`: workers (and
multiprocessing's resource tracker) start with ``PYTHONSAFEPATH=1`` (no implicit ``''``
entry), with the parent's import path less ``''``, relative entries and the current
directory, and from a private empty directory
(created with :func:`tempfile.mkdtemp`, mode 0700, removed afterwards) instead of the caller's
folder. Ray sessions iadsim starts get that empty directory as their ``runtime_env``
``working_dir`` (:func:`ray_runtime_env`), which stops Ray from adding the driver's directory.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import popen_spawn_posix
from multiprocessing import spawn as _spawn
from multiprocessing.context import SpawnContext, SpawnProcess

WORKDIR_PREFIX = "iadsim-worker-"

_LAUNCH_LOCK = threading.Lock()


def clean_sys_path(paths: list[str], cwd: str | None = None) -> list[str]:
    """``paths`` without ``''``, relative entries and the current directory ``cwd``."""
    try:
        here = os.path.realpath(cwd if cwd is not None else os.getcwd())
    except OSError:  # the current directory was removed
        here = None
    out = []
    for p in paths:
        if not isinstance(p, str) or not p or not os.path.isabs(p):
            continue
        if here is not None and os.path.realpath(p) == here:
            continue
        out.append(p)
    return out


@contextmanager
def private_workdir() -> Iterator[str]:
    """A new empty directory only this user can enter, removed afterwards."""
    d = tempfile.mkdtemp(prefix=WORKDIR_PREFIX)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextmanager
def _safe_path_env() -> Iterator[None]:
    """PYTHONSAFEPATH=1 for the processes started in the block (no '' on their import path)."""
    old = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = old


class _IsolatedPopen(popen_spawn_posix.Popen):
    """The spawn launcher, with a clean import path and working directory for the child."""

    def _launch(self, process_obj):  # type: ignore[override]
        workdir = getattr(process_obj, "_iadsim_workdir", None)
        original = _spawn.get_preparation_data

        def preparation_data(name):
            data = original(name)
            data["sys_path"] = clean_sys_path(list(data.get("sys_path", sys.path)))
            if workdir:
                data["dir"] = workdir
            return data

        with _LAUNCH_LOCK, _safe_path_env():
            _spawn.get_preparation_data = preparation_data
            try:
                super()._launch(process_obj)
            finally:
                _spawn.get_preparation_data = original


class IsolatedProcess(SpawnProcess):
    """A spawned process started by :class:`_IsolatedPopen`."""

    _iadsim_workdir: str | None = None

    @staticmethod
    def _Popen(process_obj):
        return _IsolatedPopen(process_obj)


class IsolatedSpawnContext(SpawnContext):
    """The "spawn" start method with isolated children (see the module docstring)."""

    def __init__(self, workdir: str):
        super().__init__()
        self.workdir = workdir

    def Process(self, *args, **kwargs) -> IsolatedProcess:  # noqa: N802 - multiprocessing's name
        p = IsolatedProcess(*args, **kwargs)
        p._iadsim_workdir = self.workdir
        return p


@contextmanager
def isolated_spawn_context() -> Iterator[IsolatedSpawnContext]:
    """A multiprocessing context for ``ProcessPoolExecutor(mp_context=...)`` whose workers run
    from a private empty directory with the caller's folder off their import path. Keep the
    pool inside the block (the directory is removed at its end)."""
    from multiprocessing import resource_tracker

    # multiprocessing's helper process (started once, on the first queue or lock) is a
    # `python -c` child too
    with _LAUNCH_LOCK, _safe_path_env():
        resource_tracker.ensure_running()
    with private_workdir() as d:
        yield IsolatedSpawnContext(d)


def ray_runtime_env(workdir: str) -> dict[str, object]:
    """``runtime_env`` for ``ray.init``: workers start in the (empty) ``workdir`` copy, and Ray adds
    neither the driver's current directory nor its script's folder to their import path."""
    return {"working_dir": workdir, "env_vars": {"PYTHONSAFEPATH": "1"}}
