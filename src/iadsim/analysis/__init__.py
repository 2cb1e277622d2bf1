"""Analyses built on many runs: sensitivity of outcomes to disputed catalog figures."""

from iadsim.analysis.sensitivity import OUTCOME_KINDS, SensitivityResult, sensitivity

__all__ = ["OUTCOME_KINDS", "SensitivityResult", "sensitivity"]
