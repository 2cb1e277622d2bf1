"""Run folders people share and rebuild reports from (issue #17, part 2): output folders that are
someone else's, the scenario as loaded, input hashes, damaged run folders, DuckDB globs,
reproducible KMZ, clean errors instead of tracebacks.

Every refusal is exit code 2 without a traceback, and no file outside the output folder changes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import DEM_N, DEM_NORTH, DEM_RES, DEM_WEST, REPO, small_scenario_dict
from iadsim.cli import main
from iadsim.errors import InputError
from iadsim.results import io as rio

PY = sys.executable
N = 8


def digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (but the empty lock files of iadsim's folders)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != rio.LOCK:
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def refused(capsys, rc: int, *words: str) -> str:
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    flat = " ".join(err.split())
    for w in words:
        assert w in flat, (w, err)
    return flat


def write_scenario(folder: Path, data: dict, name: str = "scenario.yaml") -> Path:
    p = folder / name
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory, synthetic_dem):
    """A complete run folder (no report, no exports: fast) and the folder of its inputs."""
    import iadsim
    from iadsim.export.bundle import write_outputs

    d = tmp_path_factory.mktemp("sec-run")
    (d / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    write_scenario(d, small_scenario_dict())
    res = iadsim.simulate(iadsim.load_scenario(d / "scenario.yaml"), replications=N, seed=5)
    write_outputs(res, d / "run", report=False, exports=False)
    return d / "run", res


def copy_run(run_folder, tmp_path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(run_folder[0], out)
    return out


# ----------------------------------------------------------------------------- output folders

def test_run_refuses_a_folder_that_is_someone_elses(small_dir, tmp_path, capsys):
    """A non-empty folder iadsim did not write: refused (exit 2) before any work, nothing changed;
    with --force the run writes there, and leaves the user's other files (and look-alikes of
    iadsim's temporary files) alone."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "report.html").write_text("<p>my own report</p>")
    (out / "scenario.yaml").write_text("my notes\n")
    (out / "notes.txt").write_text("keep me")
    dead = subprocess.Popen([PY, "-c", "pass"])
    dead.wait()
    lookalike = out / f".thesis.docx.{dead.pid}.abc123.part"
    lookalike.write_text("my draft")
    before = digest(tmp_path)
    rc = main(["run", str(small_dir / "scenario.yaml"), "-n", str(N), "-o", str(out), "-q"])
    refused(capsys, rc, str(out), "not written by iadsim", "--force")
    assert digest(tmp_path) == before

    assert main(["run", str(small_dir / "scenario.yaml"), "-n", str(N), "-o", str(out), "-q", "--force"]) == 0
    assert (out / "summary.json").is_file()
    assert (out / "notes.txt").read_text() == "keep me" and lookalike.read_text() == "my draft"
    # now an iadsim run folder: a rerun needs no --force
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", str(N), "-o", str(out), "-q"]) == 0


def test_folders_of_another_command_are_refused(small_dir, tmp_path, capsys):
    out = tmp_path / "cov"
    out.mkdir()
    (out / rio.MANIFEST).write_text("iadsim-output-folder 1 coverage\n")
    (out / "coverage.json").write_text("{}")
    before = digest(tmp_path)
    rc = main(["run", str(small_dir / "scenario.yaml"), "-n", str(N), "-o", str(out), "-q"])
    refused(capsys, rc, "outputs of an iadsim coverage, not of a run")
    assert digest(tmp_path) == before


def test_api_write_outputs_refuses_a_foreign_folder(run_folder, tmp_path):
    from iadsim.errors import OutputError
    from iadsim.export.bundle import write_outputs

    out = tmp_path / "mine"
    out.mkdir()
    (out / "catalog.yaml").write_text("mine")
    with pytest.raises(OutputError, match="not written by iadsim"):
        write_outputs(run_folder[1], out, report=False, exports=False)
    assert [p.name for p in out.iterdir()] == ["catalog.yaml"]


def test_run_never_overwrites_its_own_inputs(small_dir, capsys):
    """`iadsim run scenario.yaml -o .` beside the scenario would replace it with the copy."""
    before = digest(small_dir)
    rc = main(["run", str(small_dir / "scenario.yaml"), "-n", str(N), "-o", str(small_dir), "-q", "--force"])
    refused(capsys, rc, "is an input of this run")
    assert digest(small_dir) == before


