"""A Ray worker killed during a run or a sweep: its task is retried and the results are unchanged.

Each test swaps the function inside the backend's remote chunk task for a wrapper (shipped to the
workers by value) that logs every attempt to a file and, on the first attempt of one chosen chunk,
SIGKILLs its own worker process. The remote function itself is built by the backend's own
``_remote_chunk`` (its ``max_retries``), so this checks the production retry setting. A flag file
created with O_EXCL makes the kill happen exactly once, so the retry runs to completion.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

ray = pytest.importorskip("ray")

import iadsim  # noqa: E402
from iadsim.montecarlo import ray_backend  # noqa: E402
from iadsim.montecarlo.sweep import plan_sweep, run_sweep  # noqa: E402

VEH = "effectors[sam-2].vehicles=1,2"
ALT = "threats[drone].altitude_m=3000:6000:1500"


def _dying_chunk_task(folder: Path, victim_first: int):
    """The backend's chunk task, but the first attempt at chunk ``victim_first`` kills its worker."""
    original = ray_backend._chunk_task  # module-level in iadsim: pickled by reference
    log, flag = str(folder / "attempts.log"), str(folder / "killed")

    def task(world, seed, first, count, record_rep):
        import os
        import signal

        with open(log, "a") as f:
            f.write(f"{seed} {first} {os.getpid()}\n")
        if first == victim_first:
            try:
                os.close(os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass  # already killed once: this is the retry, run normally
            else:
                os.kill(os.getpid(), signal.SIGKILL)  # the worker dies mid-task
        return original(world, seed, first, count, record_rep)

    return task


def _attempts(folder: Path) -> list[tuple[int, int, int]]:
    return [tuple(map(int, line.split())) for line in (folder / "attempts.log").read_text().splitlines()]


@pytest.fixture()
def killer(tmp_path, monkeypatch):
    """Install the dying wrapper; the backend builds its remote task afresh around it."""
    folder = tmp_path / "faults"
    folder.mkdir()

    def install(victim_first: int) -> Path:
        monkeypatch.setattr(ray_backend, "_chunk_task", _dying_chunk_task(folder, victim_first))
        monkeypatch.setattr(ray_backend, "_REMOTE", {})
        return folder

    yield install


@pytest.fixture(scope="module")
def local_cluster():
    assert not ray.is_initialized()
    with ray_backend.session(None, num_cpus=2) as r:
        yield r
    assert not ray.is_initialized()


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.slow  # Ray start-up and a replacement worker: ~15-30 s
def test_worker_killed_during_a_run_is_retried_same_bytes(local_cluster, killer, small_scenario, tmp_path):
    local = iadsim.simulate(small_scenario, replications=40, seed=9, chunk_size=40)
    local.write_parquet(tmp_path / "local.parquet")

    folder = killer(victim_first=15)
    on_ray = iadsim.simulate(small_scenario, replications=40, seed=9, chunk_size=5, backend="ray")
    on_ray.write_parquet(tmp_path / "ray.parquet")

    victim = [a for a in _attempts(folder) if a[1] == 15]
    assert len(victim) == 2, victim                      # killed once, retried once
    assert victim[0][2] != victim[1][2]                  # the retry ran in a new worker process
    assert (folder / "killed").exists()
    assert sorted({a[1] for a in _attempts(folder)}) == list(range(0, 40, 5))
    pd.testing.assert_frame_equal(local.replications, on_ray.replications)
    assert _digest(tmp_path / "local.parquet") == _digest(tmp_path / "ray.parquet")


@pytest.mark.slow
def test_worker_killed_during_a_sweep_is_retried_same_rows(local_cluster, killer, small_scenario, tmp_path):
    plan = plan_sweep(small_scenario, [VEH, ALT], replications=12, seed=4)
    local = run_sweep(plan, tmp_path / "local", chunk_size=12)

    folder = killer(victim_first=6)  # the first cell to reach its second chunk loses its worker
    remote = run_sweep(plan, tmp_path / "ray", backend="ray", chunk_size=6)

    attempts = _attempts(folder)  # every cell has the plan's seed: count attempts, not seeds
    assert len(attempts) == 6 * 2 + 1, attempts           # 6 cells x 2 chunks, plus one retry
    at_6 = [a for a in attempts if a[1] == 6]
    assert len(at_6) == 6 + 1 and (folder / "killed").exists()
    dead_pid = at_6[0][2]                                  # the first attempt at chunk 6 died ...
    assert all(a[2] != dead_pid for a in attempts[attempts.index(at_6[0]) + 1:])  # ... and never ran again
    pd.testing.assert_frame_equal(local.replications(), remote.replications())
    pd.testing.assert_frame_equal(local.summary, remote.summary)
