"""Regenerate the README screenshots with the project's own commands.

    python docs/make_screenshots.py [--out docs/img] [-n 200] [--keep DIR]

1. ``iadsim demo -n N -o WORK/run`` writes a run folder (report.html, run.czml, run.kmz, ...).
2. docs/img/report.png: the top of report.html (header, key findings, the layered map) in
   headless Chromium.
3. docs/img/earth.png: the run's CZML in the offline Cesium viewer of web/ (``npm ci --prefix web``
   first), at a moment of the recorded replication when missiles are in the air.

Needs /usr/bin/chromium (Debian packages chromium, chromium-driver), the playwright Python package
and Node >= 20.19 with web/node_modules. Each PNG is reduced to a 256-colour palette and must stay
under 500 KB.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--enable-unsafe-swiftshader"]
MAX_BYTES = 500_000


def small_png(png: bytes, path: Path, width: int | None = None) -> int:
    """Save ``png`` as a palette PNG (optionally scaled to ``width`` px); returns its size."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    if width and img.width > width:
        img = img.resize((width, round(img.height * width / img.width)), Image.Resampling.LANCZOS)
    img = img.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG", optimize=True)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size:,} bytes (> {MAX_BYTES:,})")
    return size


def report_png(run: Path, pw) -> bytes:
    with tempfile.TemporaryDirectory() as profile:
        ctx = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=ARGS, headless=True,
                                                    viewport={"width": 1200, "height": 900})
        page = ctx.new_page()
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:"))
                   else r.abort())
        page.goto((run / "report.html").as_uri())
        page.wait_for_load_state("load")
        bottom = page.evaluate("document.querySelector('#map').getBoundingClientRect().bottom + window.scrollY")
        png = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": 1200, "height": bottom + 10})
        ctx.close()
    return png


def earth_png(run: Path, work: Path, pw, t_s: float) -> bytes:
    if not (REPO / "web" / "node_modules" / "cesium").is_dir():
        raise SystemExit("web/node_modules is missing: run `npm ci --prefix web` first")
    view = work / "view"
    subprocess.run(["node", str(REPO / "web" / "build.mjs"), str(view), str(run / "run.czml")], check=True)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(view)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory() as profile:
            ctx = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=ARGS, headless=True,
                                                        viewport={"width": 1280, "height": 760})
            page = ctx.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith((base, "data:", "blob:"))
                       else r.abort())
            page.goto(f"{base}/viewer.html?czml=run.czml&t={t_s:g}")
            page.wait_for_function("window.iadsimReady === true", timeout=300_000)
            # a closer, oblique view of the defended area
            page.evaluate("""() => { const v = window.iadsimViewer;
                v.camera.setView({destination: Cesium.Cartesian3.fromDegrees(-70.70, -33.12, 26000),
                                  orientation: {heading: 0.0, pitch: Cesium.Math.toRadians(-38), roll: 0}}); }""")
            page.wait_for_timeout(4000)
            png = page.screenshot()
            ctx.close()
    finally:
        srv.shutdown()
    return png


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    ap.add_argument("-n", "--replications", type=int, default=200)
    ap.add_argument("--time", type=float, default=1125.0, help="scenario time [s] of the Cesium view")
    ap.add_argument("--keep", type=Path, default=None, help="keep the run folder here")
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        run = a.keep or work / "run"
        subprocess.run([sys.executable, "-m", "iadsim", "demo", "-n", str(a.replications), "-o", str(run), "-q"],
                       check=True)
        with sync_playwright() as pw:
            n1 = small_png(report_png(run, pw), a.out / "report.png", width=1000)
            n2 = small_png(earth_png(run, work, pw, a.time), a.out / "earth.png")
    print(f"wrote {a.out / 'report.png'} ({n1:,} bytes) and {a.out / 'earth.png'} ({n2:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
