"""The sensor interface: every sensor type is one module with one class registered here.

A sensor type turns a catalog system at a site into a spec (:meth:`SensorType.spec`), gives the
kernels the nominal **equivalent SNR** of each look at a threat in its line of sight
(:meth:`SensorType.snr`: the kernels' single detection draw, :func:`iadsim.engine.kernel.detects`,
detects with the Swerling 1 law Pd = Pfa^(1/(1+SNR)) for every type), and says what full
fidelity measures (:meth:`SensorType.measurement`). A type whose own detection law is a Pd
(a table, a Johnson-criteria curve) maps it exactly onto that draw with :func:`equivalent_snr`.

Adding a sensor type: one module with a subclass of :class:`SensorType` decorated with
:func:`register`, a catalog entry (``kind: sensor``, ``sensor_type: <name>``) and its tests; see
docs/sensors.md for a worked example.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from iadsim.catalog import System
from iadsim.catalog.models import SENSOR_TYPE_FIGURES
from iadsim.coverage.specs import RadarSpec
from iadsim.physics.radar import snr_required

#: every sensor type's spec is this record (the radar's fields, plus ``sensor_type`` and the type's
#: own ``params``): the line-of-sight rasters, scans, sectors and site attacks read it
SensorSpec = RadarSpec

FigureGetter = Callable[[System, str, str], float]

#: the equivalent SNR of a look with Pd = 1 (Pd = Pfa^(1/(1+SNR)) is 1 - 1e-5 or more there for
#: any Pfa above 1e-40) [1]
SNR_CAP = 1.0e7


def equivalent_snr(pd, pfa) -> np.ndarray:
    """The mean SNR [1] at which the Swerling 1 single-look law Pd = Pfa^(1/(1+SNR)) (Swerling
    1960, case 1; Skolnik 2001 ch. 2) gives probability ``pd``: SNR = ln(Pfa) / ln(Pd) - 1.
    A look with Pd <= Pfa maps to 0 (the kernels then skip the look: no detection, which differs
    from the law's Pd = Pfa by at most Pfa); Pd = 1 maps to :data:`SNR_CAP`."""
    pd = np.asarray(pd, dtype=float)
    pfa = np.broadcast_to(np.asarray(pfa, dtype=float), pd.shape)
    out = np.zeros(pd.shape)
    mid = (pd > pfa) & (pd < 1.0)
    out[mid] = snr_required(pd[mid], pfa[mid], model="swerling1")   # the one inverse of the law
    out[pd >= 1.0] = SNR_CAP
    return np.minimum(out, SNR_CAP)


@dataclass(frozen=True)
class Site:
    """Where a sensor stands: local x, y [m], the ground there and the site's altitude [m MSL]."""

    name: str
    where: str            # field path in the scenario, e.g. "sensors[1]"
    x: float
    y: float
    ground: float
    alt: float            # the site's altitude [m MSL] (ground, or its height above MSL)
    sector: tuple[float, float, float, float]
    entry: object = None  # the scenario's entry (iadsim.scenario.models.Sensor or Effector)
    source: str = "scenario"  # the scenario file (for input errors)


@dataclass(frozen=True)
class Looks:
    """The looks a detection model rates: n (step, threat) pairs in the sensor's line of sight,
    inside its sector and range bound."""

    pos: np.ndarray            # [n, 3] x, y [m], altitude [m MSL]
    vel: np.ndarray            # [n, 3] [m/s]
    rcs_m2: np.ndarray         # [n] radar cross-section [m2]
    emitter_erp_w: np.ndarray  # [n] effective radiated power of what the threat emits [W]; 0: silent
    size_m: np.ndarray         # [n] the threat's characteristic size [m] (catalog size_m; NaN: not given)
    terrain: object            # iadsim.geo.terrain.Terrain
    mva: np.ndarray            # the sensor's minimum-visible-altitude raster
    clutter: str               # the scenario's clutter class
    slope: tuple               # terrain slope rasters (iadsim.engine.world.terrain_slope)


@dataclass(frozen=True)
class Measurement:
    """What full fidelity measures: Gaussian noise on range, azimuth, elevation. ``range_sigma_m``
    None: the sensor measures no range (bearing only)."""

    range_sigma_m: float | None
    azimuth_sigma_rad: float
    elevation_sigma_rad: float
    min_elevation_rad: float


class SensorType(ABC):
    """One sensor type. Subclasses set the class attributes and implement the three methods."""

    #: the catalog's ``sensor_type`` value
    name: ClassVar[str]
    #: catalog figures a system of this type must have, with their units
    figures: ClassVar[dict[str, str]]
    #: noise jamming lowers its SNR (iadsim.engine.ew; a type that is not jammed never is)
    jammed: ClassVar[bool] = False
    #: what the model leaves out (printed by the report)
    model_text: ClassVar[str]
    #: what outputs call a sensor of this type ("Radar", "ESM receiver"; KML and CZML site labels);
    #: default: the type's name
    display_name: ClassVar[str] = ""

    @abstractmethod
    def spec(self, system: System, site: Site, figure: FigureGetter):
        """The sensor's spec (:class:`iadsim.coverage.specs.RadarSpec` with ``sensor_type`` set)."""

    @abstractmethod
    def snr(self, spec, looks: Looks) -> np.ndarray:
        """[n] nominal equivalent SNR [1] of each look; 0: not detectable."""

    @abstractmethod
    def measurement(self, spec, system: System, figure: FigureGetter) -> Measurement:
        """Full fidelity's measurement model (its figures read through ``figure``)."""

    def full_figures(self, system: System) -> tuple[str, ...]:
        """Figures full fidelity needs beyond :attr:`figures` (missing ones are an input error)."""
        return ()


#: the registered sensor types, by name
SENSOR_TYPES: dict[str, SensorType] = {}


def register(cls: type[SensorType]) -> type[SensorType]:
    """Class decorator: register a sensor type (and the figures its catalog entries need)."""
    SENSOR_TYPES[cls.name] = cls()
    SENSOR_TYPE_FIGURES[cls.name] = dict(cls.figures)
    return cls


def sensor_display_name(system: System) -> str:
    """What outputs call a catalog sensor: its type's display name ('Radar', 'ESM receiver'...), or
    the type's name where the type gives none (or is not registered)."""
    try:
        st = sensor_type_of(system)
    except KeyError:
        return str(getattr(system, "sensor_type", None) or "sensor")
    return st.display_name or st.name


def sensor_type_of(system: System) -> SensorType:
    """The sensor type of a catalog system: a fire unit's organic sensor is a radar."""
    name = getattr(system, "sensor_type", "radar") if system.kind == "sensor" else "radar"
    return SENSOR_TYPES[name]
