"""Multi-target tracking: the central tracker that fuses all radars.

Pure, vectorised numpy functions on SI arrays do the numerics (:mod:`.models`, :mod:`.kalman`,
:mod:`.imm`, :mod:`.jpda`, :mod:`.metrics`); numba kernels (cached on disk) do the loops that
cannot be vectorised (gating sweep, assignment reduction, JPDA event enumeration); the
:class:`Tracker` wires them, holding its tracks in arrays.

>>> import numpy as np
>>> from iadsim.tracking import ConstantVelocity, Tracker
>>> trk = Tracker(ConstantVelocity(q=1.0, ndim=2), gate_probability=0.99, init_m=2, init_n=3,
...               delete_after=3, association="gnn", filter="kf")
>>> R = np.diag([10.0**2, 10.0**2])                      # [m^2]
>>> for k in range(4):                                    # one target at 200 m/s east
...     out = trk.step(float(k), [[200.0 * k, 1000.0]], R)
>>> len(out), out.x.shape                                 # confirmed tracks: [T, 4]
(1, (1, 4))

Batching replications: see :mod:`.tracker` (arrays with a leading replication axis and a
live mask; the pure functions broadcast over it).
"""

from iadsim.tracking.association import gate_pairs, gnn_assign, gnn_cost_matrix
from iadsim.tracking.imm import imm_combine, imm_mix, imm_mode_probabilities, markov_matrix
from iadsim.tracking.jpda import jpda_weights, mixture_update
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
from iadsim.tracking.tracker import CONFIRMED, TENTATIVE, TrackHistory, Tracker, Tracks

__all__ = [
    "CONFIRMED",
    "TENTATIVE",
    "ConstantVelocity",
    "CoordinatedTurn",
    "TrackHistory",
    "Tracker",
    "Tracks",
    "converted_measurement",
    "ct_transition_matrix",
    "cv_process_noise",
    "cv_transition_matrix",
    "gate_pairs",
    "gate_threshold",
    "gaussian_loglik",
    "gnn_assign",
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
    "mixture_update",
    "ospa",
    "polar_to_cartesian",
    "position_measurement_matrix",
]
