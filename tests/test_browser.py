"""What people look at, tested as they see it: the report and the CZML viewer in headless Chromium.

Needs Debian's Chromium at /usr/bin/chromium (``apt-get install chromium chromium-driver``) and
the playwright Python package (no browser download: it drives that Chromium). The viewer test
also needs the Cesium npm package: ``npm ci --prefix web`` (Node >= 20.19).

Nothing may be fetched from the network: every request other than file:// (the report) or the
test's own server on 127.0.0.1 (the viewer) is aborted and fails the test.
"""

from __future__ import annotations

import functools
import http.server
import io
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--enable-unsafe-swiftshader"]

pytestmark = pytest.mark.slow

if not CHROMIUM.exists():
    pytest.skip("no Chromium at /usr/bin/chromium: install the Debian packages chromium and "
                "chromium-driver (apt-get install chromium chromium-driver)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is needed")


@pytest.fixture(scope="module")
def browser_factory(tmp_path_factory):
    """Opens a fresh persistent Chromium context (own user-data dir) per call; closes them all."""
    pw = playwright_api.sync_playwright().start()
    contexts = []

    def new(**kw):
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), args=ARGS,
            headless=True, viewport={"width": 1280, "height": 900}, **kw)
        contexts.append(ctx)
        return ctx

    yield new
    for ctx in contexts:
        ctx.close()
    pw.stop()


class Watch:
    """Console errors, page errors and outside requests of a page (outside ones are aborted)."""

    def __init__(self, page, allowed_prefixes: tuple[str, ...]):
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

        def route(r):
            url = r.request.url
            if url.startswith(allowed_prefixes):
                r.continue_()
            else:
                self.outside.append(url)
                r.abort()

        page.route("**/*", route)

    def check(self) -> None:
        assert not self.outside, f"requests outside the page's own files: {self.outside[:5]}"
        assert not self.errors, self.errors[:5]


def not_blank(png: bytes, min_colours: int = 40) -> None:
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert img.std() > 10, "the screenshot is (nearly) one colour"
    assert len(np.unique(img.reshape(-1, 3)[::7], axis=0)) >= min_colours


@pytest.fixture(scope="module")
def run_dir(small_results, tmp_path_factory):
    from iadsim.export.bundle import write_outputs

    out = tmp_path_factory.mktemp("run")
    write_outputs(small_results, out)
    return out


# ---------------------------------------------------------------- the report

def _visible_layers(page) -> list[str]:
    """The visible map layers by name: cov-N (coverage), env-N (envelopes), lyr-symbols, lyr-kills."""
    return page.evaluate("""Array.from(document.querySelectorAll('.stack img.lyr'))
        .filter(i => getComputedStyle(i).display !== 'none')
        .map(i => Array.from(i.classList).filter(c => c !== 'lyr' && c !== 'grid')[0])""")


def _charts(page) -> list[dict]:
    return page.evaluate("""Array.from(document.querySelectorAll('.chart')).map(c => {
        const img = c.querySelector('img.chart-static'), div = c.querySelector('.plotly-graph-div');
        const r = img ? img.getBoundingClientRect() : null;
        return {img: !!img, img_shown: !!img && getComputedStyle(img).display !== 'none',
                img_w: img ? img.naturalWidth : 0, img_h: r ? r.height : 0,
                div_shown: !!div && getComputedStyle(div).display !== 'none',
                svg: div ? div.querySelectorAll('svg.main-svg').length : 0}; })""")


