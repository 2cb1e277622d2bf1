"""Catalog data model: system profiles whose every figure carries provenance.

A :class:`Figure` is one number the simulation uses, with the public source it
came from, a confidence grade, and the range over which public sources disagree
(``low`` .. ``high``). Figures for which no public number was found are still
needed to run a model; they are marked ``confidence: estimate`` and their
``source`` says what the estimate rests on.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

Confidence = Literal["high", "medium", "low", "estimate"]


class Claim(BaseModel):
    """One public claim for a figure, as found in a source."""

    model_config = ConfigDict(extra="forbid")

    value: Any
    unit: str | None = None
    source: str
    confidence: Literal["high", "medium", "low"]
    note: str | None = None


class Calibrated(BaseModel):
    """A figure's range calibrated against validation cases (``catalog/calibrated.yaml``, written by
    ``iadsim validation calibrate --write-catalog``): posterior median and 5-95 % range."""

    model_config = ConfigDict(extra="forbid")

    value: float
    low: float
    high: float
    cases: list[str] = Field(min_length=2, description="the validation cases that constrain it (two or more)")
    method: str = Field(min_length=1)
    seed: int | None = None
    date: str | None = None

    @model_validator(mode="after")
    def _order(self) -> "Calibrated":
        if not (self.low <= self.value <= self.high):
            raise ValueError(f"expected low <= value <= high, got {self.low} <= {self.value} <= {self.high}")
        return self


class Figure(BaseModel):
    """A number used by the models, with provenance and uncertainty.

    ``value`` is the nominal value in ``unit``; ``low`` and ``high`` bound the
    disagreement between sources (equal to ``value`` when only one figure is known).
    """

    model_config = ConfigDict(extra="forbid")

    value: float
    unit: str
    low: float | None = None
    high: float | None = None
    source: str = Field(min_length=1)
    confidence: Confidence
    note: str | None = None
    claims: list[Claim] = Field(default_factory=list)
    source_kind: str | None = Field(None, description="kind of source, by iadsim.catalog.provenance's rule "
                                                      "(filled at load)")
    stated_confidence: Confidence | None = Field(None, description="the grade the catalog file states, when the "
                                                                   "rule capped it")
    calibrated: Calibrated | None = Field(None, description="range calibrated against validation cases "
                                                            "(attached at load from catalog/calibrated.yaml)")

    @model_validator(mode="after")
    def _grade_by_rule(self) -> "Figure":
        from iadsim.catalog.provenance import capped_grade, source_kind

        if self.source_kind is None:
            self.source_kind = source_kind(self.source, self.confidence)
            graded = capped_grade(self.confidence, self.source_kind)
            if graded != self.confidence:
                self.stated_confidence = self.confidence
                self.confidence = graded
        return self

    @model_validator(mode="after")
    def _check_range(self) -> "Figure":
        if self.low is None:
            self.low = self.value
        if self.high is None:
            self.high = self.value
        if not (self.low <= self.value <= self.high):
            raise ValueError(
                f"expected low <= value <= high, got {self.low} <= {self.value} <= {self.high}"
            )
        return self

    @property
    def is_estimate(self) -> bool:
        return self.confidence == "estimate"


class Carried(BaseModel):
    """A weapon a threat type can carry (the comment beside it in the file gives the source)."""

    model_config = ConfigDict(extra="forbid")

    weapon: str = Field(pattern=r"^[a-z0-9_]+$")
    count: int = Field(ge=1, le=64)


class System(BaseModel):
    """A catalog entry: an air-defence system or a threat type."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    display_name: str
    kind: Literal["effector", "sensor", "threat", "jammer"]
    category: str = Field(description="e.g. 'SHORAD gun-missile', 'MALE UAV', 'cruise missile'")
    aliases: list[str] = Field(default_factory=list)
    description: str = ""
    figures: dict[str, Figure]
    not_found: list[str] = Field(default_factory=list)
    carries: list["Carried"] = Field(default_factory=list, description="threats: weapons it can carry, and how many")
    sensor_type: str | None = Field(None, description="sensors: the sensor type (iadsim.sensors: radar, esm, eo); "
                                                      "default radar")

    @model_serializer(mode="wrap")
    def _without_default_type(self, handler):
        out = handler(self)
        if isinstance(out, dict) and out.get("sensor_type") is None:
            out.pop("sensor_type", None)   # a radar's entry reads (and hashes) as before
        return out

    def figure(self, key: str) -> Figure:
        try:
            return self.figures[key]
        except KeyError:
            raise KeyError(f"catalog entry {self.name!r} has no figure {key!r}") from None

    def nominal(self, key: str) -> float:
        return self.figure(key).value


