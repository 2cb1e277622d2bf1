"""Fit each missile effector's flyout figures to its public envelope figures and write them into its
catalog file (between the markers below; re-running replaces them). Reproducible: the same
catalog figures give the same fitted values (iadsim.catalog.envelope.fit_flyout).

    python scripts/fit_flyout.py [--check]

``--check`` writes nothing and exits 1 if a catalog file's flyout figures differ from a new fit.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from iadsim.catalog import builtin_dir, load_system_file
from iadsim.catalog.envelope import FLYOUT_FIGURES, LOFT_FIGURES, TIME_MARGIN, fit_flyout, fit_flyout_peak

BEGIN = "  # --- flyout (fitted by scripts/fit_flyout.py; do not edit by hand) ---\n"
END = "  # --- end flyout ---\n"

#: systems whose 'missile' is a gun: no flyout
GUNS = {"gepard", "zsu_23_4_shilka"}

ISP = dict(value=240.0, low=220.0, high=260.0, source=(
    "iadsim estimate: specific impulse of a composite solid rocket propellant at sea level, of the "
    "order of the 220-260 s given for such propellants (Sutton & Biblarz, Rocket Propulsion Elements, "
    "8th ed. 2010, ch. 12); no public figure for this missile's motor"))
BOOST = dict(value=3.0, low=2.0, high=5.0, source=(
    "iadsim estimate: boost-coast profile with a short high-thrust burn, typical of surface-to-air "
    "missiles of the class; no public burn time for this missile"))
SUSTAIN = dict(value=0.0, source="iadsim estimate: no sustain phase modelled (boost-coast profile)")
#: tried when no boost-coast flyout reaches the public range at the mean speed
SUSTAIN_TIME = dict(value=15.0, low=8.0, high=25.0, source=(
    "iadsim estimate: boost-sustain profile, because no boost-coast flyout reaches the public maximum "
    "range at the mean speed; a 15 s sustain burn, typical of dual-thrust motors of the class; no public "
    "burn time for this missile"))
#: tried when no 15 s sustain burn reaches the public maximum range at the mean speed either
SUSTAIN_TIME_LONG = dict(value=25.0, low=15.0, high=35.0, source=(
    "iadsim estimate: boost-sustain profile with a long 25 s sustain burn, because no boost-coast or "
    "15 s boost-sustain flyout reaches the public maximum range at the mean speed; dual-thrust motors "
    "of medium-range missiles burn for tens of seconds; no public burn time for this missile"))
SUSTAIN_SHARE = 1.0

# Long-range systems: when no mean-speed fit exists, missile_speed_m_s is read as the peak
# (burn-out) speed (their public figures are maximum speeds: 'Mach 5', '2,000 m/s') and
# iadsim.catalog.envelope.fit_flyout_peak fits the flyout to it, on a horizontal line at sea level
# or, where that needs implausibly low drag, on a lofted path.
BOOST_LONG = dict(value=10.0, low=6.0, high=15.0, source=(
    "iadsim estimate: boost-coast profile with a longer burn, as the single-stage solid motors of "
    "long-range surface-to-air missiles burn for about 10 s (of the order of the 6-15 s of large "
    "tactical solid motors, Sutton & Biblarz 2010 ch. 11-12); no public burn time for this missile"))
BALLISTIC_MIN = 1.0e-5
BALLISTIC_MIN_TEXT = (
    "the fit refuses ballistic parameters below 1e-5 m2/kg: Cd A / m0 of a 1-2 t missile of "
    "0.4-0.5 m diameter with a supersonic drag coefficient of at least 0.1-0.2 (Fleeman 2006, ch. 2)")
LOFT_ALT = dict(value=20000.0, low=15000.0, high=25000.0, source=(
    "iadsim estimate: height above the launcher to which the missile climbs before flying on to a "
    "distant target; long-range surface-to-air missiles fly a high, lofted trajectory through thin "
    "air (ISA density at 20 km is 7% of sea level's; Fleeman 2006, ch. 6), below the public maximum "
    "engagement altitude; no public trajectory figure for this missile"))
LOFT_ELEV = dict(value=45.0, low=30.0, high=60.0, source=(
    "iadsim estimate: elevation of the climb leg of the lofted path (a vertically or steeply "
    "launched missile turned over towards the target); no public figure"))
VMIN = dict(value=300.0, low=250.0, high=400.0, source=(
    "iadsim estimate: lowest speed at which the missile keeps enough dynamic pressure to manoeuvre "
    "onto the target, about Mach 0.9 at low altitude; no public figure"))


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _fit(R: float, vm: float):
    """The first fit that exists: mean speed with boost-coast, 15 s and 25 s boost-sustain profiles;
    then peak speed on a horizontal line at sea level, then on a lofted path.
    Returns (fit, sustain spec or None, boost spec, None for a mean-speed fit / False direct / True lofted)."""
    common = dict(isp_s=ISP["value"], min_speed_m_s=VMIN["value"])
    try:
        return fit_flyout(R, vm, boost_time_s=BOOST["value"], sustain_time_s=0.0, sustain_share=0.0,
                          **common), None, BOOST, None
    except ValueError:
        pass
    for sus in (SUSTAIN_TIME, SUSTAIN_TIME_LONG):
        try:
            return fit_flyout(R, vm, boost_time_s=BOOST["value"], sustain_time_s=sus["value"],
                              sustain_share=SUSTAIN_SHARE, **common), sus, BOOST, None
        except ValueError:
            pass
    peak = dict(boost_time_s=BOOST_LONG["value"], sustain_time_s=0.0, sustain_share=0.0,
                ballistic_min_m2_kg=BALLISTIC_MIN, **common)
    try:
        return fit_flyout_peak(R, vm, **peak), None, BOOST_LONG, False
    except ValueError:
        pass
    return (fit_flyout_peak(R, vm, loft_alt_m=LOFT_ALT["value"], loft_elev_deg=LOFT_ELEV["value"], **peak),
            None, BOOST_LONG, True)


def block(name: str, sysm) -> str:
    R = sysm.nominal("engagement_range_max_km") * 1000.0
    vm = sysm.nominal("missile_speed_m_s")
    fit, sustain, boost, peak = _fit(R, vm)
    if peak is None:
        fitted_src = (f"iadsim estimate: fitted to figures engagement_range_max_km ({R / 1000:g} km) and missile_speed_m_s "
                      f"({vm:g} m/s, mean speed): on a horizontal line at sea level the missile reaches the "
                      "maximum range at its minimum useful speed after range / mean speed "
                      "(iadsim.catalog.envelope.fit_flyout)")
    else:
        path = ("on a horizontal line at sea level" if not peak else
                f"on a path lofted to {LOFT_ALT['value']:g} m (climb at {LOFT_ELEV['value']:g} deg, then level)")
        fitted_src = (f"iadsim estimate: fitted to figures engagement_range_max_km ({R / 1000:g} km) and missile_speed_m_s "
                      f"({vm:g} m/s, read as the peak speed, as no missile keeps it over the maximum range): the "
                      f"missile's highest speed is {vm:g} m/s and {path} it reaches the maximum slant range at its "
                      "minimum useful speed (iadsim.catalog.envelope.fit_flyout_peak; no mean-speed fit exists); "
                      + BALLISTIC_MIN_TEXT)
    rows = []

    def fig(key, unit, spec=None, value=None, source=None):
        v = spec["value"] if spec else value
        u = '"1"' if unit == "1" else unit
        lines = [f"  {key}:", f"    value: {_fmt(v)}", f"    unit: {u}"]
        if spec and "low" in spec:
            lines += [f"    low: {_fmt(spec['low'])}", f"    high: {_fmt(spec['high'])}"]
        lines += [f"    source: \"{(spec['source'] if spec else source)}\"", "    confidence: estimate"]
        rows.append("\n".join(lines) + "\n")

    fig("flyout_isp_s", "s", ISP)
    fig("flyout_boost_time_s", "s", boost)
    fig("flyout_boost_fraction", "1", value=fit["flyout_boost_fraction"], source=fitted_src)
    if sustain is None:
        fig("flyout_sustain_time_s", "s", SUSTAIN)
        fig("flyout_sustain_fraction", "1", SUSTAIN)
    else:
        fig("flyout_sustain_time_s", "s", sustain)
        fig("flyout_sustain_fraction", "1", value=fit["flyout_sustain_fraction"], source=(
            fitted_src + f"; the sustain phase burns {SUSTAIN_SHARE:g} x the boost's propellant (iadsim "
            "estimate)"))
    fig("flyout_ballistic_m2_kg", "m2/kg", value=fit["flyout_ballistic_m2_kg"], source=fitted_src)
    fig("flyout_min_speed_m_s", "m/s", VMIN)
    if peak is None:
        fig("flyout_max_time_s", "s", value=fit["flyout_max_time_s"], source=(
            f"iadsim estimate: fitted, {TIME_MARGIN:g} x the flyout time to the maximum range (engagement_range_max_km / "
            "missile_speed_m_s); the guidance time limit is not public"))
    else:
        fig("flyout_max_time_s", "s", value=fit["flyout_max_time_s"], source=(
            f"iadsim estimate: fitted, {TIME_MARGIN:g} x the flyout time to the maximum range on the fitted path "
            "(iadsim.catalog.envelope.fit_flyout_peak); the guidance time limit is not public"))
    if peak:
        fig("flyout_loft_altitude_m", "m", LOFT_ALT)
        fig("flyout_loft_elevation_deg", "deg", LOFT_ELEV)
    assert [r.split(":")[0].strip() for r in rows] == list(FLYOUT_FIGURES) + (list(LOFT_FIGURES) if peak else [])
    return BEGIN + "\n".join(rows) + END


def main(argv: list[str]) -> int:
    check = "--check" in argv
    bad = 0
    for path in sorted(Path(builtin_dir()).glob("*.yaml")):
        sysm = load_system_file(path)
        if sysm.kind != "effector" or sysm.name in GUNS:
            continue
        text = path.read_text(encoding="utf-8")
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", "", text, flags=re.S)
        try:
            new_block = block(sysm.name, sysm)
        except ValueError as exc:
            print(f"{sysm.name}: not fitted: {exc}")
            continue
        # the block goes at the end of the `figures:` mapping (before the next top-level key)
        m = re.search(r"^figures:\n(?:(?:[ \t]+.*|)\n)*", text, flags=re.M)
        end = m.end()
        while text[:end].endswith("\n\n"):
            end -= 1
        out = text[:end] + "\n" + new_block + text[end:]
        if out != path.read_text(encoding="utf-8"):
            if check:
                print(f"{path.name}: flyout figures differ from a new fit")
                bad += 1
            else:
                path.write_text(out, encoding="utf-8")
                print(f"{sysm.name}: wrote flyout figures")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
