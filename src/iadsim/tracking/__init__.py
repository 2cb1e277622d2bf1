"""Multi-target tracking: the central tracker that fuses all radars.

One compiled track core (:mod:`.core`, numba, cached on disk) does the tracking: the
full-fidelity engine runs it, :class:`~.sequential.SequentialTracker` drives it scan by scan as
the engine does, and :class:`Tracker` is a thin class over it for continuous time, 2-D or 3-D,
polar measurements and track scores. Pure, vectorised numpy functions on SI arrays give the
textbook equations (:mod:`.models`, :mod:`.kalman`, :mod:`.imm`, :mod:`.jpda`, :mod:`.metrics`)
that the tests hold the core to.

>>> import numpy as np
>>> from iadsim.tracking import ConstantVelocity, Tracker
>>> trk = Tracker(ConstantVelocity(q=1.0, ndim=2), gate_probability=0.99, init_m=2, init_n=3,
...               delete_after=3, association="gnn", filter="kf")
>>> R = np.diag([10.0**2, 10.0**2])                      # [m^2]
>>> for k in range(4):                                    # one target at 200 m/s east
...     out = trk.step(float(k), [[200.0 * k, 1000.0]], R)
>>> len(out), out.x.shape                                 # confirmed tracks: [T, 4]
(1, (1, 4))
"""

from iadsim.tracking.association import gnn_cost_matrix
from iadsim.tracking.imm import imm_combine, imm_mix, imm_mode_probabilities, markov_matrix
from iadsim.tracking.jpda import jpda_weights
from iadsim.tracking.kalman import (
    gate_threshold,
    gaussian_loglik,
    innovation,
    kf_predict,
    kf_update,
    mahalanobis2,
)
from iadsim.tracking.metrics import ospa
from iadsim.tracking.models import (
    ConstantVelocity,
    CoordinatedTurn,
    converted_measurement,
    ct_transition_matrix,
    cv_process_noise,
    cv_transition_matrix,
    polar_to_cartesian,
    position_measurement_matrix,
)
from iadsim.tracking.tracker import CONFIRMED, TENTATIVE, TIME_STEP, TrackHistory, Tracker, Tracks

__all__ = [
    "CONFIRMED",
    "TENTATIVE",
    "TIME_STEP",
    "ConstantVelocity",
    "CoordinatedTurn",
    "TrackHistory",
    "Tracker",
    "Tracks",
    "converted_measurement",
    "ct_transition_matrix",
    "cv_process_noise",
    "cv_transition_matrix",
    "gate_threshold",
    "gaussian_loglik",
    "gnn_cost_matrix",
    "imm_combine",
    "imm_mix",
    "imm_mode_probabilities",
    "innovation",
    "jpda_weights",
    "kf_predict",
    "kf_update",
    "mahalanobis2",
    "markov_matrix",
    "ospa",
    "polar_to_cartesian",
    "position_measurement_matrix",
]