# Figures each kind must have, with the unit they must be given in. The engine
# reads these names; the catalog tests check every data file against them.
REQUIRED_FIGURES: dict[str, dict[str, str]] = {
    "effector": {
        # engagement envelope
        "engagement_range_min_km": "km",
        "engagement_range_max_km": "km",
        "engagement_altitude_min_m": "m",
        "engagement_altitude_max_m": "m",
        # interceptor
        "missile_speed_m_s": "m/s",
        "pk_single_shot": "1",
        # fire unit
        "channels_per_vehicle": "1",
        "ready_missiles_per_vehicle": "1",
        "reload_time_s": "s",
        "reaction_time_s": "s",
        # organic radar, reference-range form: detects reference_rcs at detection_range with reference_pd
        "radar_detection_range_km": "km",
        "radar_reference_rcs_m2": "m2",
        "radar_reference_pd": "1",
        "radar_pfa": "1",
        "radar_scan_period_s": "s",
        "radar_antenna_height_m": "m",
    },
    "sensor": {
        "radar_detection_range_km": "km",
        "radar_reference_rcs_m2": "m2",
        "radar_reference_pd": "1",
        "radar_pfa": "1",
        "radar_scan_period_s": "s",
        "radar_antenna_height_m": "m",
    },
    "threat": {
        "cruise_speed_m_s": "m/s",
        "rcs_m2": "m2",
        "typical_altitude_m": "m",
        "value": "1",
    },
    # an airborne noise jammer a threat carries (iadsim.physics.jamming)
    "jammer": {
        "jammer_power_w": "W",
        "jammer_antenna_gain_dbi": "dBi",
        "jammer_bandwidth_mhz": "MHz",
        "jammer_polarisation_loss_db": "dB",
    },
}


# Figures each sensor type must have (kind: sensor, sensor_type: ...), with their units; a sensor
# type registered with iadsim.sensors.register adds its own.
SENSOR_TYPE_FIGURES: dict[str, dict[str, str]] = {
    "radar": dict(REQUIRED_FIGURES["sensor"]),
    # passive ESM receiver (iadsim.sensors.esm): detects emitters; one-way reference form, the
    # quoted detection range of an emitter of the reference ERP with the reference Pd
    "esm": {
        "esm_detection_range_km": "km",
        "esm_reference_erp_w": "W",
        "esm_reference_pd": "1",
        "esm_pfa": "1",
        "esm_scan_period_s": "s",
        "esm_antenna_height_m": "m",
        "esm_azimuth_sigma_deg": "deg",
    },
    # electro-optical / infrared sensor (iadsim.sensors.eo): the quoted detection range of a target
    # of the reference size with the reference Pd in clear weather (daylight channel)
    "eo": {
        "eo_detection_range_km": "km",
        "eo_reference_target_m": "m",
        "eo_reference_pd": "1",
        "eo_pfa": "1",
        "eo_scan_period_s": "s",
        "eo_antenna_height_m": "m",
        "eo_azimuth_sigma_deg": "deg",
        "eo_elevation_sigma_deg": "deg",
    },
}

#: optional figures of the non-radar sensor types, with their units
OPTIONAL_SENSOR_FIGURES: dict[str, str] = {
    "esm_elevation_sigma_deg": "deg",        # an ESM that measures elevation too (full fidelity)
    # an ESM's link budget (all three, or none): the reference range from its sensitivity
    "esm_sensitivity_dbm": "dBm",
    "esm_antenna_gain_dbi": "dBi",
    "esm_frequency_ghz": "GHz",
    "eo_ir_detection_range_km": "km",        # the infrared channel's range (sensors[].light: night)
    "eo_lrf_range_sigma_m": "m",             # a laser range finder: the EO measures range
}

#: optional threat figures the non-radar sensors read
THREAT_SENSOR_FIGURES: dict[str, str] = {
    "size_m": "m",                 # largest dimension (length or span), for electro-optical detection
    "emitter_erp_w": "W",          # effective radiated power of a radar it carries and uses (ESM)
}


# Optional radar figures (effectors' organic radars and sensors), with their units. A catalog
# without them still loads; the documented defaults apply:
# - radar_instrumented_range_km: nothing is detected beyond it. Default (and the rule the bundled
#   catalog follows where no public instrumented range exists): the largest detection range any
#   public source quotes for the radar, i.e. the ``high`` of radar_detection_range_km.
# - the clutter group (radar_wavelength_m, beamwidths, range resolution, MTI improvement factor,
#   minimum radial speed): a radar without radar_wavelength_m is modelled clutter-free (no land
#   clutter, no MTI notch, no multipath), e.g. the visual acquisition of MANPADS. A radar with
#   radar_wavelength_m needs every figure of the group.
OPTIONAL_RADAR_FIGURES: dict[str, str] = {
    "radar_instrumented_range_km": "km",
    "radar_wavelength_m": "m",
    "radar_azimuth_beamwidth_deg": "deg",
    "radar_elevation_beamwidth_deg": "deg",
    "radar_range_resolution_m": "m",
    "radar_mti_improvement_db": "dB",
    "radar_min_radial_speed_m_s": "m/s",
}
CLUTTER_GROUP: tuple[str, ...] = (
    "radar_wavelength_m", "radar_azimuth_beamwidth_deg", "radar_elevation_beamwidth_deg",
    "radar_range_resolution_m", "radar_mti_improvement_db", "radar_min_radial_speed_m_s",
)

