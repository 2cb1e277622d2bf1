"""A tracker's first scans in a fresh process call one compiled function to build its structures
and one per scan: each compiled function Python calls loads its own cache index and library,
which the tracking benchmark's warm-cache figure counts. The structures' arrays come back with
the call that builds them and are the structures' own (a write from Python reaches the core)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import iadsim
from iadsim.tracking import ConstantVelocity, Tracker, core
from iadsim.tracking.sequential import SequentialTracker

_SCANS = [[[200.0 * t, 5000.0, 1000.0], [-3000.0, 150.0 * t, 2000.0]] for t in range(5)]


def _compiled_calls(code: str) -> list[str]:
    """Names of the compiled functions of the tracking package that ``code`` dispatched from
    Python, in a fresh process."""
    probe = (code + "\nimport json, numba\nfrom iadsim.tracking import core, tracker\n"
             "print(json.dumps(sorted(f'{m.__name__}.{n}' for m in (core, tracker) "
             "for n, f in vars(m).items() if isinstance(f, numba.core.dispatcher.Dispatcher) "
             "and f.overloads)))")
    env = dict(os.environ, PYTHONPATH=str(Path(iadsim.__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sequential_tracker_dispatches_two_compiled_functions():
    code = ("import numpy as np\nfrom iadsim.tracking.sequential import SequentialTracker\n"
            "trk = SequentialTracker(dt=1.0, q=1.0, gate=11.34, init_gate=25.9, max_speed=400.0, "
            "confirm_m=2, confirm_n=3, delete_after_steps=3)\n"
            f"for t, z in enumerate({_SCANS!r}):\n"
            "    out = trk.step(t, z, np.diag([900.0] * 3))\n"
            "assert len(out['slot']) == 2 and out['confirmed'].all()\n")
    assert _compiled_calls(code) == ["iadsim.tracking.core.new_tracker_fields",
                                     "iadsim.tracking.core.scan_step"]


def test_tracker_dispatches_two_compiled_functions():
    code = ("import numpy as np\nfrom iadsim.tracking import ConstantVelocity, Tracker\n"
            "trk = Tracker(ConstantVelocity(1.0, ndim=3), init_m=2, init_n=3, delete_after=3)\n"
            f"for t, z in enumerate({_SCANS!r}):\n"
            "    out = trk.step(float(t), z, np.diag([900.0] * 3))\n"
            "assert len(out) == 2\n")
    assert _compiled_calls(code) == ["iadsim.tracking.core.new_tables_fields",
                                     "iadsim.tracking.tracker.tracker_scan"]


def test_seeded_fields_are_the_structures_arrays():
    trk = SequentialTracker(dt=1.0, q=1.0, gate=11.34, init_gate=25.9, max_speed=400.0, confirm_m=2,
                            confirm_n=3, delete_after_steps=3)
    R = np.diag([900.0] * 3)
    for t, z in enumerate(_SCANS[:3]):
        trk.step(t, z, R)
    assert set(core._TRACK_TABLE_FIELDS) <= set(dir(trk.table))
    for name, arr in zip(core._TRACK_TABLE_FIELDS, core._table_arrays(trk.table)):
        assert np.shares_memory(getattr(trk.table, name), arr), name
    # a track dropped from Python is gone for the core: its slot takes the next new track
    assert len(trk.tracks["slot"]) == 2
    trk.drop([0, 1])
    assert len(trk.step(3, _SCANS[3][:1], R)["slot"]) == 1
    tr = Tracker(ConstantVelocity(1.0, ndim=3))
    for name, arr in zip(core._SCAN_WORK_FIELDS, core._work_arrays(tr._work)):
        assert np.shares_memory(getattr(tr._work, name), arr), name
