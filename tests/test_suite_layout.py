"""How the suite is split over pytest-xdist workers (tests/conftest.py): one group per test file,
the Ray files in one group, nothing changed without xdist."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import conftest
from conftest import REPO


class _Item:
    def __init__(self, rel: str, group: str | None = None):
        self.path = REPO / rel
        self.marks = [pytest.mark.xdist_group(group).mark] if group else []

    def get_closest_marker(self, name):
        return next((m for m in self.marks if m.name == name), None)

    def add_marker(self, mark):
        self.marks.append(mark.mark)

    def group(self):
        m = self.get_closest_marker("xdist_group")
        return m.args[0] if m else None


def _items():
    return [_Item("tests/test_ray.py"), _Item("tests/test_ray_faults.py"), _Item("tests/test_engine.py"),
            _Item("tests/test_engine.py"), _Item("src/iadsim/results/stats.py"), _Item("tests/test_x.py", "own")]


def test_each_file_is_one_group_and_the_ray_files_share_one(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    items = _items()
    conftest.pytest_collection_modifyitems(SimpleNamespace(rootpath=Path(REPO)), items)
    groups = [i.group() for i in items]
    assert groups[0] == groups[1] == "ray"
    assert groups[2] == groups[3] == "tests/test_engine.py"
    assert groups[4] == "src/iadsim/results/stats.py"
    assert groups[5] == "own"                      # a test's own group is kept
    assert set(conftest.SERIAL_GROUPS) <= {p.relative_to(REPO).as_posix() for p in (REPO / "tests").glob("*.py")}


def test_without_xdist_nothing_changes(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    items = _items()
    conftest.pytest_collection_modifyitems(SimpleNamespace(rootpath=Path(REPO)), items)
    assert [i.group() for i in items] == [None] * 5 + ["own"]