# A radar's jamming figures (iadsim.physics.jamming), optional: a radar without them is not affected
# by noise jamming (a jammer aimed at it by name is an input error). A radar with one needs all of
# them, and radar_azimuth_beamwidth_deg (main lobe or sidelobe toward the jammer).
JAMMING_RADAR_FIGURES: dict[str, str] = {
    "radar_peak_power_kw": "kW",
    "radar_antenna_gain_dbi": "dBi",
    "radar_bandwidth_mhz": "MHz",
    "radar_sidelobe_level_db": "dB",
    "radar_eccm_improvement_db": "dB",
}
# Optional decoy figure of a threat type: the defence's chance to identify it per radar look.
THREAT_DECOY_FIGURES: dict[str, str] = {
    "decoy_identify_p_per_look": "1",
}

# Gun figures of gun-armed effectors (iadsim.physics.gun). An effector with the shell-model figures and
# no missile flyout figures is a gun fire unit in the engine (iadsim.catalog.envelope.is_gun: Gepard,
# ZSU-23-4); gun-missile systems with a flyout (Tunguska, Pantsir-S1) stay missile units.
GUN_FIGURES: dict[str, str] = {
    "gun_calibre_mm": "mm",
    "gun_muzzle_velocity_m_s": "m/s",
    "gun_rate_of_fire_rds_min": "rds/min",
    "gun_rounds_carried": "1",
    "gun_effective_range_km": "km",
    "gun_drag_coefficient_per_m": "1/m",
    "gun_dispersion_mrad": "mrad",
}
# Optional gun fire-control figures; without them the defaults of iadsim.catalog.envelope.GUN_DEFAULTS apply.
GUN_OPTIONAL_FIGURES: dict[str, str] = {
    "gun_burst_length_s": "s",
    "gun_aim_error_mrad": "mrad",
}
# Optional threat figures of the gun model; without them the defaults of the threat's RCS class
# (iadsim.catalog.envelope.GUN_VULNERABILITY_CLASSES) apply.
THREAT_GUN_FIGURES: dict[str, str] = {
    "gun_presented_area_m2": "m2",
    "gun_kill_given_hit": "1",
}

# Optional fire-control figures of an effector (iadsim.engine.firecontrol): the fire-control radar (or
# tracking radar with its optical channel) that guides the unit's weapons, as opposed to the search
# radar whose track only cues it. A launch needs the target inside fcr_range_km and between
# fcr_elevation_min_deg and fcr_elevation_max_deg (above it: the cone of silence) from the site, now
# and at intercept, and a free fire-control channel (fcr_channels per vehicle: targets guided at once,
# the binding limit with channels_per_vehicle). Each is optional; a system without them keeps its organic
# radar as the fire control: no range limit beyond the envelope, no elevation limit, channels_per_vehicle.
FIRE_CONTROL_FIGURES: dict[str, str] = {
    "fcr_range_km": "km",
    "fcr_channels": "1",
    "fcr_elevation_min_deg": "deg",
    "fcr_elevation_max_deg": "deg",
}

# Optional cost figures, read by the exchange ratio (iadsim.results): the cost of one threat
# (aircraft, drone, missile or released weapon) and of one interceptor a fire unit fires (a gun
# unit: one burst). Public figures only; a system without one is left out of the ratio, which
# then says "no cost figure" and names it.
COST_FIGURES: dict[str, str] = {
    "unit_cost_usd": "USD",
    "missile_cost_usd": "USD",
}
#: the kind of system each cost figure belongs to
COST_FIGURE_KIND: dict[str, str] = {"unit_cost_usd": "threat", "missile_cost_usd": "effector"}

