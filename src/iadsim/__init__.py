"""iadsim: an open, reproducible simulator and analysis toolkit for integrated air defence.

Analysis and education on public information; it drives no hardware.

>>> import iadsim
>>> scn = iadsim.load_scenario(iadsim.demo_scenario_path())
>>> res = iadsim.simulate(scn, replications=100, seed=1)
>>> res.threat_table()  # doctest: +SKIP
"""

__version__ = "0.1.0"

from iadsim.api import demo_scenario_path, simulate  # noqa: E402
from iadsim.errors import IadsimError, InputError  # noqa: E402
from iadsim.scenario import load_scenario  # noqa: E402

__all__ = ["IadsimError", "InputError", "__version__", "demo_scenario_path", "load_scenario", "simulate"]
