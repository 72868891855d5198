"""Serving from one or several processes.

Several processes each open their own listening socket on the same port with
SO_REUSEPORT, so the kernel spreads new connections across them by a hash of their
addresses. A shared socket would let whichever process wakes first accept a burst of
keep-alive connections and leave the others idle. The hash is not an even split (32
connections over 2 processes are often 18 and 14), so a process holding more than its
share closes one keep-alive connection now and then and its client reconnects
(`http.balance`). Scheduled jobs run in the first process only. The supervisor
restarts a process that dies and stops them all on SIGINT or SIGTERM."""

from __future__ import annotations

import gc
import multiprocessing
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

from fapiao.platform import Platform
from fapiao.settings import Settings

RESTART_DELAY_SECONDS = 1.0


class ServerFailed(Exception):
    pass


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def tune_garbage_collector() -> None:
    """Fewer, cheaper collections for a long-running server: objects alive at start-up
    (modules, the app, the tax-code table) are frozen out of every later collection, and
    the youngest generation is collected every 10,000 allocations instead of 700. A
    request allocates thousands of short-lived objects, nearly all freed by reference
    counting; at the default threshold (700) the collector runs over and over under load
    and its pauses show in the tail latency."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def _die_with_parent() -> None:
    """Ask Linux for SIGTERM when the parent process dies (prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the supervisor's own shutdown still stops its children


def serve_one(
    settings: Settings,
    host: str,
    port: int,
    *,
    jobs: bool,
    access_log: bool,
    reuse_port: bool = False,
    platform: Platform | None = None,
    ready: Any = None,
    balance: tuple[Any, int] | None = None,
) -> None:
    """One server process: the app over its own Platform, until stopped. `ready` (an
    Event of the supervisor) is set once the port is bound. `balance` (the array shared
    by the server processes, this one's slot) spreads connections evenly over them."""
    import uvicorn

    if reuse_port:  # a child of `supervise`: go when the supervisor goes, even on SIGKILL
        _die_with_parent()

    from fapiao.app import create_app
    from fapiao.platform import build_platform

    platform = platform or build_platform(settings)
    # The JSON-lines access log (FAPIAO_ACCESS_LOG, standard output when unset) replaces
    # uvicorn's own; --no-access-log turns it off.
    target = (settings.access_log if settings.access_log is not None else "-") if access_log else ""
    application: Any = create_app(platform=platform, embedded_worker=jobs, access_log=target)
    if balance is not None:
        from fapiao.http.balance import ConnectionBalance

        counts, index = balance
        counts[index] = 0  # a restarted process starts empty
        application = ConnectionBalance(
            application, counts, index, lambda: len(server.server_state.connections)
        )
    sock = listening_socket(host, port, reuse_port=reuse_port)
    if ready is not None:
        ready.set()
    config = uvicorn.Config(application, access_log=False, log_level="info")
    server = uvicorn.Server(config)
    tune_garbage_collector()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        platform.close()


def run_jobs(settings: Settings, ready: Any = None) -> None:
    """The job process of `supervise`: the webhook and mail relay and the scheduled jobs,
    on a Platform of its own, until SIGTERM (or the supervisor's death). `ready` is set
    once its Platform stands."""
    _die_with_parent()
    from fapiao.platform import build_platform
    from fapiao.worker import create_worker

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    platform = build_platform(settings)
    worker = create_worker(platform)
    if ready is not None:
        ready.set()
    tune_garbage_collector()
    worker.start()
    try:
        stop.wait()
    finally:
        worker.stop()
        platform.close()


def supervise(
    settings: Settings, host: str, port: int, *, workers: int, jobs: bool, access_log: bool
) -> None:
    """`workers` server processes sharing the port and, with `jobs`, one more process for
    the relay and the scheduled jobs. The relay in a process of its own waits for the
    database and for receivers without taking turns for the GIL with a busy event loop,
    which kept webhook delivery at 200 invoices/s above a second at p99 on PostgreSQL."""
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    # Set by a child once it has started (bound its port, built its Platform). A child
    # that dies before that failed at start-up, however slow the start was, and is not
    # restarted: it would fail again (a port in use, a bad setting).
    ready: dict[int, Any] = {}
    job_index = workers  # the job process comes after the servers
    # Connections each server process holds (see http.balance); no lock: each process
    # writes only its own slot, and a stale read of another's only delays a move.
    counts = context.RawArray("i", workers) if workers > 1 else None

    def start(index: int) -> BaseProcess:
        ready[index] = context.Event()
        if index == job_index:
            process = context.Process(
                target=run_jobs, args=(settings, ready[index]), name="fapiao-jobs"
            )
        else:
            process = context.Process(
                target=serve_one,
                args=(settings, host, port),
                kwargs={
                    "jobs": False,
                    "access_log": access_log,
                    "reuse_port": True,
                    "ready": ready[index],
                    "balance": None if counts is None else (counts, index),
                },
                name=f"fapiao-server-{index}",
            )
        process.start()
        return process

    def stop(*_: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    children = [start(index) for index in range(workers + (1 if jobs else 0))]
    try:
        while not stopping.wait(0.5):
            for index, process in enumerate(children):
                if not process.is_alive():
                    if not ready[index].is_set():
                        what = "job process" if index == job_index else f"server process {index}"
                        raise ServerFailed(f"{what} exited at start-up ({process.exitcode})")
                    what = "job process" if index == job_index else f"server process {index}"
                    print(f"fapiao: {what} exited ({process.exitcode}); restarting")
                    time.sleep(RESTART_DELAY_SECONDS)
                    children[index] = start(index)
    finally:
        for process in children:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes in-flight requests
        for process in children:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
