"""The offline HTML report: self-contained, complete, and its coverage counts are right."""

from __future__ import annotations

import html as htmllib
import re
import struct

import numpy as np
import pytest
import yaml

from iadsim.report import coverage_count, coverage_map_png, coverage_multiples_png, write_report
from iadsim.report.html import key_findings, linkify

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NAN = np.nan


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# ---------------------------------------------------------------- coverage_count

def test_coverage_count_hand_built():
    elev = np.array([[0.0, 100.0, 200.0],
                     [50.0, NAN, 300.0]], dtype=np.float32)
    mva_a = np.array([[10.0, 150.0, 200.0],
                      [NAN, 0.0, 1000.0]], dtype=np.float32)
    mva_b = np.array([[0.0, 120.0, NAN],
                      [40.0, 0.0, 350.0]], dtype=np.float32)
    # h = 0: only cells where the ground itself is visible
    np.testing.assert_array_equal(coverage_count([mva_a, mva_b], elev, 0.0),
                                  [[1, 0, 1],
                                   [1, 0, 0]])
    # h = 25: a sees (0,0); b sees (0,0), (1,0); (0,2) is at its mva for a, NaN for b
    np.testing.assert_array_equal(coverage_count([mva_a, mva_b], elev, 25.0),
                                  [[2, 1, 1],
                                   [1, 0, 0]])
    # h = 60: 100 + 60 >= 150 and >= 120; 300 + 60 >= 350 for b only; NaN terrain never counts
    np.testing.assert_array_equal(coverage_count([mva_a, mva_b], elev, 60.0),
                                  [[2, 2, 1],
                                   [1, 0, 1]])
    out = coverage_count([mva_a, mva_b], elev, 1e6)
    assert out.dtype.kind == "i"
    np.testing.assert_array_equal(out, [[2, 2, 1], [1, 0, 2]])


def test_coverage_count_edge_cases():
    elev = np.zeros((2, 2))
    assert coverage_count([], elev, 100.0).tolist() == [[0, 0], [0, 0]]
    assert coverage_count([np.full((2, 2), NAN)], elev, 1e9).tolist() == [[0, 0], [0, 0]]
    # the boundary is inclusive: a target exactly at the minimum visible altitude is seen
    assert coverage_count([np.full((2, 2), 100.0)], elev, 100.0).tolist() == [[1, 1], [1, 1]]
    with pytest.raises(ValueError):
        coverage_count([np.zeros((3, 2))], elev, 0.0)


def test_coverage_count_monotone_in_height(small_results):
    w = small_results.world
    prev = None
    for h in (0.0, 50.0, 500.0, 3000.0, 20000.0):
        c = coverage_count(w.mva, w.terrain.elevation_m, h)
        assert c.shape == w.terrain.elevation_m.shape
        assert c.min() >= 0 and c.max() <= len(w.mva)
        if prev is not None:
            assert (c >= prev).all()
        prev = c
    # every radar sees its own site from 10 km up
    for (x, y, _z) in w.sensor_xyz:
        r, col = w.grid.cell_of(x, y)
        assert prev[r, col] >= 1


# ---------------------------------------------------------------- maps

def test_coverage_map_png(small_results):
    data = coverage_map_png(small_results)
    assert data.startswith(PNG_SIGNATURE)
    w, h = png_size(data)
    assert 500 <= w <= 2500 and 400 <= h <= 2500
    assert len(data) < 1_500_000


def test_coverage_multiples_png(small_results):
    data = coverage_multiples_png(small_results, heights_agl_m=(50, 500, 3000))
    w, h = png_size(data)
    assert w > h  # a row of panels
    assert 600 <= w <= 3000
    one = coverage_multiples_png(small_results, heights_agl_m=(100,))
    assert png_size(one)[0] < w


def test_map_leaves_no_pyplot_figures(small_results):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    coverage_map_png(small_results, altitude_agl_m=50.0, quantize=False)
    assert plt.get_fignums() == before


# ---------------------------------------------------------------- the report

@pytest.fixture(scope="module")
def report_html(small_results, tmp_path_factory):
    path = write_report(small_results, tmp_path_factory.mktemp("report") / "report.html")
    assert path.is_file()
    return path.read_text(encoding="utf-8")


