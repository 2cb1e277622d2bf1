"""Atomic writes: a file is written under a temporary name and renamed into place, so an
interrupted run never leaves a half-written file under a final name.

The temporary name is hidden and marked: ``.<name>.<pid>.<random>.part`` beside the final file.
A finished file is flushed to disk (``fsync``) before the rename, so a file under its final
name is complete even after a power cut. A write that fails (disk full, quota, file size
limit, permissions, ...) removes its temporary file and raises :class:`OutputError` naming the
file; files finished before it are untouched. Temporary files of a process that was killed
(``kill -9``, no chance to clean up) are removed by the next :func:`prepare_out_dir` of that
folder.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

from iadsim.errors import OutputError

_UMASK = os.umask(0)
os.umask(_UMASK)

#: temporary files of atomic writes: .<final name>.<pid>.<random>.part
TEMP_SUFFIX = ".part"
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.part$")
_PROBE_PREFIX = ".iadsim-write-test."
_PROBE_RE = re.compile(r"^\.iadsim-write-test\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+$")

#: set IADSIM_FSYNC=0 to skip flushing files to disk before the rename (faster on slow network
#: disks; a file is then still never half-written after a crash of iadsim, but may be after a
#: crash of the whole machine)
_FSYNC = os.environ.get("IADSIM_FSYNC", "1") not in ("0", "false", "no")

_HINTS = {
    errno.ENOSPC: "the disk is full: free some space or choose another output folder, then run again",
    errno.EDQUOT: "the disk quota is used up: free some space or choose another output folder",
    errno.EFBIG: "the file is larger than this system allows (see `ulimit -f`)",
    errno.EROFS: "the file system is read-only: choose another output folder",
    errno.EACCES: "permission denied: choose another output folder",
    errno.EPERM: "permission denied: choose another output folder",
}
_IO_WORDS = ("No space left on device", "Disk quota exceeded", "File too large", "Input/output error",
             "Read-only file system")


def _errno_of(exc: BaseException) -> int | None:
    code = getattr(exc, "errno", None)
    if isinstance(exc, OSError) and isinstance(code, int):  # (GDAL's errors carry its own numbers)
        return code
    text = str(exc)
    for code, words in ((errno.ENOSPC, "No space left"), (errno.EDQUOT, "quota"),
                        (errno.EFBIG, "File too large"), (errno.EROFS, "Read-only file system"),
                        (errno.EIO, "Input/output error")):
        if words in text:
            return code
    return None


def _is_write_failure(exc: BaseException) -> bool:
    """An OSError, or a library's own exception (GDAL, Arrow) that wraps a failed write."""
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, Exception):
        text = str(exc)
        return any(w in text for w in _IO_WORDS)
    return False


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in out and len(out) < 10:
        out.append(e)
        e = e.__cause__ or e.__context__
    return out


def write_failed(path: str | Path, exc: BaseException) -> OutputError:
    """The OutputError for a failed write of ``path``: what happened and what to do.

    The cause is looked for along the exception's chain (libraries wrap the OSError)."""
    code, reason = None, None
    for e in _chain(exc):
        code = _errno_of(e)
        if code is not None:
            reason = getattr(e, "strerror", None) or str(e)
            break
    reason = reason or getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    hint = _HINTS.get(code, "") if code is not None else ""
    return OutputError(f"cannot write {path}: {reason.rstrip('.')}" + (f"; {hint}" if hint else "")
                       + ". Files finished before it are complete; nothing half-written was kept.")


def _disk_full(folder: str | Path) -> bool:
    """No free block left on the file system of ``folder`` (what root, or a user, may use).

    Some writers (GDAL's GeoTIFF driver among them) report a failed write only as a log line and
    return normally, leaving a truncated file; when such a file does not read back, a full file
    system is the likely reason and the message says so."""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):
        return False
    if st.f_blocks == 0:  # pseudo file systems report no sizes
        return False
    free = st.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else st.f_bavail
    return free == 0


def readable_raster(path: Path) -> None:
    """A ``check`` for :func:`write_with`: the file opens as a raster and every band reads."""
    import rasterio

    with rasterio.open(path) as ds:
        ds.read()