# The values each figure can take (value, low and high are all checked): "positive" (> 0),
# "nonnegative" (>= 0), "probability" (0 < p <= 1) and "open_probability" (0 < p < 1).
FIGURE_DOMAINS: dict[str, str] = {
    "engagement_range_min_km": "nonnegative",
    "engagement_range_max_km": "positive",
    "engagement_altitude_max_m": "positive",
    "missile_speed_m_s": "positive",
    "pk_single_shot": "probability",
    "channels_per_vehicle": "positive",
    "ready_missiles_per_vehicle": "positive",
    "reload_time_s": "nonnegative",
    "reaction_time_s": "nonnegative",
    "radar_detection_range_km": "positive",
    "radar_reference_rcs_m2": "positive",
    "radar_reference_pd": "open_probability",
    "radar_pfa": "open_probability",
    "radar_scan_period_s": "positive",
    "radar_antenna_height_m": "nonnegative",
    "radar_instrumented_range_km": "positive",
    "radar_wavelength_m": "positive",
    "radar_azimuth_beamwidth_deg": "positive",
    "radar_elevation_beamwidth_deg": "positive",
    "radar_range_resolution_m": "positive",
    "radar_mti_improvement_db": "nonnegative",
    "radar_min_radial_speed_m_s": "nonnegative",
    "fcr_range_km": "positive",
    "fcr_channels": "positive",
    "gun_calibre_mm": "positive",
    "gun_muzzle_velocity_m_s": "positive",
    "gun_rate_of_fire_rds_min": "positive",
    "gun_rounds_carried": "positive",
    "gun_effective_range_km": "positive",
    "gun_drag_coefficient_per_m": "nonnegative",
    "gun_dispersion_mrad": "positive",
    "gun_burst_length_s": "positive",
    "gun_aim_error_mrad": "nonnegative",
    "gun_presented_area_m2": "positive",
    "gun_kill_given_hit": "probability",
    "radar_range_sigma_m": "positive",
    "radar_azimuth_sigma_deg": "positive",
    "radar_elevation_sigma_deg": "positive",
    "flyout_isp_s": "positive",
    "flyout_boost_time_s": "positive",
    "flyout_boost_fraction": "open_probability",
    "flyout_sustain_time_s": "nonnegative",
    "flyout_sustain_fraction": "nonnegative",
    "flyout_ballistic_m2_kg": "nonnegative",
    "flyout_min_speed_m_s": "nonnegative",
    "flyout_max_time_s": "positive",
    "flyout_loft_altitude_m": "positive",
    "flyout_loft_elevation_deg": "positive",
    "target_speed_max_m_s": "positive",
    "pk_edge_factor": "probability",
    "pk_speed_ratio_full": "positive",
    "pk_aspect_loss": "nonnegative",
    "pk_manoeuvre_ratio": "positive",
    "missile_max_load_g": "positive",
    "pk_common_cause_beta": "nonnegative",
    "cruise_speed_m_s": "positive",
    "rcs_m2": "positive",
    "value": "nonnegative",
    "unit_cost_usd": "positive",
    "missile_cost_usd": "positive",
    "jammer_power_w": "positive",
    "jammer_bandwidth_mhz": "positive",
    "jammer_polarisation_loss_db": "nonnegative",
    "radar_peak_power_kw": "positive",
    "radar_bandwidth_mhz": "positive",
    "radar_sidelobe_level_db": "nonpositive",
    "radar_eccm_improvement_db": "nonnegative",
    "decoy_identify_p_per_look": "unit_interval",
    "esm_detection_range_km": "positive",
    "esm_reference_erp_w": "positive",
    "esm_reference_pd": "open_probability",
    "esm_pfa": "open_probability",
    "esm_scan_period_s": "positive",
    "esm_antenna_height_m": "nonnegative",
    "esm_azimuth_sigma_deg": "positive",
    "esm_elevation_sigma_deg": "positive",
    "eo_detection_range_km": "positive",
    "eo_ir_detection_range_km": "positive",
    "eo_reference_target_m": "positive",
    "eo_reference_pd": "open_probability",
    "eo_pfa": "open_probability",
    "eo_scan_period_s": "positive",
    "eo_antenna_height_m": "nonnegative",
    "eo_azimuth_sigma_deg": "positive",
    "eo_elevation_sigma_deg": "positive",
    "eo_lrf_range_sigma_m": "positive",
    "esm_frequency_ghz": "positive",
    "size_m": "positive",
    "emitter_erp_w": "positive",
}

_DOMAIN_TEXT = {"positive": "a number > 0", "nonnegative": "a number >= 0",
                "probability": "a probability in (0, 1]", "open_probability": "a probability in (0, 1)",
                "nonpositive": "a number <= 0", "unit_interval": "a probability in [0, 1]"}


def figure_domain_problem(key: str, fig: Figure) -> str | None:
    """Why a figure's value, low or high lies outside what its key allows, or None."""
    dom = FIGURE_DOMAINS.get(key)
    if dom is None:
        return None
    for name, v in (("value", fig.value), ("low", fig.low), ("high", fig.high)):
        ok = {"positive": v > 0, "nonnegative": v >= 0, "probability": 0 < v <= 1,
              "open_probability": 0 < v < 1, "nonpositive": v <= 0, "unit_interval": 0 <= v <= 1}[dom]
        if not ok:
            return f"{name} must be {_DOMAIN_TEXT[dom]}, got {v!r}"
    return None
