"""A passive ESM (electronic support measures) receiver: it detects threats that emit.

Detection model: the one-way link (Friis 1946; Adamy, *EW 101*, 2001, ch. 5; Wiley, *ELINT*,
2006, ch. 2): the received power falls as ERP / R^2, so in reference form, like the radar's,

    SNR = SNR_ref x (ERP / ERP_ref) x (R_ref / R)^2,    SNR_ref = ln(Pfa) / ln(Pd_ref) - 1,

with R_ref the catalog's quoted detection range of an emitter of ERP_ref at Pd_ref, or, where the
catalog gives the receiver's sensitivity, antenna gain and frequency, the range at which that
emitter delivers the sensitivity (:func:`friis_range_m`): the emitter of ERP_ref is detected at
R_ref with Pd_ref by the kernels' Swerling 1 draw, a stronger one farther out. A threat that emits nothing (no jammer, no emitter_erp_w) is never detected. Nothing is
detected beyond the upper end of the quoted range (the receiver's instrumented range). Noise
jamming does not lower it: a jammer is an emitter it detects.

Measurement model: bearing only (azimuth, and elevation where the catalog gives its sigma); no
range. Full fidelity hands the tracker the bearing at a range guess of half the instrumented
range with the sigma of a uniform range over it (R/sqrt(12)).
"""

from __future__ import annotations

import numpy as np

from iadsim.catalog import System
from iadsim.catalog.models import SENSOR_TYPE_FIGURES
from iadsim.coverage.specs import RadarSpec
from iadsim.physics.radar import snr_required
from iadsim.sensors.base import FigureGetter, Looks, Measurement, SensorType, Site, register


#: the optional sensitivity group: with all three, the reference range follows from the link budget
SENSITIVITY_FIGURES = ("esm_sensitivity_dbm", "esm_antenna_gain_dbi", "esm_frequency_ghz")


def friis_range_m(eirp_w, sensitivity_w, rx_gain, wavelength_m):
    """One-way free-space range [m] at which an emitter of effective radiated power ``eirp_w`` [W]
    delivers ``sensitivity_w`` [W] to a receiver of linear gain ``rx_gain`` [1] at ``wavelength_m``
    [m]: P_r = EIRP G_r (λ / 4πR)^2 (Friis 1946; Adamy, EW 101, 2001, ch. 5), so
    R = (λ / 4π) sqrt(EIRP G_r / S_min)."""
    return wavelength_m / (4.0 * np.pi) * np.sqrt(np.asarray(eirp_w, dtype=float) * rx_gain / sensitivity_w)


def esm_snr(rng_m, erp_w, ref_range_m: float, ref_erp_w: float, ref_snr: float) -> np.ndarray:
    """One-way reference-form SNR [1] of emitters of ERP ``erp_w`` [W] at range ``rng_m`` [m]:
    ``ref_snr`` at ``ref_range_m`` for ``ref_erp_w``, scaled by ERP / R^2 (Friis 1946). 0 for a
    silent threat (ERP 0)."""
    rng_m = np.maximum(np.asarray(rng_m, dtype=float), 1.0)
    return ref_snr * (np.asarray(erp_w, dtype=float) / ref_erp_w) * (ref_range_m / rng_m) ** 2


@register
class ESM(SensorType):
    name = "esm"
    display_name = "ESM receiver"
    figures = SENSOR_TYPE_FIGURES["esm"]
    jammed = False
    model_text = (
        "passive ESM: one-way reference form (SNR ∝ ERP / R², Friis 1946; Adamy 2001) from the catalog's quoted "
        "detection range of a reference emitter (or the range where it delivers the receiver's sensitivity), the kernels' Swerling 1 draw; a threat emits its jammer's ERP "
        "(power x gain) or its catalog emitter_erp_w, the stronger; a silent threat is never detected; nothing "
        "beyond the upper end of the quoted range; bearing-only measurement: fast fidelity has no measurement model, "
        "so an ESM detection puts the threat on the air picture at its true position and cues fire units as a "
        "radar's would (optimistic); full fidelity gives the tracker the bearing at a range guess of half that "
        "range with range sigma R/√12, which alone rarely gives a fire solution. Leaves out: frequency "
        "coverage and the emitter's band, antenna scan (main-lobe or sidelobe intercept), duty cycle and emission control of threat "
        "radars, pulse deinterleaving and identification, triangulation between several passive sites, "
        "multipath and clutter, sampling of its figures (nominal values in every replication); noise jamming does "
        "not lower it")

    def spec(self, system: System, site: Site, figure: FigureGetter) -> RadarSpec:
        mast = figure(system, "esm_antenna_height_m", "line of sight")
        ref_pd = figure(system, "esm_reference_pd", "detection")
        pfa = figure(system, "esm_pfa", "detection")
        ref_erp = figure(system, "esm_reference_erp_w", "detection")
        if all(k in system.figures for k in SENSITIVITY_FIGURES):
            # from the receiver's sensitivity: where the reference emitter gives the sensitivity,
            # the receiver detects it with the reference Pd
            ref_range = float(friis_range_m(
                ref_erp, 10.0 ** ((figure(system, "esm_sensitivity_dbm", "detection") - 30.0) / 10.0),
                10.0 ** (figure(system, "esm_antenna_gain_dbi", "detection") / 10.0),
                299_792_458.0 / (figure(system, "esm_frequency_ghz", "detection") * 1e9)))
        else:   # the quoted detection range of the reference emitter
            ref_range = figure(system, "esm_detection_range_km", "detection") * 1000.0
        return RadarSpec(
            name=site.name, system=system.name, where=site.where, x=site.x, y=site.y, z=site.alt + mast,
            ground=site.ground, sector=site.sector,
            ref_range_m=ref_range,
            ref_rcs_m2=1.0, ref_pd=ref_pd, pfa=pfa,
            scan_period_s=figure(system, "esm_scan_period_s", "detection"),
            instrumented_range_m=float(system.figure("esm_detection_range_km").high) * 1000.0, mast_m=mast,
            sensor_type=self.name,
            params={"ref_erp_w": ref_erp,
                    "ref_snr": float(snr_required(ref_pd, pfa))},
        )

    def snr(self, spec: RadarSpec, looks: Looks) -> np.ndarray:
        d = looks.pos - np.array([spec.x, spec.y, spec.z])
        rng = np.sqrt(np.sum(d * d, axis=-1))
        return esm_snr(rng, looks.emitter_erp_w, spec.ref_range_m, spec.params["ref_erp_w"], spec.params["ref_snr"])

    def full_figures(self, system: System) -> tuple[str, ...]:
        return ("esm_elevation_sigma_deg",)

    def measurement(self, spec: RadarSpec, system: System, figure: FigureGetter) -> Measurement:
        return Measurement(
            range_sigma_m=None,
            azimuth_sigma_rad=float(np.radians(figure(system, "esm_azimuth_sigma_deg", "tracking"))),
            elevation_sigma_rad=float(np.radians(figure(system, "esm_elevation_sigma_deg", "tracking"))),
            min_elevation_rad=-np.pi / 2,
        )
