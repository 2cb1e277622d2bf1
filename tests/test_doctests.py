"""The package's docstring examples are collected as tests (pyproject: --doctest-modules over
src/iadsim), and enough of them actually run (not all marked +SKIP)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import tomllib

import iadsim
from conftest import REPO


def test_pytest_collects_the_package_doctests():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    opts = cfg["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in opts["addopts"].split()
    assert "src/iadsim" in opts["testpaths"] and "tests" in opts["testpaths"]


def test_docstring_examples_exist_and_most_run():
    finder = doctest.DocTestFinder()
    run, skipped = 0, 0
    for info in pkgutil.walk_packages(iadsim.__path__, "iadsim."):
        if info.name.endswith("__main__"):
            continue
        mod = importlib.import_module(info.name)
        for test in finder.find(mod):
            for ex in test.examples:
                if ex.options.get(doctest.SKIP):
                    skipped += 1
                else:
                    run += 1
    # the WTA interface examples (iadsim.c2, iadsim.c2.wta) and the tracking one at least
    assert run >= 10, (run, skipped)
