"""Pure, vectorised physics: radar equation, detection, horizon, intercept, engagement.

Every function takes SI floats or numpy arrays, broadcasts its arguments and
cites its source equation; see the submodules for the references.
"""

from __future__ import annotations

from .engagement import (
    cumulative_pk,
    expected_shots_salvo,
    expected_shots_shoot_look_shoot,
    in_envelope,
    kill_probability_salvo,
)
from .horizon import (
    EARTH_RADIUS_M,
    K_FOUR_THIRDS,
    curvature_coefficient_to_k,
    curvature_drop_m,
    effective_earth_radius_m,
    k_to_curvature_coefficient,
    radar_horizon_m,
)
from .kinematics import (
    ground_range_m,
    intercept_time_s,
    predicted_intercept_point_m,
    slant_range_m,
)
from .radar import (
    DETECTION_MODELS,
    albersheim_snr_db,
    db_to_linear,
    detection_probability,
    detection_probability_reference_form,
    detection_range_m,
    linear_to_db,
    pd_swerling0,
    pd_swerling1,
    snr_reference_form,
    snr_required,
)

__all__ = [
    # radar
    "DETECTION_MODELS",
    "albersheim_snr_db",
    "db_to_linear",
    "detection_probability",
    "detection_probability_reference_form",
    "detection_range_m",
    "linear_to_db",
    "pd_swerling0",
    "pd_swerling1",
    "snr_reference_form",
    "snr_required",
    # horizon
    "EARTH_RADIUS_M",
    "K_FOUR_THIRDS",
    "curvature_coefficient_to_k",
    "curvature_drop_m",
    "effective_earth_radius_m",
    "k_to_curvature_coefficient",
    "radar_horizon_m",
    # kinematics
    "ground_range_m",
    "intercept_time_s",
    "predicted_intercept_point_m",
    "slant_range_m",
    # engagement
    "cumulative_pk",
    "expected_shots_salvo",
    "expected_shots_shoot_look_shoot",
    "in_envelope",
    "kill_probability_salvo",
]