def test_report_is_offline(report_html):
    for tag in re.findall(r"<(?:script|link|img|iframe|source|embed)\b[^>]*>", report_html, re.I):
        for attr in re.findall(r"\b(?:src|href)\s*=\s*[\"']?([^\"'\s>]+)", tag, re.I):
            assert not attr.lower().startswith(("http:", "https:", "//")), tag[:200]
    # no CSS imports or web fonts
    assert not re.search(r"@import|url\(\s*[\"']?https?:", report_html, re.I)


def test_report_inlines_plotly_once(report_html):
    """plotly.js is in the page once, LZMA-compressed and basE91-encoded: decoding the string in
    the page gives plotly.js byte for byte (the page's decoders do the same in the browser)."""
    import lzma

    import plotly.offline

    from iadsim.report.html import base91_decode

    js = plotly.offline.get_plotlyjs().encode("utf-8")
    assert report_html.count(js[:200].decode()) == 0  # not inlined in the clear
    m = re.findall(r'iadsimBase91Decode\("([^"]+)", (\d+)\)', report_html)
    assert len(m) == 1
    packed = base91_decode(m[0][0])
    assert len(packed) == int(m[0][1])
    assert lzma.decompress(packed) == js
    assert f"iadsimLzmaDecode(a, {len(js)})" in report_html
    assert report_html.count("Plotly.newPlot") >= 4


def test_base91_round_trip():
    from iadsim.report.html import B91, base91_decode, base91_encode

    assert len(B91) == 91 and not set('"\\<') & set(B91)
    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 3, 13, 14, 100, 1001):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        enc = base91_encode(data)
        assert set(enc) <= set(B91)
        assert base91_decode(enc) == data
    assert len(base91_encode(bytes(range(256)) * 40)) < 1.25 * 256 * 40  # smaller than base64's 4/3


def test_every_chart_has_a_static_image(small_results, report_html):
    """Each chart container holds a PNG of the chart (shown without JavaScript) and its plotly div."""
    from iadsim.report.html import report_figures

    charts = re.findall(r'<div class="chart">(.*?)</script>', report_html, re.S)
    assert len(charts) == len(report_figures(small_results))
    for c in charts:
        imgs = re.findall(r'<img class="chart-static" src="data:image/png;base64,([^"]+)"', c)
        assert len(imgs) == 1
        assert png_size(__import__("base64").b64decode(imgs[0]))[0] >= 400
        assert 'class="plotly-graph-div"' in c
    # CSS: the images hide once plotly.js runs; the empty plotly divs hide when it does not
    assert "html.plotly-ok .chart img.chart-static { display: none; }" in report_html
    assert "html:not(.plotly-ok) .chart .plotly-graph-div { display: none !important; }" in report_html


def test_report_contents(small_results, report_html):
    w = small_results.world
    s = w.scenario
    text = htmllib.unescape(report_html)
    assert s.name in text
    assert s.title in text
    assert f"fidelity: {s.simulation.fidelity}" in text
    assert str(small_results.seed) in text
    assert small_results.version in text
    for label in w.threat_labels:
        assert label in text
    for label in w.effector_labels:
        assert label in text
    for a in s.assets:
        assert a.name in text
    for name in w.models:
        assert f"<td>{name}</td>" in report_html
    assert w.figures
    for fu in w.figures:
        assert f"<code>{fu.key}</code>" in report_html
        assert fu.system in text
    n_est = sum(1 for f in w.figures if f.figure.confidence == "estimate")
    assert report_html.count('<tr class="estimate">') == n_est
    assert "<details>" in report_html
    # the map: a base and transparent layers (one per coverage height, sites & routes, kills),
    # and the coverage small multiples
    from iadsim.report.html import report_figures
    from iadsim.report.maps import LAYER_HEIGHTS_AGL_M, threat_heights_agl

    heights = set(LAYER_HEIGHTS_AGL_M) | set(threat_heights_agl(small_results.world))
    # PNG: per height a coverage and an envelope layer, sites & routes, kills, a static image per chart;
    # JPEG: the terrain base and the coverage small multiples
    n_png = 2 * len(heights) + 1 + bool(small_results.replications["killed"].any()) \
        + len(report_figures(small_results))
    assert len(re.findall(r'<img[^>]*src="data:image/png;base64,iVBORw0KGgo', report_html)) == n_png
    assert len(re.findall(r'<img[^>]*src="data:image/jpeg;base64,/9j/', report_html)) == 2
    for section in ("findings", "map", "threats", "assets", "missiles", "timeline", "coverage",
                    "models", "provenance", "limits"):
        assert f'id="{section}"' in report_html
    assert "drives no hardware" in text


