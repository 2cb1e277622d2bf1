"""An electro-optical / infrared sensor: Johnson-criteria detection of a target's size.

Detection model: the target transfer probability function of the Johnson criteria as used by
the NVESD ACQUIRE model (Johnson 1958; Vollmerhausen & Driggers, *Analysis of Sampled Imaging
Systems*, SPIE 2000; Driggers et al., *Introduction to Infrared and Electro-Optical Systems*,
2012, ch. 11):

    P(x) = x^E / (1 + x^E),   E = 2.7 + 0.7 x,   x = N / N50,

where the resolvable cycles on target N grow as size / range, so x = x_ref (d / d_ref)(R_ref / R),
with x_ref fixed by the catalog's quoted detection range R_ref of a target of size d_ref at Pd_ref.
Each look's P is handed to the kernels' Swerling 1 draw as the equivalent SNR
(:func:`iadsim.sensors.base.equivalent_snr`), which gives exactly that P. Clear weather only; the
daylight channel, or the infrared channel at night (sensors[].light). Nothing is detected beyond
the upper end of the channel's quoted range.

Measurement model: azimuth and elevation; range with a laser range finder's sigma where the
catalog gives one (eo_lrf_range_sigma_m), else bearing only (as the ESM in full fidelity).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from iadsim.catalog import System
from iadsim.catalog.models import SENSOR_TYPE_FIGURES
from iadsim.coverage.specs import RadarSpec
from iadsim.errors import InputError, Problem
from iadsim.sensors.base import FigureGetter, Looks, Measurement, SensorType, Site, equivalent_snr, register


def johnson_probability(x) -> np.ndarray:
    """The ACQUIRE target transfer probability function P(x) = x^E / (1 + x^E), E = 2.7 + 0.7 x,
    x = N / N50 >= 0 (Vollmerhausen & Driggers 2000). P(1) = 0.5."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    with np.errstate(divide="ignore"):
        return expit((2.7 + 0.7 * x) * np.log(x))   # x^E / (1 + x^E), without overflow; P(0) = 0


def johnson_ratio(pd: float) -> float:
    """The N / N50 at which :func:`johnson_probability` is ``pd`` (0 < pd < 1)."""
    return float(brentq(lambda x: float(johnson_probability(x)) - pd, 1e-6, 100.0))


def eo_detection_probability(rng_m, size_m, ref_range_m: float, ref_size_m: float, ref_pd: float) -> np.ndarray:
    """Single-look detection probability [1] of targets of ``size_m`` [m] at ``rng_m`` [m]:
    ``ref_pd`` for ``ref_size_m`` at ``ref_range_m``; N / N50 scales as size / range."""
    x = johnson_ratio(ref_pd) * (np.asarray(size_m, dtype=float) / ref_size_m) \
        * (ref_range_m / np.maximum(np.asarray(rng_m, dtype=float), 1.0))
    return johnson_probability(x)


@register
class ElectroOptical(SensorType):
    name = "eo"
    display_name = "Electro-optical sensor"
    figures = SENSOR_TYPE_FIGURES["eo"]
    jammed = False
    model_text = (
        "electro-optical/IR: Johnson-criteria detection (ACQUIRE probability x^E/(1+x^E), E = 2.7 + 0.7x, x ∝ "
        "size/range; Vollmerhausen & Driggers 2000) from the catalog's quoted range for a reference target size, "
        "handed to the kernels' draw as its exact Swerling 1 equivalent SNR; each look independent; the day "
        "channel, or the IR channel at night (sensors[].light); nothing beyond the upper end of the channel's "
        "quoted range; angles measured, range only with a laser range finder (eo_lrf_range_sigma_m; full "
        "fidelity; without one, as the ESM: a range guess of half its range bound). Leaves "
        "out: weather, haze and atmospheric transmission (clear weather only), sun, background clutter and "
        "contrast of the particular target, time of day changing within a run, the field of regard and search "
        "time of a narrow field of view (one look per scan period over its whole sector), correlated misses "
        "of one observer, sampling of its figures (nominal values in every replication); noise jamming does not "
        "affect it")

    def spec(self, system: System, site: Site, figure: FigureGetter) -> RadarSpec:
        light = getattr(site.entry, "light", None) or "day"
        key = "eo_detection_range_km" if light == "day" else "eo_ir_detection_range_km"
        if key not in system.figures:
            raise InputError([Problem(site.source, f"{site.where}.light",
                                      f"catalog entry {system.name!r} has no infrared channel ({key}); "
                                      "it cannot detect at night: use light: day or a sensor with an IR channel")])
        mast = figure(system, "eo_antenna_height_m", "line of sight")
        return RadarSpec(
            name=site.name, system=system.name, where=site.where, x=site.x, y=site.y, z=site.alt + mast,
            ground=site.ground, sector=site.sector,
            ref_range_m=figure(system, key, "detection") * 1000.0,
            ref_rcs_m2=1.0, ref_pd=figure(system, "eo_reference_pd", "detection"),
            pfa=figure(system, "eo_pfa", "detection"),
            scan_period_s=figure(system, "eo_scan_period_s", "detection"),
            instrumented_range_m=float(system.figure(key).high) * 1000.0, mast_m=mast,
            sensor_type=self.name,
            params={"ref_size_m": figure(system, "eo_reference_target_m", "detection")},
        )

    def snr(self, spec: RadarSpec, looks: Looks) -> np.ndarray:
        d = looks.pos - np.array([spec.x, spec.y, spec.z])
        rng = np.sqrt(np.sum(d * d, axis=-1))
        pd = eo_detection_probability(rng, looks.size_m, spec.ref_range_m, spec.params["ref_size_m"], spec.ref_pd)
        return equivalent_snr(np.nan_to_num(pd), spec.pfa)

    def measurement(self, spec: RadarSpec, system: System, figure: FigureGetter) -> Measurement:
        lrf = ("eo_lrf_range_sigma_m" in system.figures) or None
        return Measurement(
            range_sigma_m=lrf and figure(system, "eo_lrf_range_sigma_m", "tracking"),
            azimuth_sigma_rad=float(np.radians(figure(system, "eo_azimuth_sigma_deg", "tracking"))),
            elevation_sigma_rad=float(np.radians(figure(system, "eo_elevation_sigma_deg", "tracking"))),
            min_elevation_rad=-np.pi / 2,
        )