def test_report_draws_offline_without_errors(browser_factory, run_dir, small_results):
    from iadsim.report.html import report_figures

    ctx = browser_factory()
    page = ctx.new_page()
    watch = Watch(page, ("file://", "data:", "blob:"))
    page.goto((run_dir / "report.html").as_uri())
    page.wait_for_load_state("load")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    # every chart drew: each plotly div has its SVG layers and plotted marks
    n_figs = len(report_figures(small_results))
    drawn = page.evaluate("""Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => ({
        id: d.id, svg: d.querySelectorAll('svg.main-svg').length,
        marks: d.querySelectorAll('.point, .trace path, .bars path, .scatterlayer path').length}))""")
    assert len(drawn) == n_figs
    for d in drawn:
        assert d["svg"] >= 1 and d["marks"] > 0, d
    # plotly drew every chart: the static images are hidden
    charts = _charts(page)
    assert len(charts) == n_figs
    assert all(c["img"] and not c["img_shown"] and c["div_shown"] for c in charts), charts
    # every map layer image decoded
    sizes = page.evaluate("Array.from(document.querySelectorAll('.stack img')).map(i => i.naturalWidth)")
    # (the layers hold one pixel per grid cell and are scaled up by the page; the base map is full size)
    assert sizes and min(sizes) > 0 and max(sizes) > 300
    not_blank(page.screenshot(full_page=False))
    not_blank(page.locator(".stack").screenshot(), min_colours=100)
    not_blank(page.locator("#fig-outcomes").screenshot(), min_colours=5)
    watch.check()


def test_report_charts_without_javascript(browser_factory, run_dir, small_results):
    """Scripts off: every chart container shows its static image (decoded, with a height), no empty
    plotly box, and the page raises no error."""
    from iadsim.report.html import report_figures

    ctx = browser_factory(java_script_enabled=False)
    page = ctx.new_page()
    watch = Watch(page, ("file://", "data:", "blob:"))
    page.goto((run_dir / "report.html").as_uri())
    page.wait_for_load_state("load")
    charts = _charts(page)
    assert len(charts) == len(report_figures(small_results)) >= 5
    for c in charts:
        assert c["img"] and c["img_shown"], c
        assert c["img_w"] >= 400 and c["img_h"] > 100, c
        assert not c["div_shown"] and c["svg"] == 0, c
    assert page.locator("noscript").count() >= 1
    not_blank(page.locator(".chart").first.screenshot(), min_colours=5)
    watch.check()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_report_layer_switches(browser_factory, run_dir, javascript):
    ctx = browser_factory(java_script_enabled=javascript)
    page = ctx.new_page()
    watch = Watch(page, ("file://", "data:", "blob:"))
    page.goto((run_dir / "report.html").as_uri())
    page.wait_for_load_state("load")
    stack = page.locator(".stack")
    stack.scroll_into_view_if_needed()
    first = _visible_layers(page)
    assert sum(c.startswith("cov-") for c in first) == 1  # one coverage height at a time
    assert sum(c.startswith("env-") for c in first) == 1  # and the envelopes at that height
    assert "lyr-symbols" in first
    shot_default = stack.screenshot()

    page.click('label[for="cov-0"]')
    after = _visible_layers(page)
    assert "cov-0" in after and sum(c.startswith("cov-") for c in after) == 1
    assert "env-0" in after and sum(c.startswith("env-") for c in after) == 1
    # the grid layers lie on the map's axes, not on the whole image
    box = page.evaluate("""(() => { const s = document.querySelector('.stack').getBoundingClientRect(),
        c = document.querySelector('.stack img.cov-0').getBoundingClientRect();
        return [c.left - s.left, c.top - s.top, c.width / s.width, c.height / s.height]; })()""")
    assert box[0] > 10 and box[1] > 5 and 0.5 < box[2] < 1 and 0.3 < box[3] < 1
    page.click('label[for="lyr-env"]')
    assert not any(c.startswith("env-") for c in _visible_layers(page))
    page.click('label[for="lyr-env"]')
    assert "env-0" in _visible_layers(page)
    shot_low = stack.screenshot()
    assert shot_low != shot_default  # what is shown changed

    page.click('label[for="cov-none"]')
    assert not any(c.startswith(("cov-", "env-")) for c in _visible_layers(page))
    page.click('label[for="lyr-symbols"]')
    assert "lyr-symbols" not in _visible_layers(page)
    shot_bare = stack.screenshot()
    assert shot_bare not in (shot_default, shot_low)
    page.click('label[for="lyr-symbols"]')
    assert "lyr-symbols" in _visible_layers(page)
    watch.check()