def test_report_source_links(report_html):
    # catalog sources that are URLs become links in the provenance table
    links = re.findall(r'<a href="(https?://[^"]+)"', report_html)
    assert links


def test_key_findings_mention_every_group(small_results):
    items = [str(x) for x in key_findings(small_results)]
    joined = " ".join(items)
    for thr in small_results.world.scenario.threats:
        assert thr.name in joined
    for a in small_results.world.scenario.assets:
        assert a.name in joined


def test_linkify_escapes():
    out = str(linkify("see <b>https://example.org/a?x=1&y=2</b>, and more."))
    assert "&lt;b&gt;" in out
    assert '<a href="https://example.org/a?x=1&amp;y=2"' in out
    assert str(linkify(None)) == ""


def test_write_report_into_folder_and_title(small_results, tmp_path):
    p = write_report(small_results, tmp_path, title="A <custom> title")
    assert p == tmp_path / "report.html"
    html = p.read_text(encoding="utf-8")
    assert "A &lt;custom&gt; title" in html
    assert "<custom>" not in html
    assert not list(tmp_path.glob("*.part"))


def test_report_is_deterministic(small_results, report_html):
    from iadsim.report import render_report

    assert render_report(small_results) == report_html


# ---------------------------------------------------------------- the layered map

def test_map_layers_line_up(small_results):
    from PIL import Image
    import io

    from iadsim.report.maps import layered_map_pngs

    d = layered_map_pngs(small_results, heights_agl_m=(50, 3000), threat_heights=False)
    base = Image.open(io.BytesIO(d["base"]))
    assert base.size == (d["width"], d["height"])
    w = small_results.world
    left, top, bw, bh = d["box"]
    assert 0 < left < left + bw < 1 and 0 < top < top + bh < 1  # the axes, inside the image
    covered = []
    for h, png in d["coverage"]:
        im = Image.open(io.BytesIO(png)).convert("RGBA")
        assert im.size == (w.grid.nx, w.grid.ny)  # one pixel per grid cell, stretched onto the box
        alpha = np.asarray(im)[..., 3]
        assert alpha.min() == 0  # transparent where not covered
        covered.append(int((alpha > 0).sum()))
    assert covered[1] > covered[0]  # more is seen at 3000 m than at 50 m
    assert [h for h, _ in d["envelopes"]] == [50.0, 3000.0]
    for _, png in d["envelopes"]:
        assert Image.open(io.BytesIO(png)).size == (w.grid.nx, w.grid.ny)
    sym = np.asarray(Image.open(io.BytesIO(d["symbols"])).convert("RGBA"))
    assert (sym[..., 3] > 0).mean() < 0.2  # symbols only: mostly transparent


def test_map_switches_work_without_javascript(report_html):
    """The coverage layers are radio buttons styled with CSS: one is checked, each has a rule."""
    radios = re.findall(r'<input type="radio" name="coverage-layer" id="(cov-[\w-]+)"[^>]*>', report_html)
    from iadsim.report.maps import LAYER_HEIGHTS_AGL_M

    assert len(radios) >= len(LAYER_HEIGHTS_AGL_M) + 1  # + "off" (+ the threats' heights)
    checked = re.findall(r'<input type="radio" name="coverage-layer" id="(cov-\d+)"[^>]* checked>', report_html)
    assert len(checked) == 1
    for r in radios:
        if r != "cov-none":
            i = r.split("-")[1]
            assert f"#{r}:checked ~ .stack .{r}" in report_html
            assert f'<img class="lyr grid {r}"' in report_html
            # the envelope of the selected height shows while "engagement envelopes" is checked
            assert f"#{r}:checked ~ #lyr-env:checked ~ .stack .env-{i}" in report_html
            assert f'<img class="lyr grid env-{i}"' in report_html
        assert re.search(f'<label for="{r}"[ >]', report_html)
    assert '<input type="checkbox" id="lyr-env"' in report_html


