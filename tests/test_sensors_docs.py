"""docs/sensors.md's worked example runs: its code blocks are written to a folder and run, and the
new sensor type they add (an acoustic array) detects the drone in the small scenario."""

from __future__ import annotations

import sys

import numpy as np

from conftest import REPO
from docblocks import doc_blocks, write_doc_files

DOC = REPO / "docs" / "sensors.md"


def _blocks() -> list[tuple[str, str, str]]:
    return doc_blocks(DOC)


def test_worked_example_blocks_are_there():
    blocks = _blocks()
    files = [info.split("=", 1)[1] for _, info, _ in blocks if info.startswith("file=")]
    assert files == ["acoustic.py", "my_catalog/acoustic_array.yaml", "acoustic.yaml"]
    assert sum(info == "run" for _, info, _ in blocks) == 1
    module = next(body for _, info, body in blocks if info == "file=acoustic.py")
    n = len(module.splitlines())
    assert f"`acoustic.py` ({n} lines)" in DOC.read_text(encoding="utf-8"), n


def test_worked_example_adds_a_sensor_type_that_detects(tmp_path, monkeypatch, capsys):
    from iadsim.catalog.models import SENSOR_TYPE_FIGURES
    from iadsim.sensors import SENSOR_TYPES

    run = write_doc_files(_blocks(), tmp_path).get("run")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    ns: dict = {}
    try:
        exec(compile(run, str(DOC), "exec"), ns)
        res = ns["res"]
        w = res.world
        ears = w.sensor_labels.index("ears")
        assert "acoustic" in SENSOR_TYPES and w.sensor_system[ears] == "acoustic_array"
        # the acoustic array hears the drone, and only while it is low and within 3 km
        heard = w.snr[:, ears, 0] > 0
        assert heard.any()
        d = np.linalg.norm(w.pos[heard, 0, :2] - w.sensor_xyz[ears, :2], axis=-1)
        assert d.max() <= 3000.0 + 1e-6
        assert res.replications.detected_at_s.notna().all()
        # it cues the Gepard: every replication detects the drone before the Gepard's radar could
        gepard = w.sensor_labels.index("gepard")
        assert res.replications.detected_at_s.max() < np.flatnonzero(w.snr[:, gepard, 0] > 0)[0] * w.dt
        assert "sensor_acoustic" in w.models and "acoustic" in capsys.readouterr().out
    finally:   # the example's type is the test's own: leave the registry as it was
        SENSOR_TYPES.pop("acoustic", None)
        SENSOR_TYPE_FIGURES.pop("acoustic", None)
        sys.modules.pop("acoustic", None)


def test_worked_example_runs_from_the_command_line(tmp_path, monkeypatch, capsys):
    """The page's commands: --plugin registers the type, --catalog adds its entry; the run's KMZ
    names the array by its type's display name, and the report rebuilds with the same plugin."""
    import json
    import shlex
    import zipfile

    from iadsim.catalog.models import SENSOR_TYPE_FIGURES
    from iadsim.cli import main
    from iadsim.plugins import LOADED
    from iadsim.sensors import SENSOR_TYPES

    cli = write_doc_files(_blocks(), tmp_path).get("cli")
    assert cli is not None
    monkeypatch.chdir(tmp_path)
    loaded = dict(LOADED)
    try:
        lines = [ln for ln in cli.splitlines() if ln.strip()]
        assert len(lines) == 3 and all(ln.startswith("iadsim ") for ln in lines)
        for line in lines:
            assert main(shlex.split(line)[1:]) == 0, line
        run = tmp_path / "acoustic-run"
        kml = zipfile.ZipFile(run / "run.kmz").read("doc.kml").decode()
        assert "Acoustic array: acoustic_array" in kml
        assert "acoustic array: acoustic_array" in (run / "run.czml").read_text()
        plugins = json.loads((run / "run.json").read_text())["inputs"]["plugins"]
        assert [p["path"] for p in plugins] == [str((tmp_path / "acoustic.py").resolve())]
        assert "sensor type 'acoustic'" in capsys.readouterr().err
        # without the plugin, the run's world cannot be compiled again: a clear error, exit 2
        LOADED.clear()
        SENSOR_TYPES.pop("acoustic", None)
        assert main(["report", "acoustic-run"]) == 2
        assert "--plugin" in capsys.readouterr().err
    finally:
        SENSOR_TYPES.pop("acoustic", None)
        SENSOR_TYPE_FIGURES.pop("acoustic", None)
        LOADED.clear()
        LOADED.update(loaded)
        sys.modules.pop("iadsim_plugin_acoustic", None)
