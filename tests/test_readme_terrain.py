"""The README's "Terrain for any place: Kabul, step by step" runs as written.

The blocks marked ``<!-- readme-test: terrain -->`` are run in bash, in a temporary folder, with
``iadsim`` this checkout and the tile provider replaced by a loopback server
(``IADSIM_DEM_BASE_URL``) that serves the bundled San Felipe crop laid over each requested cell
(tests/test_terrain_fetch.py, tile_over_cell): the commands, the scenario and the outputs are
checked, not Kabul's real heights."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import rasterio

from conftest import REPO
from iadsim.geo.fetch import BASE_URL_ENV
from iadsim.geo.mosaic import CACHE_ENV
from test_terrain_fetch import DemServer, tile_over_cell

MARK = "<!-- readme-test: terrain -->"


def readme_blocks(text: str, name: str = "terrain") -> list[str]:
    """The fenced blocks directly below a ``<!-- readme-test: NAME -->`` line."""
    blocks = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != f"<!-- readme-test: {name} -->":
            continue
        assert i + 1 < len(lines) and lines[i + 1].startswith("```"), f"README line {i + 1}: no fence below"
        end = next(j for j in range(i + 2, len(lines)) if lines[j].startswith("```"))
        blocks.append("\n".join(lines[i + 2:end]))
    return blocks


def test_the_marker_finds_only_the_blocks_below_it():
    text = "x\n<!-- readme-test: terrain -->\n```bash\necho a\n```\n```bash\necho b\n```\n" \
           "<!-- readme-test: other -->\n```bash\necho c\n```\n"
    assert readme_blocks(text) == ["echo a"]
    assert readme_blocks(text, "other") == ["echo c"]


@pytest.mark.slow
def test_readme_kabul_walkthrough_runs(tmp_path):
    blocks = readme_blocks((REPO / "README.md").read_text(encoding="utf-8"))
    assert blocks, f"no block marked {MARK} in README.md"
    script = "\n".join(blocks)
    for cmd in ("iadsim terrain fetch --around 34.53 69.17", "iadsim validate", "iadsim run"):
        assert cmd in script
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "iadsim").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m iadsim "$@"\n')
    (shim / "iadsim").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    with DemServer(tile_over_cell) as srv:
        env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ.get('PATH', '')}",
               "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
               BASE_URL_ENV: srv.url, CACHE_ENV: str(tmp_path / "cache")}
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env,
                           capture_output=True, text=True, timeout=1800)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        assert sorted(re.sub(r"/.*/", "", h) for h in srv.hits) == [
            "Copernicus_DSM_COG_10_N34_00_E068_00_DEM.tif", "Copernicus_DSM_COG_10_N34_00_E069_00_DEM.tif"]
    with rasterio.open(work / "kabul-dem.tif") as ds:
        w, s, e, n = ds.bounds
    assert w < 69.17 - 0.4 and e > 69.17 + 0.4 and s < 34.53 - 0.35 and n > 34.53 + 0.35  # 40 km around
    info = json.loads((work / "kabul-run" / "run.json").read_text())
    assert Path(info["inputs"]["dem"]["path"]) == (work / "kabul-dem.tif").resolve()
    summary = json.loads((work / "kabul-run" / "summary.json").read_text())
    assert summary  # the run finished and wrote its summary
