"""Fresh databases seeded through the real CLI, and the real server as a subprocess."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SELLER_TAX_ID = "91110108551385082Q"
BUYER_TAX_ID = "91110105MA01ABCD13"
SELLER_NAME = "北京示例科技有限公司"
BUYER_NAME = "北京样例贸易有限公司"
CREDIT_LIMIT = "999999999999.00"
USERNAME = "bench-clerk"
PASSWORD = "bench-pass-2026"
SECRET_KEY = "bench-secret-key-not-for-production"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Target:
    """One fresh, migrated and seeded database and how to reach it."""

    backend: str
    data_dir: Path
    database_url: str  # "" means the SQLite file in data_dir
    raw_dsn: str  # a sqlite file path, or a libpq URL

    def env(self) -> dict[str, str]:
        env = {**os.environ, "FAPIAO_DATA_DIR": str(self.data_dir), "FAPIAO_SECRET_KEY": SECRET_KEY}
        env.pop("FAPIAO_DATABASE_URL", None)
        if self.database_url:
            env["FAPIAO_DATABASE_URL"] = self.database_url
        return env


class Databases:
    """Hands out fresh databases of one backend; removes them all on close()."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._cluster: Any = _start_cluster() if backend == "postgresql" else None
        self._root = Path(tempfile.mkdtemp(prefix=f"fapiao-bench-{backend}-"))
        self._count = 0

    @property
    def postgres_version(self) -> str | None:
        if self._cluster is None:
            return None
        import psycopg

        with psycopg.connect(self._cluster.dsn("postgres")) as connection:
            row = connection.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else None

    def fresh(self) -> Target:
        """A new database, migrated, with seller, buyer and a clerk of the seller."""
        self._count += 1
        data_dir = self._root / f"run{self._count}"
        data_dir.mkdir()
        if self._cluster is None:
            target = Target("sqlite", data_dir, "", str(data_dir / "fapiao.db"))
        else:
            name = f"fapiao_bench_{self._count}"
            self._cluster.create_database(name)
            target = Target(
                "postgresql", data_dir, self._cluster.url(name), self._cluster.dsn(name)
            )
        seed(target)
        return target

    def server_pids(self) -> list[int]:
        """Processes that serve the database itself (the postmaster), for CPU accounting."""
        if self._cluster is None:
            return []
        pid_file = self._cluster.data_dir / "postmaster.pid"
        return [int(pid_file.read_text().split()[0])]

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()
        shutil.rmtree(self._root, ignore_errors=True)


def _start_cluster() -> Any:
    tests_dir = Path(__file__).resolve().parent.parent / "tests"
    if str(tests_dir) not in sys.path:
        sys.path.insert(0, str(tests_dir))
    from pgcluster import SERVER_SETTINGS, PgCluster

    if SERVER_SETTINGS.get("fsync") != "on" or SERVER_SETTINGS.get("synchronous_commit") != "on":
        raise RuntimeError("the benchmark needs a cluster with fsync=on, synchronous_commit=on")
    cluster = PgCluster().start()
    _preallocate_wal(cluster.dsn("postgres"))
    return cluster


# WAL segments made ready before measuring (16 MiB each): more than a full default run
# writes, HTTP and raw together.
WAL_SEGMENTS = 64


