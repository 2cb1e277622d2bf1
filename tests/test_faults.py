"""Faults and resource limits: kill -9 while `iadsim run` writes, disk full (simulated and real),
odd files where files are expected, and work too large for the machine refused up front.

Every path ends in a clear error (exit code 2 on the command line), and no file under its final
name is ever incomplete.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

import iadsim.results.io as rio
from conftest import DEM_NORTH, DEM_RES, DEM_WEST, REPO, edited, small_scenario_dict
from iadsim.cli import main
from iadsim.errors import InputError, OutputError, ResourceError

PY = sys.executable
N_REPS = 40


# --------------------------------------------------------------------------- completeness


def check_complete(p: Path) -> None:
    """Raise unless ``p`` is a complete file of its kind (read it all)."""
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        pq.read_table(p)
    elif suffix in (".json", ".geojson", ".czml"):
        json.loads(p.read_text(encoding="utf-8"))
    elif suffix == ".html":
        assert p.read_text(encoding="utf-8").rstrip().endswith("</html>"), p
    elif suffix in (".yaml", ".yml"):
        yaml.safe_load(p.read_text(encoding="utf-8"))
    elif suffix == ".csv":
        import pandas as pd

        pd.read_csv(p)
    elif suffix in (".tif", ".tiff"):
        rio.readable_raster(p)
    elif suffix in (".kmz", ".zip"):
        with zipfile.ZipFile(p) as z:
            assert z.testzip() is None, p
    elif suffix == ".png":
        assert p.read_bytes().endswith(b"IEND\xaeB`\x82"), p
    else:
        assert p.stat().st_size > 0, p


def assert_outputs_complete(out: Path) -> list[Path]:
    """Every file under a final name is complete; hidden files are only temporary ones (and the
    folder's manifest and lock). Returns the temporary files found."""
    temps = []
    for p in sorted(out.rglob("*")):
        if p.is_dir() or p.name in (rio.MANIFEST, rio.LOCK):
            continue
        if p.name.startswith("."):
            assert rio._TEMP_RE.match(p.name) or rio._PROBE_RE.match(p.name), p
            temps.append(p)
            continue
        check_complete(p)
    return temps


# --------------------------------------------------------------------------- kill -9

SLOW_WRITES = r'''
"""Run the iadsim CLI with every atomic write pausing half-way (a slow disk)."""
import os, sys, time
from pathlib import Path
import iadsim.results.io as io

real = io.atomic_path
PAUSE = float(os.environ["IADSIM_TEST_PAUSE"])

def write_text(path, text):
    with real(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text[: len(text) // 2]); fh.flush()
            time.sleep(PAUSE)
            fh.write(text[len(text) // 2:])
    return Path(path)

def write_with(path, writer, check=None):
    with real(path, check=check) as tmp:
        writer(tmp)
        data = tmp.read_bytes()
        tmp.write_bytes(data[: len(data) // 2])   # as if only half were written yet
        time.sleep(PAUSE)
        tmp.write_bytes(data)
    return Path(path)

io.write_text, io.write_with = write_text, write_with
from iadsim.cli import main
sys.exit(main(sys.argv[1:]))
'''


def _start(args: list[str], cwd: Path, pause: float | None = None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    if pause is None:
        cmd = [PY, "-m", "iadsim", *args]
    else:
        helper = cwd / "slow_writes.py"
        helper.write_text(SLOW_WRITES)
        env["IADSIM_TEST_PAUSE"] = str(pause)
        cmd = [PY, str(helper), *args]
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(pred, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not pred():
        if proc.poll() is not None:
            raise AssertionError(f"iadsim exited ({proc.returncode}) before the kill: "
                                 f"{proc.stderr.read().decode(errors='replace')[-2000:]}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError("timed out waiting for iadsim to start writing")
        time.sleep(0.002)


def _kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)  # (a process that has just finished is a zombie: no error)
    assert proc.wait(timeout=30) in (-signal.SIGKILL, 0)


def _rerun_completes(scn: Path, out: Path) -> None:
    assert main(["run", str(scn), "-n", str(N_REPS), "--seed", "3", "--out", str(out), "-q"]) == 0
    assert assert_outputs_complete(out) == []  # the killed run's temporary files are gone too
    assert pq.read_table(out / "replications.parquet").num_rows == N_REPS * 4
    assert (out / "summary.json").is_file()


@pytest.mark.slow
def test_kill_9_half_way_through_a_file_leaves_only_a_hidden_temporary(small_dir):
    """Every write pauses half-written; kill -9 lands on the first one (a .part file)."""
    scn, out = small_dir / "scenario.yaml", small_dir / "out"
    proc = _start(["run", str(scn), "-n", str(N_REPS), "--seed", "3", "--out", str(out), "-q"], small_dir,
                  pause=30.0)
    _wait_for(lambda: out.is_dir() and any(p.name.endswith(".part") for p in out.rglob(".*")), proc)
    _kill9(proc)
    temps = assert_outputs_complete(out)
    assert temps, "the kill should have left the half-written temporary file"
    for t in temps:
        final = t.parent / rio._TEMP_RE.match(t.name).group("name")
        assert not final.exists(), f"{final} is there although its write was killed"
    assert not (out / "summary.json").exists()  # the mark of a complete folder
    _rerun_completes(scn, out)


@pytest.mark.slow
def test_kill_9_while_writing_outputs_then_rerun(small_dir):
    """No pauses: kill -9 as soon as the output folder appears, with a little jitter."""
    scn, out = small_dir / "scenario.yaml", small_dir / "out"
    proc = _start(["run", str(scn), "-n", str(N_REPS), "--seed", "3", "--out", str(out), "-q"], small_dir)
    _wait_for(out.is_dir, proc)
    time.sleep(float(np.random.default_rng().uniform(0.0, 0.15)))
    _kill9(proc)
    assert_outputs_complete(out)
    _rerun_completes(scn, out)


# --------------------------------------------------------------------------- disk full (simulated)


@contextlib.contextmanager
def failing_write(monkeypatch, k: int, exc: BaseException):
    """The k-th atomic write (1-based) writes half its file, then raises ``exc``; yields the list
    of paths written, in order."""
    real = rio.atomic_path
    seen: list[Path] = []

    @contextlib.contextmanager
    def faulty(path, check=None):
        with real(path, check=check) as tmp:
            yield tmp
            seen.append(Path(path))
            if len(seen) == k:
                data = tmp.read_bytes()
                tmp.write_bytes(data[: len(data) // 2])
                raise exc

    monkeypatch.setattr(rio, "atomic_path", faulty)
    yield seen
    monkeypatch.setattr(rio, "atomic_path", real)


def _enospc() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, synthetic_dem):
    """Results of two seeds, and run A's complete output folder."""
    import iadsim
    from iadsim.export.bundle import write_outputs

    d = tmp_path_factory.mktemp("faults")
    (d / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    (d / "scenario.yaml").write_text(yaml.safe_dump(small_scenario_dict()), encoding="utf-8")
    ld = iadsim.load_scenario(d / "scenario.yaml")
    a = iadsim.simulate(ld, replications=N_REPS, seed=1)
    b = iadsim.simulate(ld, replications=N_REPS, seed=2)
    write_outputs(a, d / "run-a")
    return a, b, d / "run-a"


def _written_order(results, out: Path, monkeypatch) -> list[Path]:
    from iadsim.export.bundle import write_outputs

    with failing_write(monkeypatch, 10**9, _enospc()) as seen:
        write_outputs(results, out)
    return [p.relative_to(out) for p in seen]


def test_disk_full_at_every_file_keeps_finished_files(two_runs, tmp_path, monkeypatch):
    """Rewriting run A's folder with run B, the disk fills at file k (for every k): OutputError
    naming file k; files 1..k-1 are B's, file k and later are still A's complete files."""
    from iadsim.export.bundle import write_outputs

    a, b, run_a = two_runs
    order = _written_order(b, tmp_path / "probe", monkeypatch)
    assert len(order) >= 8 and order[-1] == Path("summary.json")
    for k in range(1, len(order) + 1):
        out = tmp_path / f"k{k}"
        shutil.copytree(run_a, out)
        before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
        with failing_write(monkeypatch, k, _enospc()):
            with pytest.raises(OutputError) as exc:
                write_outputs(b, out)
        text = str(exc.value)
        assert str(out / order[k - 1]) in text and "No space left on device" in text and "disk is full" in text
        assert assert_outputs_complete(out) == []  # nothing half-written, no temporary file left
        for i, rel in enumerate(order, start=1):
            p = out / rel
            if not p.exists():
                continue
            replaced = (p.stat().st_ino, p.stat().st_mtime_ns) != before.get(p)
            assert replaced == (i < k), (k, rel)


def test_disk_full_from_the_command_line(small_dir, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    with failing_write(monkeypatch, 3, _enospc()):
        rc = main(["run", str(small_dir / "scenario.yaml"), "-n", str(N_REPS), "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "No space left on device" in err and "cannot write" in err and "Traceback" not in err
    assert assert_outputs_complete(out) == []
    assert len([p for p in out.rglob("*") if p.is_file() and p.name not in (rio.MANIFEST, rio.LOCK)]) == 2  # the two files before the third
    _rerun_completes(small_dir / "scenario.yaml", out)


@pytest.mark.parametrize("exc, words", [
    (OSError(errno.EDQUOT, os.strerror(errno.EDQUOT)), ["quota"]),
    (OSError(errno.EFBIG, os.strerror(errno.EFBIG)), ["larger than this system allows"]),
    (OSError(errno.EIO, os.strerror(errno.EIO)), ["Input/output error"]),
    (OSError("Error writing bytes to file. Detail: [errno 28] No space left on device"), ["disk is full"]),
    (RuntimeError("TIFFWriteDirectory: No space left on device"), ["disk is full"]),
], ids=["quota", "file-too-large", "io-error", "arrow-style", "library-message"])
def test_write_failures_become_output_errors(tmp_path, monkeypatch, exc, words):
    target = tmp_path / "x.json"
    target.write_text("old")
    with failing_write(monkeypatch, 1, exc):
        with pytest.raises(OutputError) as e:
            rio.write_text(target, '{"new": true}')
    assert str(target) in str(e.value) and all(w in str(e.value) for w in words), str(e.value)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_a_geotiff_that_does_not_read_back_is_not_kept(tmp_path):
    """GDAL reports a failed GeoTIFF write only as a log line; a .tif is read back before the
    rename, so a writer that returns normally with a broken file still fails cleanly."""
    target = tmp_path / "cover.tif"
    with pytest.raises(OutputError) as exc:
        rio.write_with(target, lambda tmp: tmp.write_bytes(b"II*\x00" + b"\x00" * 64))  # a TIFF cut short
    assert "does not read back" in str(exc.value) and str(target) in str(exc.value)
    assert list(tmp_path.iterdir()) == []


def test_other_exceptions_pass_unchanged_and_clean_up(tmp_path, monkeypatch):
    with failing_write(monkeypatch, 1, ValueError("a bug, not a full disk")):
        with pytest.raises(ValueError):
            rio.write_text(tmp_path / "x.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_interrupt_while_writing_exit_130_nothing_half_written(small_dir, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    with failing_write(monkeypatch, 4, KeyboardInterrupt()):
        rc = main(["run", str(small_dir / "scenario.yaml"), "-n", str(N_REPS), "--out", str(out), "-q"])
    # (typer turns Ctrl-C into exit code 130 before main() can print its "interrupted" line)
    assert rc == 130 and "Traceback" not in capsys.readouterr().err
    assert assert_outputs_complete(out) == []
    assert len([p for p in out.rglob("*") if p.is_file() and p.name not in (rio.MANIFEST, rio.LOCK)]) == 3


def test_a_folder_in_the_way_of_a_file(small_dir, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "summary.json").mkdir(parents=True)
    rc = main(["run", str(small_dir / "scenario.yaml"), "-n", str(N_REPS), "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "summary.json" in err and "Traceback" not in err
    assert assert_outputs_complete(out) == []


def test_stale_temporary_files_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen([PY, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    (out / "coverage").mkdir(parents=True)
    stale = [out / f".replications.parquet.{dead.pid}.abc123.part",
             out / "coverage" / f".a.tif.{dead.pid}.zz9_x.part"]
    live = out / f".report.html.{os.getpid()}.q1w2e3.part"
    unrelated = [out / ".hidden-by-the-user", out / "notes.part", out / f".x.{dead.pid}.part",
                 # a look-alike of a temporary file of a name iadsim never wrote here
                 out / f".thesis.docx.{dead.pid}.abc123.part"]
    for p in stale + [live] + unrelated:
        p.write_text("half")
    # the manifest lists the files iadsim wrote (or began to write) in this folder
    (out / rio.MANIFEST).write_text('iadsim-output-folder 1 run\n"replications.parquet"\n"coverage/a.tif"\n'
                                    '"report.html"\n')
    rio.prepare_out_dir(out)
    assert not any(p.exists() for p in stale)
    assert live.exists() and all(p.exists() for p in unrelated)


def test_prepare_out_dir_invalidates_the_completion_mark(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    (out / "replications.parquet").write_text("old")
    (out / rio.MANIFEST).write_text('iadsim-output-folder 1 run\n"summary.json"\n"replications.parquet"\n')
    rio.prepare_out_dir(out, invalidate=("summary.json",))
    assert not (out / "summary.json").exists() and (out / "replications.parquet").exists()


def test_interrupted_rerun_never_shows_an_old_completion_mark(two_runs, tmp_path, monkeypatch):
    """A rerun into a finished folder that fails part-way must not leave the old summary.json
    (the mark of a complete folder) beside new files (needs bundle.write_outputs to call
    prepare_out_dir(out, invalidate=("summary.json",)))."""
    from iadsim.export import bundle

    a, b, run_a = two_runs
    out = tmp_path / "out"
    shutil.copytree(run_a, out)
    with failing_write(monkeypatch, 2, _enospc()):
        with pytest.raises(OutputError):
            bundle.write_outputs(b, out)
    assert not (out / "summary.json").exists()


# --------------------------------------------------------------------------- disk full (real)


@contextlib.contextmanager
def tmpfs(path: Path, size: str, inodes: int | None = None):
    """A small tmpfs at ``path`` (root only; skips the test where mounting is not allowed)."""
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (f",nr_inodes={inodes}" if inodes else "")
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode(errors='replace').strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.parametrize("size", ["12k", "90k", "150k", "1m"])
def test_real_full_disk(two_runs, tmp_path, size):
    """A real ENOSPC from the kernel at different points of the bundle (GeoTIFFs included: GDAL
    only logs a failed write, the read-back check catches it)."""
    from iadsim.export.bundle import write_outputs

    _, b, _ = two_runs
    with tmpfs(tmp_path / "disk", size) as disk:
        with pytest.raises(OutputError) as exc:
            write_outputs(b, disk / "out")
        assert "No space left on device" in str(exc.value) or "does not read back" in str(exc.value)
        assert assert_outputs_complete(disk / "out") == []


def test_real_full_disk_from_the_command_line(small_dir, tmp_path, capsys):
    with tmpfs(tmp_path / "disk", "300k") as disk:
        rc = main(["run", str(small_dir / "scenario.yaml"), "-n", str(N_REPS), "--out", str(disk / "out"), "-q"])
        err = capsys.readouterr().err
        assert rc == 2 and "No space left on device" in err and "Traceback" not in err, err
        assert assert_outputs_complete(disk / "out") == []


def test_out_of_inodes(two_runs, tmp_path):
    """No inode left (for a file, or for the coverage/ folder), at every point of the bundle:
    always an OutputError, never a bare OSError."""
    from iadsim.export.bundle import write_outputs

    _, b, _ = two_runs
    for inodes in range(3, 16):
        with tmpfs(tmp_path / f"disk{inodes}", "50m", inodes=inodes) as disk:
            try:
                write_outputs(b, disk / "out", report=False, exports=False)
            except OutputError:
                pass
            if (disk / "out").exists():
                assert assert_outputs_complete(disk / "out") == []


@contextlib.contextmanager
def file_size_limit(nbytes: int):
    """RLIMIT_FSIZE for this process (unprivileged): bigger writes fail with EFBIG."""
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)


@pytest.mark.parametrize("limit", [2_000, 30_000, 1_000_000])
def test_file_size_limit(two_runs, tmp_path, limit):
    """A real EFBIG from the kernel (ulimit -f), at a small file, at a GeoTIFF, at the report."""
    from iadsim.export.bundle import write_outputs

    _, b, _ = two_runs
    out = tmp_path / "out"
    with file_size_limit(limit):
        with pytest.raises(OutputError) as exc:
            write_outputs(b, out)
    assert "cannot write" in str(exc.value)
    assert assert_outputs_complete(out) == []


# --------------------------------------------------------------------------- odd input files


def test_truncated_dem_is_an_input_error(small_dir, capsys):
    data = (small_dir / "dem.tif").read_bytes()
    (small_dir / "cut.tif").write_bytes(data[: len(data) * 2 // 3])
    (small_dir / "cut.yaml").write_text(yaml.safe_dump(edited(small_scenario_dict(), "terrain.dem", "cut.tif")))
    assert main(["validate", str(small_dir / "cut.yaml")]) == 2
    err = capsys.readouterr().err
    assert "terrain.dem" in err and "truncated or corrupt" in err and "Traceback" not in err


def test_dem_with_undeclared_nodata_is_refused(small_dir, capsys):
    from iadsim.geo.terrain import write_dem

    z = np.full((134, 134), 500.0, dtype=np.float32)
    z[60:70, 60:70] = -32768.0  # an SRTM void, nodata not declared in the file
    write_dem(small_dir / "void.tif", z, DEM_WEST, DEM_NORTH, DEM_RES, nodata=None)
    (small_dir / "void.yaml").write_text(yaml.safe_dump(edited(small_scenario_dict(), "terrain.dem", "void.tif")))
    assert main(["validate", str(small_dir / "void.yaml")]) == 2
    err = capsys.readouterr().err
    assert "terrain.dem" in err and "nodata" in err


@pytest.mark.parametrize("kind", ["fifo", "device", "symlink-to-device", "folder"])
def test_dem_and_scenario_that_are_not_regular_files(small_dir, kind, capsys):
    """A FIFO, a device or a folder where a file is expected: refused at once (never read)."""
    odd = small_dir / "odd"
    if kind == "fifo":
        os.mkfifo(odd)
    elif kind == "device":
        odd = Path("/dev/zero")
    elif kind == "symlink-to-device":
        odd.symlink_to("/dev/zero")
    else:
        odd.mkdir()
    (small_dir / "s.yaml").write_text(yaml.safe_dump(edited(small_scenario_dict(), "terrain.dem", str(odd))))
    t0 = time.monotonic()
    assert main(["validate", str(small_dir / "s.yaml")]) == 2
    assert main(["validate", str(odd)]) == 2
    assert time.monotonic() - t0 < 10
    err = capsys.readouterr().err
    assert "terrain.dem" in err and "not a file" in err


def test_dem_path_is_relative_to_the_scenario_file(small_dir, tmp_path, monkeypatch):
    import iadsim

    (small_dir / "scenarios" / "deep").mkdir(parents=True)
    scn = small_dir / "scenarios" / "deep" / "s.yaml"
    scn.write_text(yaml.safe_dump(edited(small_scenario_dict(), "terrain.dem", "../../dem.tif")))
    monkeypatch.chdir(tmp_path)  # somewhere else entirely
    ld = iadsim.load_scenario(scn)
    assert ld.dem_path.resolve() == (small_dir / "dem.tif").resolve()
    (tmp_path / "dem.tif").write_text("a decoy in the working folder")
    scn.write_text(yaml.safe_dump(edited(small_scenario_dict(), "terrain.dem", "dem.tif")))
    with pytest.raises(InputError) as exc:
        iadsim.load_scenario(scn)
    assert exc.value.problems[0].path == "terrain.dem" and "not found" in str(exc.value)


def test_odd_file_names_print_without_crashing(tmp_path, capsys):
    name = tmp_path / "sc\udcffen\u202eario.yaml"  # a non-UTF-8 byte (surrogate-escaped) and a bidi mark
    assert main(["validate", str(name)]) == 2
    assert "not found" in capsys.readouterr().err


# --------------------------------------------------------------------------- resource limits


def _big_dem(path: Path, width: int, height: int, west: float, north: float, res: float) -> Path:
    """A DEM of ``width`` x ``height`` pixels in a small file (a sparse tiled GeoTIFF: no tile is
    written, every pixel reads as nodata)."""
    import rasterio
    from affine import Affine

    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs="EPSG:4326", transform=Affine(res, 0.0, west, 0.0, -res, north), nodata=-32768,
                       tiled=True, blockxsize=512, blockysize=512, sparse_ok=True, BIGTIFF="YES"):
        pass
    return path


def test_grid_too_large_is_refused_before_reading(small_dir, capsys):
    """A 5 x 5 degree DEM at 11 m with the largest margin: 2.5e9 cells (10 GB per raster)."""
    _big_dem(small_dir / "wide.tif", 500, 500, 17.7, 12.7, 0.01)
    data = edited(edited(edited(small_scenario_dict(), "terrain.dem", "wide.tif"),
                         "terrain.resolution_m", 11), "terrain.margin_km", 500)
    (small_dir / "wide.yaml").write_text(yaml.safe_dump(data))
    t0 = time.monotonic()
    assert main(["validate", str(small_dir / "wide.yaml")]) == 2
    assert time.monotonic() - t0 < 20
    err = capsys.readouterr().err
    assert "terrain.resolution_m" in err and "terrain.margin_km" in err and "cells" in err
    assert main(["run", str(small_dir / "wide.yaml"), "-n", "2", "--out", str(small_dir / "o"), "-q"]) == 2
    assert not (small_dir / "o").exists()


def test_grid_over_the_memory_available_is_refused(small_scenario, monkeypatch):
    from iadsim.engine.world import build_grid
    from iadsim.geo.terrain import GRID_COPIES, check_grid_size, load_terrain

    grid = build_grid(small_scenario)
    need = grid.nx * grid.ny * 4 * GRID_COPIES
    check_grid_size(grid, available=need * 2)
    with pytest.raises(ResourceError) as exc:
        check_grid_size(grid, source="s.yaml", available=need // 2)
    assert exc.value.problems[0].path == "terrain.resolution_m" and "GiB" in str(exc.value)
    monkeypatch.setenv("IADSIM_MEMORY_LIMIT", str(need // 2))
    with pytest.raises(ResourceError):
        load_terrain(small_scenario.dem_path, grid, source="s.yaml")


def test_dem_window_too_large_is_refused(small_dir, capsys):
    """A 40,000 x 40,000 pixel DEM (1.1 m pixels) over the scenario: refused, not read."""
    _big_dem(small_dir / "fine.tif", 40_000, 40_000, DEM_WEST, DEM_NORTH, 0.4 / 40_000)
    (small_dir / "fine.yaml").write_text(yaml.safe_dump(edited(small_scenario_dict(), "terrain.dem", "fine.tif")))
    t0 = time.monotonic()
    assert main(["validate", str(small_dir / "fine.yaml")]) == 2
    assert time.monotonic() - t0 < 20
    err = capsys.readouterr().err
    assert "terrain.dem" in err and "pixels" in err and "gdalwarp" in err


def test_check_run_size(small_scenario):
    from iadsim.limits import check_run_size

    size = check_run_size(small_scenario, 1000, available=8 * 1024**3)
    assert size.threats == 4 and size.results_bytes > 0 and size.total_bytes < 8 * 1024**3
    with pytest.raises(ResourceError) as exc:
        check_run_size(small_scenario, 10_000_000, available=8 * 1024**3)
    (p,) = exc.value.problems
    assert p.path == "simulation.replications" and "-n" in p.message and "10,000,000" in p.message
    # a tiny time step over a week: the compiled world would not fit
    scn = small_scenario.scenario.model_copy(deep=True)
    scn.simulation.duration_s, scn.simulation.dt_s = 7 * 86400.0, 0.001
    with pytest.raises(ResourceError) as exc:
        check_run_size(scn, 10, available=8 * 1024**3)
    assert [p.path for p in exc.value.problems] == ["simulation.dt_s"]


def test_memory_limit_setting(monkeypatch):
    from iadsim.limits import available_memory_bytes, parse_bytes

    assert parse_bytes("2G") == 2 * 1024**3 and parse_bytes("512 MiB") == 512 * 1024**2
    assert parse_bytes("1000") == 1000
    monkeypatch.setenv("IADSIM_MEMORY_LIMIT", "1M")
    assert available_memory_bytes() == 1024**2
    monkeypatch.setenv("IADSIM_MEMORY_LIMIT", "lots")
    with pytest.raises(ResourceError):
        available_memory_bytes()


def test_simulate_refuses_a_run_too_large_up_front(small_scenario, monkeypatch):
    import iadsim

    monkeypatch.setenv("IADSIM_MEMORY_LIMIT", "64M")
    with pytest.raises(ResourceError) as exc:
        iadsim.simulate(small_scenario, replications=10_000_000)
    assert exc.value.problems[0].path == "simulation.replications"


def test_cli_refuses_a_run_too_large_exit_2_writes_nothing(small_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IADSIM_MEMORY_LIMIT", "64M")
    out = tmp_path / "out"
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", "10000000", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "simulation.replications" in err and "-n" in err
    assert not out.exists()


def test_sweep_of_a_million_cells_is_refused_up_front(small_dir, tmp_path, capsys):
    from iadsim.montecarlo.sweep import MAX_CELLS

    out = tmp_path / "sweep"
    t0 = time.monotonic()
    rc = main(["sweep", str(small_dir / "scenario.yaml"), "-n", "2", "--out", str(out), "-q",
               "--vary", "threats[drone].altitude_m=1000:1999:1", "--vary", "threats[owa].speed_m_s=1:1000:1"])
    assert time.monotonic() - t0 < 60
    err = capsys.readouterr().err
    assert rc == 2 and "1,000,000 cells" in err and f"{MAX_CELLS:,}" in err, err
    assert not out.exists()
    # one axis of a million values is refused without expanding it
    t0 = time.monotonic()
    assert main(["sweep", str(small_dir / "scenario.yaml"), "-n", "2", "--out", str(out), "-q",
                 "--vary", "threats[drone].altitude_m=1:1000000:1"]) == 2
    assert "1,000,000 values" in capsys.readouterr().err
    assert not out.exists()
