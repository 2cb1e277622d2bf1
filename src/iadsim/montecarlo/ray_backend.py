"""Ray backend: chunks of replications as Ray tasks, locally or on a cluster.

Install with ``pip install 'iadsim[ray]'``. The compiled :class:`~iadsim.engine.World` goes
into the object store once (``ray.put``) and every chunk task reads it from there. Replication
*i* draws only from its own SeedSequence child, so results are identical to the local backend
for the same seed, whatever the cluster size or task order.

Workers of a session started here run from a private empty directory (Ray's ``runtime_env``
``working_dir``), so nothing in the caller's folder is importable by them (see
:mod:`iadsim.montecarlo.isolation`); a session the caller initialised is used as it is.

Addresses: ``None`` or ``"local"`` starts a local Ray instance (``ray.init(num_cpus=...)``) and
shuts it down afterwards; ``"auto"`` joins the cluster started on this machine with
``ray start --head``; ``"HOST:PORT"`` joins a cluster's GCS; ``"ray://HOST:PORT"`` uses Ray
Client (needs ``ray[client]``). An address is first probed with a time-limited TCP connection,
so one that does not answer fails quickly with :class:`BackendError` instead of hanging.
If Ray is already initialised in this process, that session is used and left running.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from iadsim.engine import ChunkResult, World, simulate_chunk
from iadsim.errors import IadsimError
from iadsim.montecarlo.isolation import private_workdir, ray_runtime_env

DEFAULT_CONNECT_TIMEOUT_S = 10.0
GCS_PORT = 6379
CLIENT_PORT = 10001


class BackendError(IadsimError):
    """The compute backend cannot be used (Ray missing, cluster unreachable, ...)."""


def import_ray():
    try:
        import ray
    except ImportError:
        raise BackendError("the Ray backend needs Ray: pip install 'iadsim[ray]'") from None
    return ray


def _host_port(address: str) -> tuple[str, int]:
    addr = address
    default = GCS_PORT
    if addr.startswith("ray://"):
        addr = addr[len("ray://"):]
        default = CLIENT_PORT
    addr = addr.rstrip("/")
    if addr.startswith("["):  # [ipv6]:port
        host, _, rest = addr[1:].partition("]")
        port_s = rest[1:] if rest.startswith(":") else ""
    elif addr.count(":") == 1:
        host, port_s = addr.split(":")
    else:
        host, port_s = addr, ""
    if not host:
        raise BackendError(f"Ray address {address!r}: no host (expected HOST:PORT, ray://HOST:PORT or auto)")
    try:
        port = int(port_s) if port_s else default
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise BackendError(f"Ray address {address!r}: {port_s!r} is not a port number") from None
    return host, port


def check_reachable(address: str, timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> None:
    """Open (and close) a TCP connection to a Ray address within ``timeout_s`` or raise BackendError."""
    host, port = _host_port(address)
    t0 = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except socket.timeout:
        raise BackendError(f"Ray cluster at {address} does not answer: no connection to {host}:{port} "
                           f"within {timeout_s:g} s") from None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise BackendError(f"Ray cluster at {address} does not answer: {host}:{port}: {reason} "
                           f"(after {time.monotonic() - t0:.1f} s)") from None


def _worker_info() -> dict[str, str]:
    import platform

    import iadsim

    return {"iadsim": iadsim.__version__, "python": platform.python_version()}


def _check_workers(ray, timeout_s: float) -> None:
    """One tiny task: iadsim must be importable on the cluster, in the same version."""
    import iadsim

    try:
        info = ray.get(ray.remote(num_cpus=1)(_worker_info).remote(), timeout=timeout_s)
    except ray.exceptions.GetTimeoutError:
        raise BackendError(f"the Ray cluster ran no task within {timeout_s:g} s (no free CPU?)") from None
    except Exception as exc:  # RayTaskError wrapping ImportError, ...
        raise BackendError(f"iadsim does not run on the Ray cluster's workers (is it installed there?): "
                           f"{_first_line(exc)}") from None
    if info["iadsim"] != iadsim.__version__:
        raise BackendError(f"the Ray cluster's workers run iadsim {info['iadsim']}, this is "
                           f"{iadsim.__version__}; install the same version on every node")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


@contextmanager
def session(address: str | None = None, num_cpus: int | None = None,
            connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> Iterator[Any]:
    """A Ray session for the duration of the block; yields the ``ray`` module.

    Starts (and afterwards stops) a local instance when ``address`` is None or "local"; joins an
    existing cluster otherwise. Reuses, and leaves running, a session already initialised here.
    """
    ray = import_ray()
    remote = address not in (None, "", "local", "auto")
    if remote:
        check_reachable(address, connect_timeout_s)
    if ray.is_initialized():
        yield ray
        return
    with private_workdir() as workdir:
        yield from _started(ray, address, remote, num_cpus, connect_timeout_s, workdir)


def _started(ray, address: str | None, remote: bool, num_cpus: int | None, connect_timeout_s: float,
             workdir: str) -> Iterator[Any]:
    """Start or join Ray with workers in the empty ``workdir``; yield it; shut it down."""
    kwargs: dict[str, Any] = {"logging_level": "warning",
                              # workers start in an empty folder: Ray adds neither the driver's
                              # current directory nor its script's folder to their import path
                              "runtime_env": ray_runtime_env(workdir)}
    if remote or address == "auto":
        kwargs["address"] = address
    else:
        kwargs.update(num_cpus=num_cpus, include_dashboard=False)
        if "RAY_ADDRESS" in os.environ:  # "local" means local, whatever the environment says
            kwargs["address"] = "local"
    try:
        ray.init(**kwargs)
    except ConnectionError as exc:
        if address == "auto":
            raise BackendError("--ray-address auto: no running Ray cluster on this machine "
                               "(start one with `ray start --head`)") from None
        hint = ("" if os.environ.get("RAY_AUTH_TOKEN") else
                " (if the cluster uses token authentication, set RAY_AUTH_TOKEN to its token: "
                "`ray get-auth-token` on the head node)")
        raise BackendError(f"cannot connect to the Ray cluster at {address}: {_first_line(exc)}{hint}") from None
    except (ValueError, RuntimeError, OSError) as exc:
        raise BackendError(f"cannot start Ray ({address or 'local'}): {_first_line(exc)}") from None
    try:
        if remote or address == "auto":
            _check_workers(ray, connect_timeout_s + 300.0)
        yield ray
    finally:
        ray.shutdown()


def cluster_cpus(ray) -> int:
    try:
        return max(1, int(ray.cluster_resources().get("CPU", 1)))
    except Exception:  # pragma: no cover - defensive
        return 1


def _chunk_task(world: World, seed: int, first: int, count: int, record_rep: int) -> ChunkResult:
    import numba

    numba.set_num_threads(1)  # one task per CPU: no oversubscription
    return simulate_chunk(world, seed, first, count, record_rep)


_REMOTE: dict[str, Any] = {}


def _remote_chunk(ray):
    if "chunk" not in _REMOTE:
        _REMOTE["chunk"] = ray.remote(num_cpus=1, max_retries=3)(_chunk_task)
    return _REMOTE["chunk"]


def run_replications_ray(world: World, replications: int, seed: int, chunk_size: int,
                         record_rep: int = 0, on_chunk: Callable[[int], None] | None = None
                         ) -> list[ChunkResult]:
    """Run all replications as Ray tasks (Ray must be initialised); chunk results in order."""
    from iadsim.montecarlo import chunks

    ray = import_ray()
    task = _remote_chunk(ray)
    ref = ray.put(world)
    pending = {task.remote(ref, seed, first, count, record_rep): (first, count)
               for first, count in chunks(replications, chunk_size)}
    done: dict[int, ChunkResult] = {}
    waiting = list(pending)
    while waiting:
        ready, waiting = ray.wait(waiting, num_returns=1)
        for r in ready:
            res = ray.get(r)
            done[res.first] = res
            if on_chunk:
                on_chunk(res.count)
    del ref
    return [done[k] for k in sorted(done)]


def run_cells_ray(cells: Iterable[Any], compile_cell: Callable[[Any], tuple[World, int]],
                  replications: int, chunk_size: int,
                  on_chunk: Callable[[Any, int], None] | None,
                  on_cell: Callable[[Any, World, ChunkResult], None]) -> None:
    """Sweep cells on Ray (Ray must be initialised).

    ``compile_cell(cell) -> (world, seed)`` runs here, on the driver (the scenario's files are
    here); each World is ``ray.put`` once and its chunks run as tasks. Compiling the next cells
    overlaps the tasks of earlier ones; at most about two tasks per cluster CPU are queued.
    ``on_cell(cell, world, raw)`` is called here as each cell completes (in completion order).
    """
    from iadsim.montecarlo import chunks, concat

    ray = import_ray()
    task = _remote_chunk(ray)
    window = 2 * cluster_cpus(ray)
    parts = chunks(replications, chunk_size)
    it = iter(cells)
    exhausted = False
    inflight: dict[Any, tuple[int, int]] = {}       # object ref -> (cell slot, first)
    slots: dict[int, dict[str, Any]] = {}           # per cell in flight
    next_slot = 0
    try:
        while True:
            while not exhausted and len(inflight) < window:
                cell = next(it, None)
                if cell is None:
                    exhausted = True
                    break
                world, seed = compile_cell(cell)
                wref = ray.put(world)
                slot = next_slot
                next_slot += 1
                slots[slot] = {"cell": cell, "world": world, "ref": wref, "parts": {}, "left": len(parts)}
                for first, count in parts:
                    inflight[task.remote(wref, seed, first, count, -1)] = (slot, first)
            if not inflight:
                return
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for r in ready:
                slot, first = inflight.pop(r)
                res: ChunkResult = ray.get(r)
                s = slots[slot]
                s["parts"][first] = res
                s["left"] -= 1
                if on_chunk:
                    on_chunk(s["cell"], res.count)
                if s["left"] == 0:
                    del slots[slot]
                    on_cell(s["cell"], s["world"], concat(list(s["parts"].values())))
    finally:
        for r in inflight:
            try:
                ray.cancel(r)
            except Exception:  # pragma: no cover - best effort
                pass
