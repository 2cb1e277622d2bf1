"""The radar: reference-form radar equation with land clutter, MTI and multipath (docs/detection.md).

Detection model: the mean signal-to-clutter-plus-noise ratio of each look (:func:`radar_sinr`),
drawn with the Swerling 1 law; noise jamming lowers it (iadsim.engine.ew). Measurement model:
range, azimuth and elevation with the catalog's sigmas (full fidelity).
"""

from __future__ import annotations

import numpy as np

from iadsim.catalog import System
from iadsim.catalog.models import SENSOR_TYPE_FIGURES
from iadsim.coverage.los import visible_at
from iadsim.coverage.specs import RadarSpec
from iadsim.physics.clutter import (
    CLUTTER_CLASSES, clutter_cell_area_m2, clutter_gamma_db, clutter_to_noise_reference_form, gaussian_beam_gain,
    multipath_loss, mti_notch_gain, roughness_factor, sigma0_constant_gamma, signal_to_clutter_plus_noise,
)
from iadsim.physics.radar import snr_reference_form, snr_required
from iadsim.sensors.base import FigureGetter, Looks, Measurement, SensorType, Site, register

DETECTION_MODEL = "swerling1"

#: ground this close to the minimum visible altitude counts as lit by the radar (clutter) [m]
GROUND_VISIBLE_TOLERANCE_M = 1.0

#: figures a radar needs for full fidelity (measurement noise and elevation coverage)
FULL_RADAR_FIGURES = ("radar_range_sigma_m", "radar_azimuth_sigma_deg", "radar_elevation_sigma_deg",
                      "radar_min_elevation_deg")


@register
class Radar(SensorType):
    name = "radar"
    display_name = "Radar"
    figures = SENSOR_TYPE_FIGURES["radar"]
    jammed = True
    model_text = ("radar: radar equation in reference-range form with land clutter, MTI and multipath "
                  "(see 'detection'); noise jamming lowers its SINR")

    def spec(self, system: System, site: Site, figure: FigureGetter) -> RadarSpec:
        sysm = system
        mast = figure(sysm, "radar_antenna_height_m", "line of sight")
        max_el = sysm.figures.get("radar_max_elevation_deg")
        if "radar_instrumented_range_km" in sysm.figures:
            instr = figure(sysm, "radar_instrumented_range_km", "detection") * 1000.0
        else:  # documented default: the largest quoted detection range
            instr = float(sysm.figure("radar_detection_range_km").high) * 1000.0
        clut = {}
        if "radar_wavelength_m" in sysm.figures:
            clut = dict(
                wavelength_m=figure(sysm, "radar_wavelength_m", "clutter"),
                az_beamwidth_rad=float(np.radians(figure(sysm, "radar_azimuth_beamwidth_deg", "clutter"))),
                el_beamwidth_rad=float(np.radians(figure(sysm, "radar_elevation_beamwidth_deg", "clutter"))),
                range_resolution_m=figure(sysm, "radar_range_resolution_m", "clutter"),
                mti_improvement=float(10.0 ** (figure(sysm, "radar_mti_improvement_db", "clutter") / 10.0)),
                min_radial_speed_m_s=figure(sysm, "radar_min_radial_speed_m_s", "MTI notch"),
            )
        return RadarSpec(
            name=site.name, system=sysm.name, where=site.where, x=site.x, y=site.y, z=site.alt + mast,
            ground=site.ground, sector=site.sector,
            ref_range_m=figure(sysm, "radar_detection_range_km", "detection") * 1000.0,
            ref_rcs_m2=figure(sysm, "radar_reference_rcs_m2", "detection"),
            ref_pd=figure(sysm, "radar_reference_pd", "detection"),
            pfa=figure(sysm, "radar_pfa", "detection"),
            scan_period_s=figure(sysm, "radar_scan_period_s", "detection"),
            max_elevation_deg=None if max_el is None else figure(sysm, "radar_max_elevation_deg", "detection"),
            instrumented_range_m=instr, mast_m=mast, **clut,
        )

    def snr(self, spec: RadarSpec, looks: Looks) -> np.ndarray:
        return radar_sinr(spec, looks.terrain, looks.mva, looks.pos, looks.vel, looks.rcs_m2, looks.clutter,
                          looks.slope)

    def full_figures(self, system: System) -> tuple[str, ...]:
        return FULL_RADAR_FIGURES

    def measurement(self, spec: RadarSpec, system: System, figure: FigureGetter) -> Measurement:
        return Measurement(
            range_sigma_m=figure(system, "radar_range_sigma_m", "tracking"),
            azimuth_sigma_rad=float(np.radians(figure(system, "radar_azimuth_sigma_deg", "tracking"))),
            elevation_sigma_rad=float(np.radians(figure(system, "radar_elevation_sigma_deg", "tracking"))),
            min_elevation_rad=float(np.radians(figure(system, "radar_min_elevation_deg", "detection"))),
        )


def _cell_value(terrain, raster: np.ndarray, x, y) -> np.ndarray:
    g = terrain.grid
    c = np.clip(np.floor((np.asarray(x) - g.xmin) / g.res), 0, g.nx - 1).astype(np.int64)
    r = np.clip(np.floor((g.ymax - np.asarray(y)) / g.res), 0, g.ny - 1).astype(np.int64)
    return raster[r, c]


