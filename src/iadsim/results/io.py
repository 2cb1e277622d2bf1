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
    ``folder`` and its immediate subfolders; returns what was removed."""
    folder = Path(folder)
    removed: list[Path] = []
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
        for p in entries:
            seen += 1
            if seen > max_entries:
                return removed
            m = _TEMP_RE.match(p.name) or _PROBE_RE.match(p.name)
            if m is None or _pid_alive(int(m.group("pid"))):
                continue
            try:
                if p.is_file() and not p.is_symlink():
                    p.unlink()
                    removed.append(p)
            except OSError:
                pass
    return removed


def prepare_out_dir(out: str | Path, invalidate: Iterable[str] = ()) -> Path:
    """Create the output folder (and parents) or fail with a clear OutputError; check it is writable.

    Removes temporary files left by a killed earlier run, and the files named in ``invalidate``
    (e.g. ``("summary.json",)``, the file a bundle writes last as its mark of completeness), so
    that an interrupted rerun never leaves an old completion mark beside new files.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output folder {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=f"{_PROBE_PREFIX}{os.getpid()}.", delete=True)
        probe.close()
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {out}: {exc.strerror or exc}") from None
    remove_stale_temp_files(out)
    for name in invalidate:
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
