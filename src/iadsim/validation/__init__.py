"""Validation against public historical outcomes: cases, runner and page (``iadsim validation``)."""

from iadsim.validation.cases import MEASURES, Case, LoadedCase, default_suite, load_case, load_suite
from iadsim.validation.runner import CaseResult, failed, run_case, run_suite, to_dict

__all__ = ["MEASURES", "Case", "LoadedCase", "CaseResult", "default_suite", "load_case", "load_suite",
           "run_case", "run_suite", "failed", "to_dict"]
