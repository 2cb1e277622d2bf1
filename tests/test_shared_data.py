"""The shared data set is found relative to the project, and a missing file fails a test
(skips only when IADSIM_ALLOW_MISSING_SHARED=1 says so)."""

from __future__ import annotations

import pytest

from conftest import ALLOW_MISSING_SHARED_ENV, REPO, SHARED, shared_path


def test_shared_is_next_to_the_repository_and_present():
    assert SHARED == REPO.parent / "shared"
    for parts in (("reference", "systems.yaml"), ("reference", "wta"), ("data", "N44W072.hgt")):
        assert shared_path(*parts).exists()


def test_missing_shared_data_fail_unless_skipping_is_allowed(monkeypatch):
    monkeypatch.delenv(ALLOW_MISSING_SHARED_ENV, raising=False)
    with pytest.raises(pytest.fail.Exception, match="IADSIM_ALLOW_MISSING_SHARED"):
        shared_path("no-such-folder", "x.txt")
    monkeypatch.setenv(ALLOW_MISSING_SHARED_ENV, "0")
    with pytest.raises(pytest.fail.Exception):
        shared_path("no-such-folder", "x.txt")
    monkeypatch.setenv(ALLOW_MISSING_SHARED_ENV, "1")
    with pytest.raises(pytest.skip.Exception):
        shared_path("no-such-folder", "x.txt")
