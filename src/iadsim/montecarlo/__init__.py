"""Monte Carlo: replications in chunks, on a serial, a local-process or a Ray backend.

Replication *i* draws only from its own SeedSequence child, so the numbers are identical
whatever the backend, chunk size or worker count.

Parameter sweeps (many Monte Carlo runs of modified scenarios) are in
:mod:`iadsim.montecarlo.sweep`; their Parquet datasets in :mod:`iadsim.montecarlo.dataset`;
the Ray backend in :mod:`iadsim.montecarlo.ray_backend`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from iadsim.engine import ChunkResult, World, simulate_chunk

DEFAULT_CHUNK = 250
BACKENDS = ("local", "ray")


def chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(i, min(size, n - i)) for i in range(0, n, size)]


def _worker_init() -> None:
    import numba

    numba.set_num_threads(1)


_WORLD: World | None = None


def _init_with_world(world: World) -> None:
    global _WORLD
    _worker_init()
    from iadsim.plugins import load_in_worker

    load_in_worker(getattr(world.loaded, "plugins", None))   # the user's types, registered here too
    _WORLD = world


def _run_in_worker(args: tuple[int, int, int, int]) -> ChunkResult:
    seed, first, count, record = args
    assert _WORLD is not None
    return simulate_chunk(_WORLD, seed, first, count, record)


def run_replications(world: World, replications: int, seed: int, workers: int = 1,
                     chunk_size: int = DEFAULT_CHUNK, record_rep: int = 0,
                     on_chunk: Callable[[int], None] | None = None, backend: str = "local",
                     ray_address: str | None = None,
                     ray_connect_timeout_s: float | None = None) -> list[ChunkResult]:
    """Run all replications and return the chunk results in replication order.

    ``backend="local"``: ``workers == 1`` runs in this process (the compiled kernel still uses
    every core); ``workers > 1`` uses that many local processes, one thread each.

    ``backend="ray"``: chunks run as Ray tasks (the World is put in the object store once).
    ``ray_address`` None starts a local Ray instance with ``workers`` CPUs (all CPUs when
    ``workers == 1``) and stops it afterwards; "auto", "HOST:PORT" or "ray://HOST:PORT" join a
    cluster (an address that does not answer within ``ray_connect_timeout_s`` raises
    :class:`iadsim.montecarlo.ray_backend.BackendError`, exit code 2 on the command line). A Ray
    session already initialised in this process is used as it is.

    The results are identical for every backend, worker count and chunk size.
    """
    if replications < 1:
        raise ValueError("replications must be >= 1")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if backend == "ray":
        from iadsim.montecarlo import ray_backend

        timeout = ray_backend.DEFAULT_CONNECT_TIMEOUT_S if ray_connect_timeout_s is None else ray_connect_timeout_s
        with ray_backend.session(ray_address, num_cpus=workers if workers > 1 else None,
                                 connect_timeout_s=timeout):
            return ray_backend.run_replications_ray(world, replications, seed, chunk_size,
                                                    record_rep=record_rep, on_chunk=on_chunk)
    parts = chunks(replications, chunk_size)
    results: list[ChunkResult] = []
    if workers <= 1:
        for first, count in parts:
            results.append(simulate_chunk(world, seed, first, count, record_rep))
            if on_chunk:
                on_chunk(count)
        return results
    workers = min(workers, len(parts), (os.cpu_count() or 1) * 4)
    from iadsim.montecarlo.isolation import isolated_spawn_context

    # workers start from a private empty folder, the caller's folder off their import path
    with isolated_spawn_context() as ctx, \
            ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_with_world,
                                initargs=(world,)) as pool:
        futs = [pool.submit(_run_in_worker, (seed, first, count, record_rep)) for first, count in parts]
        for f in futs:
            r = f.result()
            results.append(r)
            if on_chunk:
                on_chunk(r.count)
    return results


def concat(results: list[ChunkResult]) -> ChunkResult:
    """Join chunk results (in order) into one."""
    results = sorted(results, key=lambda r: r.first)
    events = next((r.events for r in results if r.events is not None), None)
    cat = lambda name: np.concatenate([getattr(r, name) for r in results], axis=0)  # noqa: E731
    return ChunkResult(
        first=results[0].first, count=sum(r.count for r in results),
        det_step=cat("det_step"), firm_step=cat("firm_step"), eng_step=cat("eng_step"),
        shots=cat("shots"), kill_step=cat("kill_step"), killer=cat("killer"),
        leak_step=cat("leak_step"), expended=cat("expended"), events=events,
        draws=None if results[0].draws is None else
        {k: np.concatenate([r.draws[k] for r in results]) for k in results[0].draws},
        track_stats=None if results[0].track_stats is None else
        np.concatenate([r.track_stats for r in results], axis=0),
        ident_step=None if results[0].ident_step is None else cat("ident_step"),
        radiating=None if results[0].radiating is None else np.concatenate([r.radiating for r in results], axis=0),
        relocation_log=None if getattr(results[0], "relocation_log", None) is None else cat("relocation_log"),
        relocation_sites=None if getattr(results[0], "relocation_sites", None) is None else cat("relocation_sites"),
        react_step=None if results[0].react_step is None else cat("react_step"),
        react_to=None if results[0].react_to is None else cat("react_to"),
        bursts=None if getattr(results[0], "bursts", None) is None else cat("bursts"),
        site_kill=(None if getattr(results[0], "site_kill", None) is None
                   else np.concatenate([r.site_kill for r in results], axis=0)),
    )
