"""iadsim: an open, reproducible simulator and analysis toolkit for integrated air defence.

Analysis and education on public information; it drives no hardware.

>>> import iadsim
>>> scn = iadsim.load_scenario(iadsim.demo_scenario_path())
>>> res = iadsim.simulate(scn, replications=100, seed=1)
>>> res.threat_table()  # doctest: +SKIP

The top-level names are imported on first use, so ``import iadsim.engine.kernel`` (a worker
process) or ``iadsim --help`` does not pay for pandas, plotly or SciPy.
"""

__version__ = "0.1.0"

from iadsim.jitcache import ensure_fresh as _ensure_fresh  # noqa: E402

_ensure_fresh()   # numba's cached kernels match today's source (iadsim.jitcache)

_LAZY = {
    "simulate": "iadsim.api",
    "demo_scenario_path": "iadsim.api",
    "load_scenario": "iadsim.scenario",
    "IadsimError": "iadsim.errors",
    "InputError": "iadsim.errors",
}

__all__ = ["IadsimError", "InputError", "__version__", "demo_scenario_path", "load_scenario", "simulate"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'iadsim' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