def test_report_sections_new(report_html):
    text = htmllib.unescape(report_html)
    assert "Per system" in text and "pantsir_s1" in text
    assert 'id="fig-coverage-by-height"' in report_html
    assert 'id="fig-expenditure-by-system"' in report_html
    assert 'id="analysis"' not in report_html  # no sensitivity or sweep results for this run


def test_system_expenditure_table(small_results):
    from iadsim.report.plots import system_expenditure_table

    t = system_expenditure_table(small_results)
    ex = small_results.expenditure
    for r in t.itertuples(index=False):
        per = ex[ex["system"] == r.system].groupby("replication")["missiles"].sum()
        assert r.mean_missiles == pytest.approx(per.mean())
        assert r.lo <= r.mean_missiles <= r.hi
        assert r.max_missiles == per.max()


# ---------------------------------------------------------------- a run folder read back

@pytest.fixture(scope="module")
def run_dir(small_results, tmp_path_factory):
    from iadsim.export.bundle import write_outputs

    out = tmp_path_factory.mktemp("run")
    write_outputs(small_results, out, report=False, exports=False)
    return out


def test_run_json(run_dir, small_results):
    import json

    info = json.loads((run_dir / "run.json").read_text())
    assert info["format"] == "iadsim-run"
    assert info["seed"] == small_results.seed and info["replications"] == small_results.n
    assert info["dem_path"].endswith("dem.tif") and info["dem_path"].startswith("/")
    assert info["scenario_source"].endswith("scenario.yaml")


def test_load_run_round_trips_the_tables(run_dir, small_results):
    import pandas as pd

    from iadsim.report import load_run

    res = load_run(run_dir)
    pd.testing.assert_frame_equal(res.replications, small_results.replications, check_dtype=False)
    pd.testing.assert_frame_equal(res.expenditure, small_results.expenditure, check_dtype=False)
    pd.testing.assert_frame_equal(res.timeline.reset_index(drop=True),
                                  small_results.timeline.reset_index(drop=True), check_dtype=False)
    pd.testing.assert_frame_equal(res.threat_table(), small_results.threat_table())
    assert res.timeline_replication == small_results.timeline_replication
    assert res.version == small_results.version


def test_load_run_another_replication(run_dir, small_results):
    """Replication 5 re-simulated alone has exactly the stored outcomes, and its own timeline."""
    import warnings

    import iadsim
    from iadsim.report import load_run
    from iadsim.report.run_folder import RunMismatchWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", RunMismatchWarning)
        res = load_run(run_dir, replication=5)
    assert res.timeline_replication == 5
    ref = iadsim.simulate(small_results.world.loaded, replications=8, seed=small_results.seed,
                          timeline_replication=5)
    assert res.timeline.equals(ref.timeline)


def test_load_run_finds_a_relative_dem_from_run_json(run_dir, tmp_path):
    """The scenario copy says dem: dem.tif (relative to the original scenario's folder): a copy of
    the run folder elsewhere still finds the DEM through run.json."""
    import shutil

    from iadsim.report import load_run

    moved = tmp_path / "moved"
    shutil.copytree(run_dir, moved)
    assert "dem: dem.tif" in (moved / "scenario.yaml").read_text()
    assert not (moved / "dem.tif").exists()
    res = load_run(moved)
    assert res.n == 64


def test_load_run_rejects_incomplete_folders(tmp_path):
    from iadsim.errors import OutputError
    from iadsim.report import load_run

    with pytest.raises(OutputError, match="missing"):
        load_run(tmp_path)