def radar_sinr(r: RadarSpec, terrain: Terrain, mva: np.ndarray, pos: np.ndarray, vel: np.ndarray,
               rcs_m2: np.ndarray, clutter: str, slope: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Mean signal-to-clutter-plus-noise ratio [1] of targets at ``pos`` [n, 3] (x, y [m], altitude
    [m MSL]) moving at ``vel`` [n, 3] [m/s] with RCS ``rcs_m2`` [n], all in line of sight and within
    the instrumented range of radar ``r``.

    Noise: reference-form radar equation (Skolnik 2001 eq. 2.1). For a radar with clutter figures
    and a clutter class other than 'none' (iadsim.physics.clutter):

    - clutter: the patch at the target's slant range and azimuth on a plane at the height of the
      ground under the target, tilted by the DEM slope there: constant-gamma sigma0 = gamma sin(psi)
      with the grazing angle psi between the ray to the patch and that surface; zero where the
      ground under the target is hidden from the radar (terrain shadow) or the range sphere does
      not reach the plane; cell area pulse- or beam-limited (Richards 2005 pp. 57-63); weighted
      by the two-way Gaussian elevation pattern at the angle between target and that ground, the
      beam pointed at the target - so clutter competes when the target is low, in the beam with the
      ground; CNR in the same reference form as the target;
    - MTI/Doppler: residual clutter C/I, target gain g(v_r) with the notch below the minimum radial
      speed (mti_notch_gain);
    - multipath: two-ray flat-earth loss below the first lobe over a plane at the ground under the
      target, reflection coefficient -rho_s (roughness of the clutter class; Blake 1986, Ament 1953).

    SINR = g F^4 SNR / (1 + CNR / I).
    """
    ref_snr = snr_required(r.ref_pd, r.pfa, model=DETECTION_MODEL)
    dx = pos[:, 0] - r.x
    dy = pos[:, 1] - r.y
    dz = pos[:, 2] - r.z
    rng = np.sqrt(dx * dx + dy * dy + dz * dz)
    snr = np.asarray(snr_reference_form(rng, rcs_m2, r.ref_range_m, r.ref_rcs_m2, ref_snr), dtype=float)
    if not r.has_clutter_model or clutter == "none":
        return snr
    lam = float(r.wavelength_m)
    d = np.maximum(np.hypot(dx, dy), 1.0)
    # MTI notch from the radial speed
    v_r = (dx * vel[:, 0] + dy * vel[:, 1] + dz * vel[:, 2]) / rng
    g_mti = mti_notch_gain(np.nan_to_num(v_r), r.min_radial_speed_m_s)
    # clutter in the target's range cell
    ground = terrain.height_at(pos[:, 0], pos[:, 1])
    gx = _cell_value(terrain, slope[0], pos[:, 0], pos[:, 1])
    gy = _cell_value(terrain, slope[1], pos[:, 0], pos[:, 1])
    # the clutter patch: the ground plane at the height of the ground under the target, at the
    # target's slant range and azimuth (none if the range sphere does not reach that plane)
    reach = np.abs(ground - r.z) <= rng
    el_c = np.arcsin(np.clip((ground - r.z) / rng, -1.0, 1.0))
    ux, uy, uz = np.cos(el_c) * dx / d, np.cos(el_c) * dy / d, np.sin(el_c)
    nn = np.sqrt(gx * gx + gy * gy + 1.0)
    sin_psi = -(ux * -gx + uy * -gy + uz) / nn   # -(u . n), n the upward surface normal, |u| = 1
    lit = reach & visible_at(mva, terrain, pos[:, 0], pos[:, 1], ground + GROUND_VISIBLE_TOLERANCE_M)
    psi = np.where(lit, np.arcsin(np.clip(sin_psi, 0.0, 1.0)), 0.0)
    sigma0 = sigma0_constant_gamma(clutter_gamma_db(clutter, lam), psi)
    area = clutter_cell_area_m2(rng, r.az_beamwidth_rad, r.el_beamwidth_rad, psi, r.range_resolution_m)
    el_t = np.arcsin(np.clip(dz / rng, -1.0, 1.0))
    pattern = np.asarray(gaussian_beam_gain(el_t - el_c, r.el_beamwidth_rad)) ** 2
    cnr = clutter_to_noise_reference_form(sigma0 * area, rng, r.ref_range_m, r.ref_rcs_m2, ref_snr, pattern)
    # multipath over a plane at the ground under the target
    h_r = np.maximum(r.z - ground, r.mast_m)
    h_t = np.maximum(pos[:, 2] - ground, 0.0)
    rho = roughness_factor(CLUTTER_CLASSES[clutter]["rms_height_m"], np.arctan((h_r + h_t) / d), lam)
    f4 = multipath_loss(h_r, h_t, d, lam, rho)
    return np.asarray(signal_to_clutter_plus_noise(snr * f4, cnr, r.mti_improvement, g_mti), dtype=float)