# ---------------------------------------------------------------- the CZML viewer (web/)

WEB = REPO / "web"


@pytest.fixture(scope="module")
def viewer_dir(run_dir, tmp_path_factory):
    if not (WEB / "node_modules" / "cesium" / "Build" / "Cesium" / "Cesium.js").is_file():
        pytest.skip("the Cesium npm package is not installed: run `npm ci --prefix web` (Node >= 20.19)")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (Node >= 20.19 builds web/)")
    out = tmp_path_factory.mktemp("viewer")
    subprocess.run([node, str(WEB / "build.mjs"), str(out), str(run_dir / "run.czml"), str(run_dir / "run.kmz")],
                   check=True, capture_output=True, timeout=300)
    assert (out / "viewer.html").is_file() and (out / "Cesium" / "Cesium.js").is_file()
    return out


@pytest.fixture(scope="module")
def server(viewer_dir):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(viewer_dir)))
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("query, kind", [("czml=run.czml&t=120", "czml"), ("kml=run.kmz", "kml")])
def test_viewer_loads_the_run_offline(browser_factory, server, small_results, query, kind):
    ctx = browser_factory()
    page = ctx.new_page()
    watch = Watch(page, (server, "data:", "blob:"))
    page.goto(f"{server}/viewer.html?{query}")
    page.wait_for_function("window.iadsimReady === true", timeout=240_000)
    assert page.locator("#status").inner_text() == ""
    n = page.evaluate("window.iadsimViewer.dataSources.get(0).entities.values.length")
    assert n > len(small_results.world.effector_labels)
    if kind == "czml":
        ids = page.evaluate("window.iadsimViewer.dataSources.get(0).entities.values.map(e => e.id)")
        assert "terrain" in ids and any(i.startswith("threat/") for i in ids)
        # the layer panel: a radio button per coverage height, one checked
        radios = page.locator('input[name="coverage"]')
        assert radios.count() >= 3
    not_blank(page.screenshot(), min_colours=60)
    watch.check()


def test_validation_page_renders_offline_without_errors(browser_factory, tmp_path, small_dir):
    """`iadsim validation run` writes a page that a browser shows offline, without console errors,
    with one chart per case (inline SVG, no script needed)."""
    import yaml

    from conftest import small_scenario_dict
    from iadsim.cli import main

    suite = tmp_path / "suite"
    case = suite / "tiny-case"
    case.mkdir(parents=True)
    (case / "dem.tif").write_bytes((small_dir / "dem.tif").read_bytes())
    scn = small_scenario_dict()
    scn["name"] = "tiny-case"
    (case / "scenario.yaml").write_text(yaml.safe_dump(scn))
    (case / "case.yaml").write_text(yaml.safe_dump({
        "schema_version": 1, "name": "tiny-case", "title": "t", "summary": "s", "scenario": "scenario.yaml",
        "measure": "destroyed_fraction", "observed": [{"label": "obs", "launched": 10, "destroyed": 5}],
        "band": {"low": 0.0, "high": 1.0, "why": "any outcome is accepted here"},
        "sources": [{"publisher": "p", "date": "2020-01-01", "title": "t"}], "leaves_out": ["everything"],
        "variants": [{"label": "3", "set": {"threats[owa].count": 3}}, {"label": "6", "set": {"threats[owa].count": 6}}],
        "replications": 10, "replications_ci": 10}))
    out = tmp_path / "val"
    assert main(["validation", "run", "--suite", str(suite), "--quick", "-o", str(out), "--quiet"]) == 0
    page = browser_factory().new_page()
    watch = Watch(page, ("file://", "data:", "blob:"))
    page.goto((out / "validation.html").as_uri())
    page.wait_for_load_state("load")
    charts = page.evaluate("Array.from(document.querySelectorAll('.case figure svg')).map(s => "
                           "s.getBoundingClientRect().width)")
    assert len(charts) == 1 and charts[0] > 200
    assert page.locator("table tr").count() >= 3     # header + one row per variant
    not_blank(page.screenshot(full_page=False))
    watch.check()