def test_report_command_rebuilds_and_writes_pngs(run_dir, capsys):
    from iadsim.cli import main

    assert main(["report", str(run_dir), "--png", "--replication", "2"]) == 0
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "Engagement timeline of replication 2" in html
    figs = run_dir / "figures"
    names = {p.name for p in figs.glob("*.png")}
    for n in ("outcomes.png", "timeline.png", "expenditure.png", "expenditure_by_system.png",
              "coverage_by_height.png", "map.png", "coverage_multiples.png", "assets.png", "detection.png"):
        assert n in names, n
        data = (figs / n).read_bytes()
        w, h = png_size(data)
        assert w >= 600 and h >= 250 and len(data) < 1_000_000
    assert "wrote" in capsys.readouterr().out


def test_report_command_errors(tmp_path, capsys):
    from iadsim.cli import main

    assert main(["report", str(tmp_path / "nope")]) != 0
    assert "not a folder" in capsys.readouterr().err


def test_static_png_of_every_chart(small_results):
    from iadsim.report.html import report_figures
    from iadsim.report.static import figure_png

    figures = report_figures(small_results)
    assert len(figures) >= 3, sorted(figures)  # "every chart" of an empty report proves nothing
    for name, fig in figures.items():
        data = figure_png(fig)
        assert data.startswith(PNG_SIGNATURE), name


# ---------------------------------------------------------------- sensitivity and sweep hooks

def test_report_shows_sensitivity_and_sweep_results(small_results, tmp_path):
    """Results stored with a run (formats: docs/run-folder.md) are drawn in the report."""
    import json

    import pandas as pd

    run = tmp_path / "small-synthetic"
    (run / "sensitivity").mkdir(parents=True)
    (run / "sensitivity" / "sensitivity.json").write_text(json.dumps({
        "method": "sobol", "outcome": "pkill:owa", "baseline": 0.8, "n_points": 64, "reps_per_point": 10,
        "indices": [{"factor": "tor_m2.pk_single_shot", "S1": 0.6, "ST": 0.7},
                    {"factor": "shahed_136.rcs_m2", "S1": 0.1, "ST": 0.2}],
        "tornado": [{"factor": "tor_m2.pk_single_shot", "low_value": 0.7, "high_value": 0.95,
                     "outcome_at_low": 0.7, "outcome_at_high": 0.9},
                    {"factor": "shahed_136.rcs_m2", "low_value": 0.05, "high_value": 0.2,
                     "outcome_at_low": 0.78, "outcome_at_high": 0.82}]}))
    sweep = tmp_path / "small-synthetic-sweep"
    sweep.mkdir()
    (sweep / "sweep.json").write_text(json.dumps({
        "format": "iadsim-sweep/1", "variations": [{"path": "effectors[sam-1].vehicles"}],
        "replications": 16, "seed_policy": "common", "cells": [{"cell": 0}, {"cell": 1}]}))
    pd.DataFrame({"cell": [0, 0, 1, 1], "effectors[sam-1].vehicles": [1, 1, 2, 2],
                  "threat": ["owa[0]", "drone", "owa[0]", "drone"], "target": ["base", None, "base", None],
                  "p_kill": [0.5, 0.2, 0.7, 0.3], "p_kill_lo": [0.3, 0.1, 0.5, 0.1],
                  "p_kill_hi": [0.7, 0.4, 0.85, 0.5], "p_leak": [0.5, 0.0, 0.3, 0.0],
                  "p_leak_lo": [0.3, 0.0, 0.15, 0.0], "p_leak_hi": [0.7, 0.1, 0.5, 0.1]}
                 ).to_parquet(sweep / "summary.parquet")
    html = write_report(small_results, run / "report.html").read_text(encoding="utf-8")
    assert 'id="analysis"' in html
    assert 'id="fig-tornado"' in html and "tor_m2.pk_single_shot" in html
    assert 'id="fig-sweep-1"' in html and 'id="fig-sweep-2"' in html
    assert "effectors[sam-1].vehicles" in html
    # the listed summary: a probability and its 95% interval in one cell, no _lo/_hi columns
    assert "<th>p_kill</th>" in html and "<th>p_kill_lo</th>" not in html
    assert "0.5 (0.3 – 0.7)" in html