def test_second_writer_into_a_locked_folder_is_refused(small_dir, tmp_path, capsys):
    """Two processes: one holds the output folder's lock (as a running `iadsim run` does); a run
    into the same folder meanwhile refuses at once with exit 2 and writes nothing."""
    out = tmp_path / "out"
    code = ("import sys, time; from iadsim.results.io import output_lock\n"
            f"with output_lock({str(out)!r}, 'iadsim run'):\n"
            "    print('locked', flush=True); sys.stdin.read()\n")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    holder = subprocess.Popen([PY, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        rc = main(["run", str(small_dir / "scenario.yaml"), "-n", str(N), "-o", str(out), "-q"])
        refused(capsys, rc, "another iadsim run is writing to", str(out))
        assert sorted(p.name for p in out.iterdir()) == [rio.LOCK]
    finally:
        holder.communicate("", timeout=60)
    assert holder.returncode == 0
    # the lock is free again
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", str(N), "-o", str(out), "-q"]) == 0


def test_a_refused_run_leaves_no_folder(small_dir, tmp_path, capsys):
    """A run refused for its settings (here: an unknown policy) creates no folder."""
    out = tmp_path / "new"
    rc = main(["run", str(small_dir / "scenario.yaml"), "-n", str(N), "-o", str(out), "-q", "--policy", "nosuch"])
    refused(capsys, rc, "simulation.policy")
    assert not out.exists()


def test_coverage_default_folder_is_not_the_runs(small_dir, tmp_path, monkeypatch):
    """`iadsim coverage` by default writes beside the run's folder, never over its rasters."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", str(N), "-q"]) == 0
    run = tmp_path / "iadsim-out" / "small-synthetic"
    rasters = digest(run / "coverage")
    assert rasters
    assert main(["coverage", str(small_dir / "scenario.yaml"), "--alt", "500", "--rcs", "1", "-q"]) == 0
    assert digest(run / "coverage") == rasters
    assert (tmp_path / "iadsim-out" / "small-synthetic-coverage" / "coverage.json").is_file()


def test_coverage_into_a_runs_raster_folder_is_refused(run_folder, small_dir, tmp_path, capsys):
    run = copy_run(run_folder, tmp_path)
    before = digest(tmp_path)
    rc = main(["coverage", str(small_dir / "scenario.yaml"), "--alt", "500", "-o", str(run / "coverage"), "-q"])
    refused(capsys, rc, "not written by iadsim")
    assert digest(tmp_path) == before


def test_manifest_lists_every_file_written(run_folder):
    run, _ = run_folder
    kind, names = rio.read_manifest(run)
    files = {p.relative_to(run).as_posix() for p in run.rglob("*")
             if p.is_file() and p.name not in (rio.MANIFEST, rio.LOCK)}
    assert kind == "run" and files and files <= names


# ----------------------------------------------------------------------------- inputs

def test_scenario_copy_is_the_text_read_at_load_time(small_dir, tmp_path):
    """The scenario file edited while the run is going: the run folder keeps what was loaded."""
    import iadsim
    from iadsim.export.bundle import write_outputs

    src = small_dir / "scenario.yaml"
    original = src.read_text(encoding="utf-8")
    ld = iadsim.load_scenario(src)
    res = iadsim.simulate(ld, replications=N, seed=1)
    src.write_text(original.replace("small-synthetic", "edited-later"), encoding="utf-8")
    write_outputs(res, tmp_path / "run", report=False, exports=False)
    copy_text = (tmp_path / "run" / "scenario.yaml").read_text(encoding="utf-8")
    assert copy_text.split("\n", 1)[1] == original
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["inputs"]["scenario"]["sha256"] == hashlib.sha256(original.encode()).hexdigest()


def test_run_json_records_the_hash_of_every_input(run_folder):
    run, res = run_folder
    info = json.loads((run / "run.json").read_text())
    inp = info["inputs"]
    dem = Path(inp["dem"]["path"])
    assert inp["dem"]["sha256"] == hashlib.sha256(dem.read_bytes()).hexdigest()
    assert set(inp["catalog"]) == {"tor_m2", "pantsir_s1", "shahed_136", "mq_9_reaper"}
    assert all(len(h) == 64 for h in inp["catalog"].values())
    for name in ("scenario.yaml", "catalog.yaml"):
        assert inp["copies"][name] == hashlib.sha256((run / name).read_bytes()).hexdigest()


def _edit_copy(run: Path, name: str) -> Path:
    p = run / name
    p.write_text(p.read_text().replace("900", "901", 1) + "\n# edited\n")
    return p


def _other_dem(run: Path) -> Path:
    from iadsim.geo.terrain import synthetic_elevation, write_dem

    dem = Path(json.loads((run / "run.json").read_text())["inputs"]["dem"]["path"])
    z = synthetic_elevation((DEM_N, DEM_N), res_m=330.0, seed=4, base_m=300.0, relief_m=900.0)
    write_dem(dem, z, DEM_WEST, DEM_NORTH, DEM_RES)
    return dem


@pytest.mark.parametrize("command", ["report", "export"])
@pytest.mark.parametrize("change", ["scenario.yaml", "catalog.yaml", "dem"])
def test_report_and_export_refuse_changed_inputs(run_folder, tmp_path, capsys, command, change):
    src = run_folder[0].parent
    inputs = tmp_path / "inputs"
    shutil.copytree(src, inputs)  # the DEM and a run folder whose run.json points at this DEM
    run = inputs / "run"
    info = json.loads((run / "run.json").read_text())
    info["dem_path"] = info["inputs"]["dem"]["path"] = str(inputs / "dem.tif")
    (run / "run.json").write_text(json.dumps(info))
    # the manifest and copies are unchanged; run.json now names the copied DEM
    changed = _other_dem(run) if change == "dem" else _edit_copy(run, change)
    before = digest(tmp_path)
    rc = main([command, str(run)])
    refused(capsys, rc, str(changed), "sha256")
    assert digest(tmp_path) == before


# ----------------------------------------------------------------------------- damaged run folders

def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


DAMAGE = {
    "missing folder": (lambda r: shutil.rmtree(r), "does not exist"),
    "a file instead of a folder": (lambda r: (shutil.rmtree(r), r.write_text("x")), "not a folder but a file"),
    "empty folder": (lambda r: (shutil.rmtree(r), r.mkdir()), "empty"),
    "missing run.json": (lambda r: (r / "run.json").unlink(), "missing run.json"),
    "run.json not JSON": (lambda r: _truncate(r / "run.json"), "run.json: not valid JSON"),
    "foreign run.json": (lambda r: (r / "run.json").write_text('{"name": "something else"}'),
                         "run.json: format: expected 'iadsim-run'"),
    "run.json of a newer format": (
        lambda r: (r / "run.json").write_text(json.dumps({**json.loads((r / "run.json").read_text()),
                                                          "format_version": 99})),
        "run.json: format_version: version 99"),
    "run.json a list": (lambda r: (r / "run.json").write_text("[1, 2]"), "expected a JSON object"),
    "truncated summary.json": (lambda r: _truncate(r / "summary.json"), "summary.json: not valid JSON"),
    "foreign summary.json": (lambda r: (r / "summary.json").write_text('{"replications": "many"}'),
                             "summary.json: replications: expected an integer"),
    "summary.json not UTF-8": (lambda r: (r / "summary.json").write_bytes(b"\xff\xfe{"), "not UTF-8"),
    "corrupt replications.parquet": (lambda r: _truncate(r / "replications.parquet"),
                                     "replications.parquet: cannot be read as Parquet"),
    "replications.parquet of another schema": (
        lambda r: pq.write_table(pa.table({"x": [1, 2]}), r / "replications.parquet"),
        "replications.parquet: lacks the column(s) replication"),
    "expenditure.parquet not Parquet": (lambda r: (r / "expenditure.parquet").write_text("PAR1 nope"),
                                        "expenditure.parquet: cannot be read as Parquet"),
    "replications of another run": (
        lambda r: pq.write_table(pq.read_table(r / "replications.parquet").slice(0, 8),
                                 r / "replications.parquet"),
        "replications.parquet: replication: holds 2 replications, summary.json says 8"),
    "missing scenario copy": (lambda r: (r / "scenario.yaml").unlink(), "missing scenario.yaml"),
    "scenario copy not YAML": (lambda r: (r / "scenario.yaml").write_text("a: [1,\n"), "scenario.yaml"),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_report_on_damaged_or_foreign_run_folders(run_folder, tmp_path, capsys, kind):
    run = copy_run(run_folder, tmp_path)
    damage, words = DAMAGE[kind]
    damage(run)
    before = digest(tmp_path)
    rc = main(["report", str(run)])
    refused(capsys, rc, words)
    assert digest(tmp_path) == before
    assert not (run / "report.html").exists()


@pytest.mark.parametrize("name", ["replications.parquet", "summary.json", "scenario.yaml", "run.json"])
def test_report_never_writes_over_what_it_reads(run_folder, tmp_path, capsys, name):
    run = copy_run(run_folder, tmp_path)
    before = digest(tmp_path)
    rc = main(["report", str(run), "-o", str(run / name)])
    refused(capsys, rc, "is a file the run folder", "is rebuilt from")
    assert digest(tmp_path) == before


def test_report_refuses_to_replace_a_file_iadsim_did_not_write(run_folder, tmp_path, capsys):
    run = copy_run(run_folder, tmp_path)
    mine = tmp_path / "mine.html"
    mine.write_text("my page")
    rc = main(["report", str(run), "-o", str(mine)])
    refused(capsys, rc, "not written by iadsim", "--force")
    assert mine.read_text() == "my page"
    assert main(["report", str(run), "-o", str(mine), "--force"]) == 0
    assert mine.read_text().rstrip().endswith("</html>")


# ----------------------------------------------------------------------------- reproducible files

def test_kmz_bytes_are_reproducible(small_scenario, tmp_path):
    """Two identical runs, written at different times: the same KMZ bytes; fixed timestamps,
    sorted entries, doc.kml first."""
    import time

    import iadsim
    from iadsim.export.kml_run import write_run_kmz

    a = write_run_kmz(iadsim.simulate(small_scenario, replications=N, seed=2), tmp_path / "a.kmz")
    time.sleep(2.1)  # zip timestamps have a resolution of 2 s
    b = write_run_kmz(iadsim.simulate(small_scenario, replications=N, seed=2), tmp_path / "b.kmz")
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        infos = z.infolist()
    names = [i.filename for i in infos]
    assert names[0] == "doc.kml" and names[1:] == sorted(names[1:])
    assert {i.date_time for i in infos} == {rio.ZIP_EPOCH}


def test_coverage_kmz_is_reproducible(small_scenario, tmp_path):
    from iadsim.export.coverage import CoverageRequest, write_coverage

    req = CoverageRequest(altitudes_m=(500.0,), rcs_m2=(1.0,))
    write_coverage(small_scenario, tmp_path / "a", req)
    write_coverage(small_scenario, tmp_path / "b", req)
    assert (tmp_path / "a" / "coverage.kmz").read_bytes() == (tmp_path / "b" / "coverage.kmz").read_bytes()


# ----------------------------------------------------------------------------- validation

def test_sensor_and_effector_names_must_differ(small_dir):
    from iadsim.scenario import scenario_from_dict

    data = small_scenario_dict()
    data["sensors"] = [{"name": "sam-2", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.1}}]
    with pytest.raises(InputError) as exc:
        scenario_from_dict(data, source="s.yaml", base_dir=small_dir)
    (p,) = exc.value.problems
    assert p.path == "sensors[0].name" and "effectors[1]" in p.message


def test_full_fidelity_without_radars_is_an_input_error(small_dir, tmp_path, capsys):
    data = small_scenario_dict()
    data["simulation"]["fidelity"] = "full"
    data["effectors"] = []
    scn = write_scenario(small_dir, data, "norad.yaml")
    out = tmp_path / "out"
    rc = main(["run", str(scn), "-n", "4", "-o", str(out), "-q"])
    refused(capsys, rc, "simulation.fidelity", "has none")
    assert not out.exists()


def test_full_fidelity_without_a_confirmed_track_writes_null_not_nan(small_dir, tmp_path):
    """No threat flies before the end: every track measure is undefined; summary.json is valid
    JSON with null there (it was NaN, refused by the writer after every other file was written)."""
    data = small_scenario_dict()
    data["simulation"]["fidelity"] = "full"
    for t in data["threats"]:
        t["launch_time_s"] = 895
    scn = write_scenario(small_dir, data, "late.yaml")
    out = tmp_path / "out"
    assert main(["run", str(scn), "-n", "4", "-o", str(out), "-q"]) == 0

    def no_constants(name):
        raise AssertionError(f"{name} in summary.json")

    text = (out / "summary.json").read_text()
    json.loads(text, parse_constant=no_constants)
    assert "NaN" not in text and "null" in text


@pytest.mark.parametrize("kwargs, arg", [({"replications": 0}, "replications"), ({"seed": -1}, "seed"),
                                         ({"backend": "foo"}, "backend"), ({"workers": 0}, "workers"),
                                         ({"replications": 2.5}, "replications"),
                                         ({"timeline_replication": 99, "replications": 4}, "timeline_replication"),
                                         ({"chunk_size": 0}, "chunk_size")])
def test_api_arguments_are_checked(small_scenario, kwargs, arg):
    import iadsim

    with pytest.raises(InputError) as exc:
        iadsim.simulate(small_scenario, **kwargs)
    assert exc.value.problems[0].path == arg


def test_api_validates_a_scenario_changed_after_loading(small_scenario, tmp_path):
    """A model edited in place after loading was never validated: it is validated again; an
    invalid change is an InputError naming the argument and the field. A valid change runs, and
    the run folder's copy is the changed scenario, not the file's text."""
    import iadsim
    from iadsim.export.bundle import write_outputs

    ld = copy.copy(small_scenario)
    ld.scenario = small_scenario.scenario.model_copy(deep=True)
    ld.scenario.simulation.dt_s = -1.0
    with pytest.raises(InputError) as exc:
        iadsim.simulate(ld, replications=2)
    (p,) = exc.value.problems
    assert p.path == "simulation.dt_s" and "argument 'scenario', changed after it was loaded" in p.file

    ld.scenario.simulation.dt_s = 2.0
    res = iadsim.simulate(ld, replications=2)
    assert res.world.dt == 2.0
    write_outputs(res, tmp_path / "run", report=False, exports=False)
    copy_text = (tmp_path / "run" / "scenario.yaml").read_text()
    assert yaml.safe_load(copy_text)["simulation"]["dt_s"] == 2.0
    assert small_scenario.text is not None and "dt_s: 1.0" in small_scenario.text


# ----------------------------------------------------------------------------- sweeps

@pytest.mark.parametrize("vary, field, words", [
    # a time step below the plausible range (1 ms) is refused with the values, before any cell
    ("simulation.dt_s=1,0.000001", "simulation.dt_s", "greater than or equal to 0.001"),
    ("simulation.policy=urgency,nosuch", "simulation.policy", "sweep cell 1")])
def test_sweep_with_a_bad_cell_runs_no_cell(small_dir, tmp_path, capsys, vary, field, words):
    out = tmp_path / "sweep"
    before = digest(tmp_path)
    rc = main(["sweep", str(small_dir / "scenario.yaml"), "--vary", vary, "-n", "4", "-o", str(out), "-q"])
    refused(capsys, rc, field, words)
    assert not out.exists() and digest(tmp_path) == before


def test_sweep_refuses_a_folder_that_is_someone_elses(small_dir, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "data.csv").write_text("1,2")
    rc = main(["sweep", str(small_dir / "scenario.yaml"), "--vary", "threats[owa].count=1,2", "-n", "2",
               "-o", str(out), "-q"])
    refused(capsys, rc, "not written by iadsim", "--force")
    assert sorted(p.name for p in out.iterdir()) == ["data.csv"]


def test_sweep_resume_refuses_a_changed_varied_dem(small_dir, tmp_path, capsys):
    """--vary terrain.dem: each DEM's hash is recorded; one changed after the sweep, --resume
    refuses naming it (it would mix cells computed on two terrains)."""
    from iadsim.geo.terrain import synthetic_elevation, write_dem

    shutil.copy(small_dir / "dem.tif", small_dir / "dem2.tif")
    args = ["sweep", str(small_dir / "scenario.yaml"), "--vary", "terrain.dem=dem.tif,dem2.tif", "-n", "2",
            "-o", str(tmp_path / "sweep"), "-q"]
    assert main(args) == 0
    sweep = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    assert {Path(p).name for p in sweep["scenario"]["dems"]} == {"dem.tif", "dem2.tif"}
    z = synthetic_elevation((DEM_N, DEM_N), res_m=330.0, seed=9, base_m=300.0, relief_m=900.0)
    write_dem(small_dir / "dem2.tif", z, DEM_WEST, DEM_NORTH, DEM_RES)
    before = digest(tmp_path)
    refused(capsys, main(args + ["--resume"]), "cannot resume", "dem2.tif changed")
    assert digest(tmp_path) == before


def test_query_reads_only_its_own_sweep(small_dir, tmp_path):
    """A sweep folder named with DuckDB glob characters: `iadsim query` reads its files only, not
    those of sibling folders the name would match as a pattern; a `key=value` folder above it is
    not read as a column (DuckDB's hive partitioning would override the `threat` column)."""
    from iadsim.montecarlo.dataset import query

    own = tmp_path / "threat=bogus" / "runs*[1]?"
    tmp_path = own.parent
    assert main(["sweep", str(small_dir / "scenario.yaml"), "--vary", "threats[owa].count=1,2", "-n", "2",
                 "-o", str(own), "-q"]) == 0
    for sibling in ("runs-a[1]b", "runsX1Y", "runs*[1]?-copy"):
        shutil.copytree(own, tmp_path / sibling)
    rows = sum(pq.read_metadata(p).num_rows for p in (own / "dataset").glob("cell=*/part-0.parquet"))
    assert rows == (2 + 3) * 2  # cells with 1 and 2 'owa' threats and the drone, 2 replications
    assert query(own, "SELECT count(*) AS n FROM replications")["n"][0] == rows
    assert query(own, "SELECT count(*) AS n FROM summary")["n"][0] == 2 + 3
    threats = set(query(own, "SELECT DISTINCT threat FROM replications")["threat"])
    assert threats == {"owa", "owa[0]", "owa[1]", "drone"}  # "owa" where it is one threat
    assert sorted(query(own, "SELECT DISTINCT cell FROM replications")["cell"]) == [0, 1]


def test_run_folders_written_before_manifests_are_still_iadsims(run_folder, small_dir, tmp_path):
    """A run folder of an earlier iadsim (run.json, no manifest): report replaces its report.html
    and a new run writes into it, without --force."""
    run = copy_run(run_folder, tmp_path)
    (run / rio.MANIFEST).unlink()
    (run / "report.html").write_text("<html>old</html>")
    assert main(["report", str(run)]) == 0
    assert "old" not in (run / "report.html").read_text()[-100:]
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", str(N), "-o", str(run), "-q"]) == 0


@pytest.mark.slow
def test_two_concurrent_iadsim_runs_into_one_folder(small_dir, tmp_path):
    """Two `iadsim run` processes into one folder: while the first holds the folder, the second
    exits with code 2 at once, without a traceback; the first completes."""
    import time

    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [PY, "-m", "iadsim", "run", str(small_dir / "scenario.yaml"), "-o", str(out), "-q"]
    first = subprocess.Popen(cmd + ["-n", "60000"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / rio.LOCK).exists():  # the first run holds the lock from here to its end
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        second = subprocess.run(cmd + ["-n", "4"], env=env, capture_output=True, text=True, timeout=300)
        still_running = first.poll() is None
    finally:
        _, err1 = first.communicate(timeout=600)
    assert still_running  # the second ran while the first held the folder
    assert second.returncode == 2 and "another iadsim run is writing to" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, err1
    assert json.loads((out / "summary.json").read_text())["replications"] == 60000


def test_a_subfolder_that_links_elsewhere_is_not_written_through(run_folder, small_dir, tmp_path, capsys):
    """A shared run folder whose coverage/ is a symbolic link to another folder: a rerun into it
    refuses (exit 2) instead of writing rasters into the link's target."""
    run = copy_run(run_folder, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "sam-1.min_visible_altitude.tif").write_text("someone's file")
    shutil.rmtree(run / "coverage")
    (run / "coverage").symlink_to(elsewhere, target_is_directory=True)
    before = digest(tmp_path)
    rc = main(["run", str(small_dir / "scenario.yaml"), "-n", str(N), "-o", str(run), "-q"])
    refused(capsys, rc, "is a symbolic link", "Nothing was changed")
    assert digest(tmp_path) == before
    assert [p.name for p in elsewhere.iterdir()] == ["sam-1.min_visible_altitude.tif"]
    assert (elsewhere / "sam-1.min_visible_altitude.tif").read_text() == "someone's file"