#: files checked by reading them back when the caller gives no check: GDAL reports a failed
#: GeoTIFF write (disk full, file size limit) as a log line, not an exception
_DEFAULT_CHECKS: dict[str, Callable[[Path], None]] = {".tif": readable_raster, ".tiff": readable_raster}


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every file system can sync a folder; the file itself is synced
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | Path, check: Callable[[Path], None] | None = None):
    """Yield a temporary path beside ``path``; on success flush it and rename it to ``path``.

    ``check(tmp)``, if given, runs on the finished temporary file and raises if it is not
    complete (default for ``.tif``: :func:`readable_raster`). On any failure the temporary file is
    removed; a failed write (OSError, a library's error saying the disk is full, a failed
    ``check``) becomes :class:`OutputError`; other exceptions pass unchanged."""
    path = Path(path)
    if check is None:
        check = _DEFAULT_CHECKS.get(path.suffix.lower())
    _record(path)  # before the temporary file exists: a later run may remove it if this one dies
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX,
                                   dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise write_failed(path, exc) from exc
    try:
        yield Path(tmp)
        if check is not None:
            try:
                check(Path(tmp))
            except Exception as exc:  # noqa: BLE001 - any failure to read back is a failed write
                if _disk_full(path.parent):  # the usual reason a library failed quietly
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), tmp) from exc
                raise OSError(errno.EIO, f"the file written does not read back ({exc})", tmp) from exc
        if _FSYNC:
            _fsync_file(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; finished files get the usual mode
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if not isinstance(exc, OutputError) and _is_write_failure(exc):
            raise write_failed(path, exc) from exc
        raise
    if _FSYNC:
        _fsync_dir(path.parent)


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_with(path: str | Path, writer: Callable[[Path], None],
               check: Callable[[Path], None] | None = None) -> Path:
    """``writer(tmp)`` writes the file; ``check(tmp)`` (optional) proves it complete."""
    with atomic_path(path, check=check) as tmp:
        writer(tmp)
    return Path(path)


def ensure_dir(folder: str | Path) -> Path:
    """Create a folder (and parents) for outputs; a failure (disk full, permissions, a file in the
    way) is an :class:`OutputError`, not a bare OSError."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed(folder, exc) from exc
    return folder


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: leave its files alone
    return True


def remove_stale_temp_files(folder: str | Path, max_entries: int = 10_000) -> list[Path]:
    """Remove temporary files of atomic writes whose process is gone (killed part-way), in
    ``folder`` and its immediate subfolders; returns what was removed.

    Only temporary files of names iadsim wrote there (listed in the folder's manifest) are
    removed: a user's file that merely looks like one is left alone. A folder without a
    manifest is not touched."""
    folder = Path(folder)
    removed: list[Path] = []
    m = read_manifest(folder)
    if m is None:
        return removed
    ours = m[1]
    seen = 0
    dirs = [folder]
    try:
        dirs += [d for d in folder.iterdir() if d.is_dir() and not d.is_symlink()]
    except OSError:
        return removed
    for d in dirs:
        try:
            entries = list(d.iterdir())
        except OSError:
            continue
        prefix = "" if d == folder else d.name + "/"
        for p in entries:
            seen += 1
            if seen > max_entries:
                return removed
            m_tmp = _TEMP_RE.match(p.name)
            m_probe = _PROBE_RE.match(p.name)
            if m_tmp is not None:
                if prefix + m_tmp.group("name") not in ours or _pid_alive(int(m_tmp.group("pid"))):
                    continue
            elif m_probe is None or d != folder or _pid_alive(int(m_probe.group("pid"))):
                continue
            try:
                if p.is_file() and not p.is_symlink():
                    p.unlink()
                    removed.append(p)
            except OSError:
                pass
    return removed


def prepare_out_dir(out: str | Path, invalidate: Iterable[str] = (), kind: str = "output",
                    force: bool = True) -> Path:
    """Create the output folder (and parents) or fail with a clear OutputError; check it is writable.

    The folder gets a manifest (``.iadsim-manifest``, of this ``kind``) that records every file
    iadsim writes there. Unless ``force``, a non-empty folder that is not an iadsim folder of the
    same kind is refused (:func:`check_out_folder`).

    Removes temporary files left by a killed earlier run, and the files named in ``invalidate``
    (e.g. ``("summary.json",)``, the file a bundle writes last as its mark of completeness), so
    that an interrupted rerun never leaves an old completion mark beside new files. Both only
    when iadsim wrote them (they are in the manifest).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output folder {out} exists and is not a folder")
    if not force:
        check_out_folder(out, kind)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=f"{_PROBE_PREFIX}{os.getpid()}.", delete=True)
        probe.close()
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {out}: {exc.strerror or exc}") from None
    _create_manifest(out, kind)
    remove_stale_temp_files(out)
    ours = (read_manifest(out) or ("", set()))[1]
    for name in invalidate:
        if name not in ours and _legacy_kind(out) is None:
            continue  # not iadsim's file: leave it (it is replaced, atomically, when written)
        try:
            (out / name).unlink(missing_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot replace {out / name}: {exc.strerror or exc}") from None
    return out


def check_out_dir_writable(out: str | Path, need_bytes: int | None = None) -> None:
    """Fail early, before any work, if ``out`` could not be created or written; create nothing.

    ``need_bytes``: also fail if the file system has less free space than that."""
    out = Path(out).absolute()
    p = out
    while not p.exists():
        p = p.parent
    if not p.is_dir():
        raise OutputError(f"output folder {out}: {p} is a file, not a folder")
    if not os.access(p, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {out}: {p} is not writable")
    if need_bytes:
        try:
            free = shutil.disk_usage(p).free
        except OSError:
            return
        if free < need_bytes:
            raise OutputError(f"output folder {out}: {free / 1024**2:.0f} MiB free on its disk, the outputs "
                              f"need about {need_bytes / 1024**2:.0f} MiB; free some space or choose "
                              "another folder")


# ----------------------------------------------------------------------------- output folders
#
# A folder iadsim writes into is marked with a manifest, ``.iadsim-manifest``: its first line
# names the kind of folder ("run", "coverage", "sensitivity", ...), every further line (a JSON
# string) the relative path of a file iadsim wrote there. The line is appended *before* the
# temporary file is created, so even the temporary files of a killed process are accounted
# for: only files listed there are ever removed or replaced by a later command, and a
# non-empty folder without a manifest (someone else's) is refused unless the user forces it.

MANIFEST = ".iadsim-manifest"
LOCK = ".iadsim.lock"
_MANIFEST_HEAD = "iadsim-output-folder 1 "
#: a larger manifest is not iadsim's (a run writes tens of names; a coverage run hundreds)
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
#: files of iadsim's own bookkeeping; a folder holding only these is empty for the checks
_BOOKKEEPING = {MANIFEST, LOCK}


def read_manifest(folder: str | Path) -> tuple[str, set[str]] | None:
    """(kind, relative paths iadsim wrote) of a folder's manifest; None if it has none."""
    p = Path(folder) / MANIFEST
    try:
        if not p.is_file() or p.is_symlink() or p.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    if not lines or not lines[0].startswith(_MANIFEST_HEAD):
        return None
    names: set[str] = set()
    for line in lines[1:]:
        try:
            name = json.loads(line)
        except ValueError:
            continue  # a line cut by a kill: its file was never created
        if isinstance(name, str):
            names.add(name)
    return lines[0][len(_MANIFEST_HEAD):].strip(), names


def _manifest_root(path: Path) -> Path | None:
    """The folder (``path``'s own or its parent's) whose manifest records ``path``."""
    for root in (path.parent, path.parent.parent):
        if (root / MANIFEST).is_file():
            return root
    return None


def _record(path: Path) -> None:
    """Append ``path`` to the manifest of its output folder (if it is in one)."""
    root = _manifest_root(path)
    if root is None:
        return
    if root != path.parent and path.parent.is_symlink():
        # a shared folder whose coverage/ (say) links elsewhere would make iadsim write there
        raise OutputError(f"{path.parent} is a symbolic link; iadsim writes only into real folders "
                          f"inside {root}: remove the link, or choose another output folder")
    rel = path.relative_to(root).as_posix()
    known = read_manifest(root)
    if known is not None and rel in known[1]:
        return
    try:
        fd = os.open(root / MANIFEST, os.O_WRONLY | os.O_APPEND)
    except OSError as exc:
        raise write_failed(root / MANIFEST, exc) from exc
    try:
        os.write(fd, (json.dumps(rel) + "\n").encode("utf-8"))
    except OSError as exc:
        raise write_failed(root / MANIFEST, exc) from exc
    finally:
        os.close(fd)


def _create_manifest(folder: Path, kind: str) -> None:
    p = folder / MANIFEST
    if p.is_file():
        return
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 & ~_UMASK)
    except FileExistsError:
        return
    except OSError as exc:
        raise write_failed(p, exc) from exc
    try:
        os.write(fd, (_MANIFEST_HEAD + kind + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def _legacy_kind(folder: Path) -> str | None:
    """A folder written before manifests existed: run.json says it is a run."""
    try:
        info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return "run" if isinstance(info, dict) and info.get("format") == "iadsim-run" else None


def _entries(folder: Path, limit: int = 1000) -> list[str]:
    names = []
    try:
        for p in folder.iterdir():
            if p.name in _BOOKKEEPING or _PROBE_RE.match(p.name):
                continue
            names.append(p.name)
            if len(names) >= limit:
                break
    except OSError:
        pass
    return sorted(names)


def check_out_folder(out: str | Path, kind: str, force: bool = False) -> None:
    """Refuse, before any work, an output folder that is someone else's.

    ``out`` may be missing or empty; otherwise it must be a folder iadsim wrote for the same
    ``kind`` of command (its manifest says so), unless ``force``. Raises OutputError (exit 2)."""
    out = Path(out)
    check_out_dir_writable(out)
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputError(f"output folder {out} exists and is not a folder")
    if force:
        return
    entries = _entries(out)
    if not entries:
        return
    m = read_manifest(out)
    have = m[0] if m is not None else _legacy_kind(out)
    if have == kind:
        return
    shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
    if have is None:
        raise OutputError(f"output folder {out} is not empty ({shown}) and was not written by iadsim; "
                          "choose a new or empty folder, or add --force to write into it (files with "
                          "iadsim's names would be replaced). Nothing was changed.")
    raise OutputError(f"output folder {out} holds the outputs of an iadsim {have}, not of a {kind}; "
                      "choose another folder, or add --force to write into it. Nothing was changed.")


@contextmanager
def output_lock(out: str | Path, what: str = "iadsim command"):
    """Hold an exclusive lock on the output folder ``out`` (created if missing) while writing.

    A second command into the same folder meanwhile raises OutputError at once (no waiting). If
    this call created the folder and the body fails before anything else was written there, the
    folder is removed again (a refused command leaves nothing on disk)."""
    out = Path(out)
    created = not out.exists()
    ensure_dir(out)
    lock = out / LOCK
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_UMASK)
    except OSError as exc:
        raise write_failed(lock, exc) from exc
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - not POSIX
            pass
        except OSError:
            raise OutputError(f"another {what} is writing to {out}; wait for it to finish or choose "
                              "another output folder") from None
        try:
            yield out
        except BaseException:
            if created:
                _remove_if_only_bookkeeping(out)
            raise
    finally:
        os.close(fd)


def _remove_if_only_bookkeeping(out: Path) -> None:
    try:
        names = {p.name for p in out.iterdir()}
        if not names - _BOOKKEEPING:
            for n in names:
                (out / n).unlink()
            out.rmdir()
    except OSError:
        pass


def written_by_iadsim(path: str | Path) -> bool:
    """Whether ``path`` is a file iadsim wrote (listed in its folder's manifest)."""
    path = Path(path)
    root = _manifest_root(path)
    if root is None:  # a run folder written before manifests existed: its files are iadsim's
        return any(_legacy_kind(r) == "run" for r in (path.parent, path.parent.parent))
    m = read_manifest(root)
    return m is not None and path.relative_to(root).as_posix() in m[1]


# ----------------------------------------------------------------------------- file contents

def json_safe(obj):
    """``obj`` with every non-finite float (NaN, inf) replaced by None, for strict JSON."""
    import math

    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    try:
        import numpy as np

        if isinstance(obj, np.floating):
            return float(obj) if np.isfinite(obj) else None
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return json_safe(obj.tolist())
    except ImportError:  # pragma: no cover
        pass
    return obj


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes (read in blocks)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


#: the timestamp of every entry of the zip files iadsim writes (the earliest a zip can hold), so
#: that the same content gives the same bytes
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def write_zip(path: str | Path, entries: dict[str, bytes], stored: Iterable[str] = ()) -> Path:
    """A byte-reproducible zip file: entries in sorted order (``doc.kml`` first, as KMZ readers
    expect), fixed timestamps and permissions; ``stored`` names are not compressed again."""
    import zipfile

    stored = set(stored)
    names = sorted(entries, key=lambda n: (n != "doc.kml", n))

    def writer(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w") as z:
            for name in names:
                info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                info.create_system = 3
                z.writestr(info, entries[name])

    def check(tmp: Path) -> None:
        with zipfile.ZipFile(tmp) as z:
            bad = z.testzip()
        if bad is not None:
            raise OSError(errno.EIO, f"zip entry {bad} does not read back")

    return write_with(path, writer, check=check)