def test_sweep_figures_lines_and_heat_maps():
    import pandas as pd

    from iadsim.report.plots import sweep_figures

    rows = []
    for a in (1, 2, 3):
        for b in (3000, 6000):
            for t, tgt in (("reaper", None), ("owa", "base")):
                p = min(0.2 * a + b / 20000, 1.0)
                rows.append(dict(threat=t, target=tgt, p_kill=p, p_kill_lo=p - 0.05, p_kill_hi=min(p + 0.05, 1),
                                 p_leak=1 - p, p_leak_lo=0.0, p_leak_hi=1.0,
                                 **{"effectors[sam].vehicles": a, "threats[0].altitude_m": b}))
    figs = sweep_figures(pd.DataFrame(rows), ["effectors[sam].vehicles", "threats[0].altitude_m"])
    kinds = [f.data[0].type for f in figs]
    assert kinds.count("heatmap") == 2 and kinds.count("scatter") == 2
    heat = next(f for f in figs if f.data[0].type == "heatmap")
    z = heat.data[0].z
    assert len(z) == 2 and len(z[0]) == 3  # altitude rows x vehicle columns
    assert z[1][2] == pytest.approx(min(0.2 * 3 + 6000 / 20000, 1.0))


# ---------------------------------------------------------------- map: threat heights, envelopes, labels

def test_threat_heights_are_where_the_threats_fly(small_results):
    from iadsim.report.maps import threat_heights_agl

    w = small_results.world
    hs = threat_heights_agl(w)
    names = [n for v in hs.values() for n in v]
    assert sorted(names) == sorted({t.name for t in w.scenario.threats})
    for h, who in hs.items():
        for name in who:
            g = [i for i, t in enumerate(w.scenario.threats) if t.name == name][0]
            m = np.flatnonzero(w.threat_group == g)
            p = w.pos[:, m, :].reshape(-1, 3)
            p = p[np.isfinite(p).all(axis=1)]
            agl = p[:, 2] - w.terrain.height_at(p[:, 0], p[:, 1])
            assert abs(h - np.median(agl)) <= 10.0 or h == 10.0


def test_engagement_envelope_follows_the_limits(small_results):
    import dataclasses

    from iadsim.report.maps import coverage_count, engagement_envelope

    w = small_results.world
    g = w.grid
    X, Y = np.meshgrid(g.x_centers(), g.y_centers())
    for e in range(len(w.effector_labels)):
        env = engagement_envelope(w, e, 300.0)
        assert env.any()
        # the engine's limits are on the slant range from the site
        above = w.terrain.elevation_m + 300.0 - w.effector_xyz[e, 2]
        r = np.sqrt((X - w.effector_xyz[e, 0]) ** 2 + (Y - w.effector_xyz[e, 1]) ** 2 + above ** 2)
        # (a gun-missile unit's guns engage inside the missile's minimum range: the envelope is the union)
        side = w.second_weapon
        r_min = 0.0 if side is not None and side.gun_of[e] >= 0 else w.range_min_m[e]
        assert r[env].max() <= w.range_max_m[e] + 0.01 and r[env].min() >= r_min - 0.01
        # only where the unit's own radar sees the target
        seen = coverage_count([w.mva[w.effector_sensor[e]]], w.terrain.elevation_m, 300.0) >= 1
        assert not (env & ~seen).any()
        # a longer reach never shrinks the envelope, and grows it here
        longer = dataclasses.replace(w, range_max_m=w.range_max_m * 2.0)
        env2 = engagement_envelope(longer, e, 300.0)
        assert (env2 >= env).all() and env2.sum() >= env.sum()
        # below the unit's lowest engagement height there is no envelope
        assert not engagement_envelope(w, e, max(w.altitude_min_m[e] - 1.0, -1.0)).any() \
            or w.altitude_min_m[e] <= 0


