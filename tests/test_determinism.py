"""Determinism: the same scenario and seed give byte-identical Parquet files whatever the backend
(this process, local worker processes, Ray), the chunk size and the worker count.

Replication i draws only from its own SeedSequence child, so the numbers agree; these tests
check the files a user gets, byte for byte (Parquet metadata included), not just the numbers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

import iadsim
from conftest import small_scenario_dict
from iadsim.cli import main

N = 48
SEED = 11
#: run outputs that must be identical byte for byte between runs of the same scenario and seed
#: (run.json records the machine and timings; report.html embeds plot ids)
DETERMINISTIC = ("replications.parquet", "expenditure.parquet", "timeline.csv", "summary.json",
                 "scenario.yaml", "catalog.yaml", "routes.geojson")

# (workers, chunk size, backend): this process with one chunk or uneven chunks, three processes
CONFIGS = [(1, N, "local"), (1, 7, "local"), (3, 5, "local")]


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _simulate(ld, workers: int, chunk: int, backend: str = "local"):
    kw = {} if backend == "local" else {"backend": backend}
    return iadsim.simulate(ld, replications=N, seed=SEED, workers=workers, chunk_size=chunk, **kw)


def _parquet_files(res, out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    res.write_parquet(out / "replications.parquet")
    res.expenditure.to_parquet(out / "expenditure.parquet", index=False)
    return {p.name: _digest(p) for p in sorted(out.iterdir())}


def _load(folder: Path, synthetic_dem: Path, uncertainty: str):
    (folder / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    data = small_scenario_dict()
    data["simulation"]["uncertainty"] = uncertainty
    (folder / "scenario.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return iadsim.load_scenario(folder / "scenario.yaml")


@pytest.fixture(scope="module", params=["nominal", "sample"])
def loaded(request, tmp_path_factory, synthetic_dem):
    """The small scenario, with catalog figures nominal or sampled per replication."""
    return _load(tmp_path_factory.mktemp(f"det-{request.param}"), synthetic_dem, request.param)


def test_parquet_bytes_identical_across_backends_chunks_and_workers(loaded, tmp_path):
    files = {cfg: _parquet_files(_simulate(loaded, *cfg), tmp_path / "-".join(map(str, cfg))) for cfg in CONFIGS}
    first = files[CONFIGS[0]]
    assert set(first) == {"replications.parquet", "expenditure.parquet"}
    for cfg, digests in files.items():
        assert digests == first, f"{cfg} differs from {CONFIGS[0]}"


def test_writing_twice_gives_the_same_bytes(loaded, tmp_path):
    res = _simulate(loaded, 1, N)
    assert _parquet_files(res, tmp_path / "a") == _parquet_files(res, tmp_path / "b")


@pytest.mark.parametrize("uncertainty", ["nominal", "sample"])
def test_a_chunk_of_one_replication(uncertainty, tmp_path, synthetic_dem):
    """A chunk holding one replication (e.g. -n 251 with chunks of 250) gives the same bytes; with
    sampled figures it used to crash (a read-only parameter array)."""
    ld = _load(tmp_path, synthetic_dem, uncertainty)
    one = _parquet_files(_simulate(ld, 1, 1), tmp_path / "one")
    assert one == _parquet_files(_simulate(ld, 1, N), tmp_path / "all")


@pytest.mark.slow  # starting Ray takes 15-30 s
def test_parquet_bytes_identical_on_ray(tmp_path, synthetic_dem):
    ray = pytest.importorskip("ray")
    from iadsim.montecarlo import ray_backend

    loads = {}
    for u in ("nominal", "sample"):
        (tmp_path / u).mkdir()
        loads[u] = _load(tmp_path / u, synthetic_dem, u)
    local = {u: _parquet_files(_simulate(ld, 1, N), tmp_path / u / "local") for u, ld in loads.items()}
    assert not ray.is_initialized()
    with ray_backend.session(None, num_cpus=2):
        on_ray = {u: _parquet_files(_simulate(ld, 2, 5, backend="ray"), tmp_path / u / "ray")
                  for u, ld in loads.items()}
    assert on_ray == local


@pytest.mark.slow
def test_cli_outputs_identical_serial_and_processes(small_dir, tmp_path):
    scn = str(small_dir / "scenario.yaml")
    runs = {"serial": [], "processes": ["--workers", "2"], "again": []}
    digests = {}
    for name, extra in runs.items():
        out = tmp_path / name
        assert main(["run", scn, "-n", str(N), "--seed", str(SEED), "--out", str(out), "-q", *extra]) == 0
        digests[name] = {f: _digest(out / f) for f in DETERMINISTIC if (out / f).exists()}
    assert {"replications.parquet", "expenditure.parquet", "summary.json"} <= set(digests["serial"])
    assert digests["processes"] == digests["serial"]
    assert digests["again"] == digests["serial"]
