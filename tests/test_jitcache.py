"""numba's cache is dropped when a compiled source changes (iadsim.jitcache): numba itself checks
only the file defining a function, so a kernel inlining a function of another file would keep
running the old code after that file changed."""

from __future__ import annotations

from iadsim.jitcache import COMPILED_PACKAGES, ensure_fresh, sources_digest


def _tree(tmp_path):
    root = tmp_path / "iadsim"
    for pkg in COMPILED_PACKAGES:
        (root / pkg / "__pycache__").mkdir(parents=True)
        (root / pkg / "mod.py").write_text("X = 1\n")
    (root / "cli").mkdir()
    (root / "cli" / "mod.py").write_text("Y = 1\n")
    return root


def _cached(root, name="tracking"):
    f = root / name / "__pycache__" / "mod.fn-1.py311.nbi"
    f.write_bytes(b"index")
    return f


def test_a_changed_source_drops_every_compiled_package_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    root = _tree(tmp_path)
    assert ensure_fresh(root)                       # no stamp yet: cleared, stamp written
    kept = _cached(root, "engine")
    assert not ensure_fresh(root) and kept.exists()  # same sources: the cache stays
    (root / "tracking" / "mod.py").write_text("X = 2\n")   # another file than the kernel's changes
    assert ensure_fresh(root)
    assert not kept.exists()                       # the engine's kernel compiles again
    assert not ensure_fresh(root)


def test_files_outside_the_compiled_packages_do_not_count(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    root = _tree(tmp_path)
    ensure_fresh(root)
    d = sources_digest(root)
    (root / "cli" / "mod.py").write_text("Y = 2\n")
    assert sources_digest(root) == d
    (root / "physics" / "mod.py").write_text("X = 3\n")
    assert sources_digest(root) != d


def test_a_separate_numba_cache_dir_is_left_alone(tmp_path, monkeypatch):
    root = _tree(tmp_path)
    f = _cached(root)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert not ensure_fresh(root) and f.exists()