def _preallocate_wal(dsn: str) -> None:
    """Give the new cluster the WAL files of a server that has been running a while.

    A new cluster has no old WAL segments to reuse, so each time a segment fills, the
    commit that crosses into the next one waits while PostgreSQL writes a new 16 MiB
    file of zeroes and syncs it: every 2–3 s at these rates, a burst of requests above
    100 ms in the HTTP measurement (and the same stalls in the raw one). A server in
    service renames segments it no longer needs into the next ones instead, keeping up
    to `min_wal_size` of them. Here: keep twice `WAL_SEGMENTS` (`max_wal_size` too: a
    checkpoint is then forced only after about 1 GB of WAL, more than a run writes;
    timed checkpoints still come every 5 minutes), create the segments now by switching
    to a new one again and again, and let checkpoints turn them into the next ones."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        size = f"{WAL_SEGMENTS * 16 * 2}MB"
        connection.execute(f"ALTER SYSTEM SET min_wal_size = '{size}'")
        connection.execute(f"ALTER SYSTEM SET max_wal_size = '{size}'")
        connection.execute("SELECT pg_reload_conf()")

        def switch() -> None:  # a switch needs something written since the last one
            connection.execute("SELECT pg_logical_emit_message(false, 'fapiao-bench', 'wal')")
            connection.execute("SELECT pg_switch_wal()")

        for _ in range(WAL_SEGMENTS + 2):
            switch()
        for _ in range(2):  # one checkpoint left too few ready here; two suffice
            connection.execute("CHECKPOINT")
            switch()
        row = connection.execute(
            "SELECT count(*) FROM pg_ls_waldir() "
            "WHERE name > pg_walfile_name(pg_current_wal_insert_lsn())"
        ).fetchone()
    if row is None or int(row[0]) < WAL_SEGMENTS:
        raise RuntimeError(f"only {row and row[0]} WAL segments ready, {WAL_SEGMENTS} wanted")


def fapiao_command() -> list[str]:
    script = Path(sys.executable).parent / "fapiao"
    if script.exists():
        return [str(script)]
    found = shutil.which("fapiao")
    if found is None:
        raise RuntimeError("the fapiao command is not installed (pip install -e .)")
    return [found]


def _cli(target: Target, *args: str) -> None:
    command = [*fapiao_command(), "--data-dir", str(target.data_dir), *args]
    completed = subprocess.run(
        command, env=target.env(), capture_output=True, text=True, timeout=120, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed:\n{completed.stdout}{completed.stderr}")


def seed(target: Target) -> None:
    """Schema, seller and buyer with a huge monthly credit, and a clerk of the seller."""
    _cli(target, "db", "upgrade")
    bank = "--bank 中国工商银行北京中关村支行 --account 0200001234567890123"
    for tax_id, name in ((SELLER_TAX_ID, SELLER_NAME), (BUYER_TAX_ID, BUYER_NAME)):
        add = f"taxpayer add --tax-id {tax_id} --name {name} --credit-limit {CREDIT_LIMIT} {bank}"
        _cli(target, *add.split())
    user = f"user add --username {USERNAME} --password {PASSWORD} --role clerk"
    _cli(target, *user.split(), "--taxpayer", SELLER_TAX_ID)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def server_command(target: Target, port: int, workers: int) -> list[str]:
    """The product's own command: `fapiao serve --workers N`."""
    listen = ["--host", HOST, "--port", str(port), "--no-access-log", "--workers", str(workers)]
    return [*fapiao_command(), "--data-dir", str(target.data_dir), "serve", *listen]


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was healthy")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {timeout:.0f} s")


@contextlib.contextmanager
def running_server(target: Target, workers: int, log_path: Path) -> Iterator[tuple[str, int]]:
    """Start the server, wait for /healthz; yields (base URL, pid); stops it afterwards."""
    port = free_port()
    argv = server_command(target, port, workers)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, env=target.env(), stdout=log, stderr=subprocess.STDOUT, cwd=target.data_dir
        )
        base_url = f"http://{HOST}:{port}"
        try:
            wait_healthy(base_url, process)
            yield base_url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextlib.contextmanager
def profiled(pid: int, output: Path | None) -> Iterator[None]:
    """Sample `pid` and its children with py-spy into `output` (collapsed stacks) while the
    block runs; nothing when output is None."""
    if output is None:
        yield
        return
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    output.parent.mkdir(parents=True, exist_ok=True)
    # --gil: sample only the thread holding the GIL, i.e. where the Python CPU goes.
    options = "--subprocesses --gil --rate 250 --format raw".split()
    argv = [py_spy, "record", "--pid", str(pid), *options, "--output", str(output)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _children(pid: int) -> list[int]:
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                children += [int(child) for child in handle.read().split()]
    return children


def _own_cpu(pid: int) -> float:
    """utime+stime of the process and of its reaped children, in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu(pids: list[int]) -> float:
    """CPU seconds used so far by these processes and all their descendants."""
    total, stack, seen = 0.0, list(pids), set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _own_cpu(pid)
        stack += _children(pid)
    return total
