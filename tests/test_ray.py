"""The Ray backend: identical results to the local backend; unreachable clusters fail fast."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

ray = pytest.importorskip("ray")

from iadsim.cli import main  # noqa: E402
from iadsim.engine import compile_world  # noqa: E402
from iadsim.montecarlo import concat, run_replications  # noqa: E402
from iadsim.montecarlo import ray_backend  # noqa: E402
from iadsim.montecarlo.dataset import read_replications  # noqa: E402
from iadsim.montecarlo.ray_backend import BackendError  # noqa: E402
from iadsim.montecarlo.sweep import plan_sweep, run_sweep  # noqa: E402
from iadsim.results import Results  # noqa: E402

VEH = "effectors[sam-2].vehicles=1,2"
ALT = "threats[drone].altitude_m=3000:6000:1500"
RAW = ("det_step", "firm_step", "eng_step", "shots", "kill_step", "killer", "leak_step", "expended")


@pytest.fixture(scope="module")
def local_cluster():
    """A local Ray instance for this module: ray.init(num_cpus=2, include_dashboard=False), then shutdown."""
    assert not ray.is_initialized()
    with ray_backend.session(None, num_cpus=2) as r:
        assert r.is_initialized() and ray_backend.cluster_cpus(r) == 2
        yield r
    assert not ray.is_initialized()


@pytest.mark.slow  # starting Ray and its workers takes 15-30 s here
def test_replications_identical_to_local(local_cluster, small_scenario):
    world = compile_world(small_scenario)
    local = concat(run_replications(world, 45, 13, chunk_size=45))
    seen = []
    parts = run_replications(world, 45, 13, chunk_size=7, backend="ray", record_rep=20,
                             on_chunk=seen.append)
    assert [p.first for p in parts] == list(range(0, 45, 7)) and sum(seen) == 45
    remote = concat(parts)
    for name in RAW:
        np.testing.assert_array_equal(getattr(remote, name), getattr(local, name), err_msg=name)
    a = Results(world=world, seed=13, n=45, raw=local, version="x").replications
    b = Results(world=world, seed=13, n=45, raw=remote, version="x").replications
    pd.testing.assert_frame_equal(a, b)
    assert remote.events is not None and len(remote.events)  # replication 20 was recorded


@pytest.mark.slow
def test_sweep_on_ray_identical_to_local(local_cluster, small_dir, small_scenario, tmp_path, capsys):
    plan = plan_sweep(small_scenario, [VEH, ALT], replications=20, seed=4)
    local = run_sweep(plan, tmp_path / "local", chunk_size=20)
    seen = []
    remote = run_sweep(plan, tmp_path / "ray", backend="ray", chunk_size=6,
                       progress=lambda c, r: seen.append((c, r)))
    assert seen[-1] == (6, 120)
    pd.testing.assert_frame_equal(local.replications(), remote.replications())
    pd.testing.assert_frame_equal(local.summary, remote.summary)
    # the command line, on the running cluster
    out = tmp_path / "cli"
    assert main(["sweep", str(small_dir / "scenario.yaml"), "--vary", VEH, "--vary", ALT, "-n", "20",
                 "--seed", "4", "--backend", "ray", "--out", str(out), "-q"]) == 0
    pd.testing.assert_frame_equal(local.replications(), read_replications(out))
    assert ray.is_initialized()  # a session it did not start is left running


def test_unreachable_address_fails_fast(small_scenario, small_dir, tmp_path, capsys):
    t0 = time.monotonic()
    with pytest.raises(BackendError, match="does not answer"):
        with ray_backend.session("127.0.0.1:1", connect_timeout_s=2):
            pass
    with pytest.raises(BackendError, match="does not answer"):
        ray_backend.check_reachable("ray://127.0.0.1:1", 2)
    with pytest.raises(BackendError, match="not a port number"):
        ray_backend.check_reachable("somehost:http", 2)
    out = tmp_path / "sw"
    rc = main(["sweep", str(small_dir / "scenario.yaml"), "--vary", VEH, "-n", "4", "--backend", "ray",
               "--ray-address", "127.0.0.1:1", "--ray-timeout", "3", "--out", str(out)])
    assert rc == 2 and time.monotonic() - t0 < 30
    err = capsys.readouterr().err
    assert "does not answer" in err and "Traceback" not in err
    assert not out.exists()
    # --ray-address without --backend ray
    assert main(["sweep", str(small_dir / "scenario.yaml"), "--vary", VEH, "--ray-address", "auto",
                 "--out", str(out)]) == 2
    assert not out.exists()
    world = compile_world(small_scenario)
    with pytest.raises(BackendError):
        run_replications(world, 4, 1, backend="ray", ray_address="127.0.0.1:1", ray_connect_timeout_s=2)