def test_labels_of_colocated_units_do_not_overlap(small_results):
    """Two fire units 100 m apart: their labels are drawn apart (boxes in the rendered image)."""
    import dataclasses
    import types

    from iadsim.report.maps import layered_map_pngs

    w = small_results.world
    assert len(w.effector_labels) >= 2
    xyz = np.array(w.effector_xyz, dtype=float)
    xyz[1, :2] = xyz[0, :2] + np.array([100.0, 0.0])
    moved = types.SimpleNamespace(world=dataclasses.replace(w, effector_xyz=xyz),
                                  replications=small_results.replications)
    d = layered_map_pngs(moved, heights_agl_m=(300,), threat_heights=False)
    boxes = {t: b for t, *b in d["label_boxes"]}
    a, b = boxes[w.effector_labels[0]], boxes[w.effector_labels[1]]
    overlap_w = min(a[2], b[2]) - max(a[0], b[0])
    overlap_h = min(a[3], b[3]) - max(a[1], b[1])
    assert overlap_w <= 0 or overlap_h <= 0, (a, b)
    # and no two labels of the map overlap
    items = list(d["label_boxes"])
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            p, q = items[i][1:], items[j][1:]
            assert min(p[2], q[2]) - max(p[0], q[0]) <= 0.5 or min(p[3], q[3]) - max(p[1], q[1]) <= 0.5, \
                (items[i], items[j])


# ---------------------------------------------------------------- threat evaluation up to the threat's end

def test_threat_ranking_stops_at_the_threats_end(small_results):
    from iadsim.report.html import threat_ranking_to_end

    r = threat_ranking_to_end(small_results)
    w = small_results.world
    assert list(r["threat"]) == list(w.threat_labels)
    assert sorted(r["urgency_rank"]) == list(range(1, len(r) + 1))
    assert (r["peak_urgency_per_s"] <= r["route_peak_urgency_per_s"] + 1e-12).all()
    assert (r["peak_time_s"] <= r["end_s"] + 1e-9).all()
    # the end is the median over the replications of when each threat was killed or ended
    df = small_results.replications
    for row in r.itertuples(index=False):
        g = df[df["threat"] == row.threat]
        t_end = g["kill_time_s"].fillna(g["leak_time_s"]).fillna(float(w.end_step[list(w.threat_labels).index(row.threat)]) * w.dt)
        assert abs(row.end_s - np.median(t_end)) <= w.dt + 1e-9
        # its peak is the largest urgency before then
        m = list(w.threat_labels).index(row.threat)
        k = int(round(row.end_s / w.dt))
        assert row.peak_urgency_per_s == pytest.approx(float(np.nanmax(w.priority[w.first_step[m]:k + 1, m])))
    # a ranking by urgency: the higher peak ranks first
    o = r.sort_values("urgency_rank")
    assert (np.diff(o["peak_urgency_per_s"].to_numpy()) <= 0).all()


def test_outcome_labels_say_what_happened(small_results, report_html):
    text = htmllib.unescape(report_html)
    assert "P(reached target / survived)" in text
    assert "P(leak)" not in text
    t = small_results.threat_table()
    if t["target"].isna().any():
        assert "survived the sortie" in text
    if t["target"].notna().any():
        assert "reached its target" in text
    assert "ended at [s] (median)" in text


# ---------------------------------------------------------------- run folder: tables only, routes.geojson

def test_write_outputs_tables_only(small_results, tmp_path):
    import json

    from iadsim.export.bundle import TABLES_ONLY_FILES, write_outputs

    out = tmp_path / "tables"
    done = write_outputs(small_results, out, tables_only=True)
    assert set(done) == set(TABLES_ONLY_FILES)
    written = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert written == set(TABLES_ONLY_FILES)
    assert not (out / "coverage").exists() and not (out / "report.html").exists()
    info = json.loads((out / "run.json").read_text())
    assert info["tables_only"] is True and set(info["files"]) <= set(TABLES_ONLY_FILES)

    # a tables-only rerun into a full run's folder removes what it does not write again
    full = tmp_path / "full"
    write_outputs(small_results, full, report=False, exports=False)
    assert (full / "routes.geojson").is_file() and list((full / "coverage").glob("*.tif"))
    (full / "notes.txt").write_text("mine")
    write_outputs(small_results, full, tables_only=True, force=True)
    assert not (full / "routes.geojson").exists() and not list((full / "coverage").glob("*.tif"))
    assert (full / "notes.txt").read_text() == "mine"  # not iadsim's: left alone
    assert (full / "summary.json").is_file()


