"""The offline HTML report: self-contained, complete, and its coverage counts are right."""

from __future__ import annotations

import html as htmllib
import re
import struct

import numpy as np
import pytest

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
    import plotly.offline

    js = plotly.offline.get_plotlyjs()
    assert report_html.count(js[:200]) == 1
    assert js[-200:] in report_html
    assert report_html.count("Plotly.newPlot") >= 4


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
    assert report_html.count('<img src="data:image/png;base64,iVBORw0KGgo') == 2
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
