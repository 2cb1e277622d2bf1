"""Sensors: one module per sensor type behind one interface (:mod:`iadsim.sensors.base`).

- :mod:`iadsim.sensors.radar`: the radar (radar equation, clutter, MTI, multipath; jammable);
- :mod:`iadsim.sensors.esm`: a passive ESM receiver (detects what threats emit; bearing only);
- :mod:`iadsim.sensors.eo`: an electro-optical / infrared sensor (Johnson-criteria detection of
  a target's size; angles, and range with a laser range finder).

A catalog sensor names its type (``sensor_type``; default radar); a fire unit's organic sensor is
its radar. docs/sensors.md shows how to add a type.
"""

from __future__ import annotations

import numpy as np

from iadsim.sensors.base import (
    SENSOR_TYPES, Looks, Measurement, SensorSpec, SensorType, Site, equivalent_snr, register, sensor_display_name,
    sensor_type_of,
)
from iadsim.sensors import radar as _radar  # noqa: F401  (registers "radar")
from iadsim.sensors import esm as _esm  # noqa: F401  (registers "esm")
from iadsim.sensors import eo as _eo  # noqa: F401  (registers "eo")

__all__ = ["SENSOR_TYPES", "Looks", "Measurement", "SensorSpec", "SensorType", "Site", "Signatures", "equivalent_snr",
           "register", "sensor_display_name", "sensor_model_texts", "sensor_type_named", "sensor_type_of",
           "threat_signatures"]


def sensor_type_named(name: str) -> SensorType:
    return SENSOR_TYPES[name]


def sensor_model_texts(specs, signatures: "Signatures | None" = None) -> dict[str, str]:
    """The assumption texts of the sensor types other than the radar in use (the radar's are the
    'detection', 'line_of_sight' and 'jamming' texts), keyed 'sensor_<type>', naming the sensors."""
    out = {}
    for name, st in SENSOR_TYPES.items():
        used = [r.name for r in specs if r.sensor_type == name]
        if name != "radar" and used:
            out[f"sensor_{name}"] = f"{st.model_text} (sensors: {', '.join(used)})"
    if "sensor_eo" in out and signatures is not None and signatures.unsized:
        out["sensor_eo"] += ("; threat types without a catalog size_m are never detected by optical sensors: "
                             + ", ".join(signatures.unsized))
    return out


class Signatures:
    """Per threat member: what it emits (ERP [W], 0: silent) and its size [m] (NaN: not given)."""

    def __init__(self, erp_w: np.ndarray, size_m: np.ndarray, unsized: list[str] | None = None):
        self.erp_w = erp_w
        self.size_m = size_m
        self.unsized = unsized or []   # threat types without a catalog size_m (optical sensors miss them)


def threat_signatures(ld, sensors, group, parent, types, log) -> Signatures:
    """The emitters and sizes of the threat members ``types`` (catalog names; ``group``: the
    scenario threat of each, ``parent`` >= 0: a weapon released by another member). A member emits
    the stronger of its jammer's ERP (jammer_power_w x antenna gain; iadsim.engine.ew) and its
    catalog emitter_erp_w (a radar it uses). Figures are read (and listed in the run's figures)
    only where a sensor that needs them is in the scenario: a radar-only run reads none."""
    from iadsim.engine.ew import jammer_figures

    s = ld.scenario
    cat = ld.catalog
    M = len(types)
    erp = np.zeros(M)
    size = np.full(M, np.nan)
    kinds = {x.sensor_type for x in sensors}
    if "esm" in kinds or any(k not in ("radar", "eo") for k in kinds):
        for mi in range(M):
            thr = s.threats[int(group[mi])]
            sysm = cat[types[mi]]
            if "emitter_erp_w" in sysm.figures:
                erp[mi] = log.get(sysm, "emitter_erp_w", "passive detection")
            if thr.jammer is not None and parent[mi] < 0:
                erp[mi] = max(erp[mi], jammer_figures(cat[thr.jammer.system], log)["erp_w"])
    unsized = set()
    if "eo" in kinds or any(k not in ("radar", "esm") for k in kinds):
        for mi in range(M):
            sysm = cat[types[mi]]
            if "size_m" in sysm.figures:
                size[mi] = log.get(sysm, "size_m", "optical detection")
            else:
                unsized.add(sysm.name)
    return Signatures(erp, size, sorted(unsized))
