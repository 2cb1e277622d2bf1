"""Global-nearest-neighbour (GNN) association as a textbook assignment problem.

GNN (Blackman & Popoli 1999: global nearest neighbour as a 2-D assignment with
non-assignment costs): minimise the summed ``d2`` of the assigned pairs plus ``gamma`` for
each track left unassigned, each measurement going to at most one track, the pairs gated by
the chi-square gate ``gamma`` (Bar-Shalom & Fortmann 1988, validation region). Written as the
rectangular assignment problem ``[T, k + T]`` (one private "no measurement" column per track
with cost ``gamma``, infinite cost outside the gate), ``scipy.optimize.linear_sum_assignment``
(Crouse 2016, shortest augmenting path) solves it. The track core (:mod:`.core`) solves the
same problem cluster by cluster (it is block-diagonal over the connected components of the
gating graph); :func:`gnn_cost_matrix` is the reference form the tests and the benchmark use.

References
----------
- Blackman, S. & Popoli, R. (1999). *Design and Analysis of Modern Tracking Systems*.
  Artech House. ISBN 1-58053-006-0. Gating and GNN assignment.
- Bar-Shalom, Y. & Fortmann, T. E. (1988). *Tracking and Data Association*. Academic Press.
- Crouse, D. F. (2016). On implementing 2D rectangular assignment algorithms. *IEEE Trans.
  Aerosp. Electron. Syst.* 52(4), 1679-1696. doi:10.1109/TAES.2016.140952
"""

from __future__ import annotations

import numpy as np

__all__ = ["gnn_cost_matrix"]


def gnn_cost_matrix(n_tracks: int, n_meas: int, rows: np.ndarray, cols: np.ndarray,
                    d2: np.ndarray, gamma: float) -> np.ndarray:
    """The full GNN cost matrix ``[T, k + T]`` of the gated pairs (Blackman & Popoli 1999).

    Entry ``[t, j]`` is ``d2`` inside the gate and ``inf`` outside; column ``k + t`` is track
    ``t``'s "no measurement" option with cost ``gamma`` (``inf`` for the other tracks).
    ``linear_sum_assignment`` on it gives the optimal assignment that the track core finds
    cluster by cluster (:func:`iadsim.tracking.core.hungarian`); the benchmark times it as the
    reference cost of the assignment.
    """
    C = np.full((n_tracks, n_meas + n_tracks), np.inf)
    C[rows, cols] = d2
    C[np.arange(n_tracks), n_meas + np.arange(n_tracks)] = gamma
    return C