def test_routes_geojson_carries_outcomes_and_envelopes(small_results):
    from iadsim.export.bundle import run_geojson

    gj = run_geojson(small_results, envelope_heights_agl_m=[300.0])
    df = small_results.replications
    routes = [f for f in gj["features"] if f["properties"]["kind"] == "route"]
    assert routes
    for f in routes:
        p = f["properties"]
        g = df[(df["group"] == p["name"]) & (df["role"] != "weapon")]
        assert p["p_kill"] == pytest.approx(g["killed"].mean())
        key = "p_reached_target" if p["target"] else "p_survived"
        other = "p_survived" if p["target"] else "p_reached_target"
        assert p[key] == pytest.approx(g["leaked"].mean()) and other not in p
    env = [f for f in gj["features"] if f["properties"]["kind"] == "engagement_envelope"]
    names = {f["properties"]["name"] for f in env}
    assert names == set(small_results.world.effector_labels)
    assert all(f["properties"]["height_agl_m"] == 300.0 and f["geometry"]["type"] == "Polygon" for f in env)
    lon0, lat0 = small_results.world.grid.lon0, small_results.world.grid.lat0
    for f in env:
        ring = np.asarray(f["geometry"]["coordinates"][0])
        assert abs(ring[:, 0] - lon0).max() < 5 and abs(ring[:, 1] - lat0).max() < 5  # WGS84 lon/lat


@pytest.mark.slow
def test_demo_report_under_two_megabytes(tmp_path):
    """The demo's report stays under 2 MB (plotly.js compressed, map layers on the grid)."""
    from iadsim.cli import main

    out = tmp_path / "demo"
    assert main(["demo", "-n", "20", "-o", str(out), "--quiet"]) == 0
    size = (out / "report.html").stat().st_size
    assert size < 2_000_000, size
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count('class="chart-static"') == html.count('<div class="chart">') >= 5


def test_cli_tables_only_and_outcome_column(small_dir, tmp_path, capsys):
    """`iadsim run --tables-only`: the tables and summary, no report, exports or rasters; the console
    table says per row whether the second probability is 'reached' (a target) or 'survived'."""
    import json

    from iadsim.cli import main
    from iadsim.export.bundle import TABLES_ONLY_FILES

    out = tmp_path / "t"
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", "8", "--seed", "2", "-o", str(out),
                 "--tables-only"]) == 0
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == set(TABLES_ONLY_FILES)
    assert json.loads((out / "summary.json").read_text())["replications"] == 8
    shown = capsys.readouterr().out
    assert "P(reached target / survived)" in shown and "P(leak)" not in shown
    assert "tables only" in shown
    scenario = yaml.safe_load((small_dir / "scenario.yaml").read_text())
    targets = {t["name"]: t.get("target") for t in scenario["threats"]}
    checked = set()
    for line in shown.splitlines():
        for name, target in targets.items():
            if line.startswith(("│ " + name + " ", "│ " + name + "[")):
                assert ("reached" in line) == bool(target) and ("survived" in line) == (not target), line
                checked.add(name)
    assert checked == set(targets)


def test_static_image_of_a_heat_map():
    """The static image of a sweep heat map shows the heat map (its colours), not empty axes."""
    import io

    import plotly.graph_objects as go
    from PIL import Image

    from iadsim.report.static import figure_png

    z = [[0.0, 0.5], [0.9, 1.0]]
    fig = go.Figure(go.Heatmap(z=z, x=["a", "b"], y=["1", "2"], zmin=0, zmax=1, colorscale="Viridis"))
    img = np.asarray(Image.open(io.BytesIO(figure_png(fig))).convert("RGB"))
    # viridis' ends: dark purple (z = 0) and yellow (z = 1) both drawn
    purple = (np.abs(img.astype(int) - [68, 1, 84]).sum(axis=2) < 30).sum()
    yellow = (np.abs(img.astype(int) - [253, 231, 37]).sum(axis=2) < 30).sum()
    assert purple > 1000 and yellow > 1000
