"""Throwaway PostgreSQL clusters for tests.

``PgCluster`` runs ``initdb`` into a fresh temporary directory, starts a private server on a
free TCP port of 127.0.0.1 (trust authentication, superuser ``fapiao``) and removes
everything again on ``stop()``. The server process runs as the owner of the data directory:
the ``postgres`` OS user when we are root (PostgreSQL refuses to run as root), else the
current user.

With ``PgCluster(replication=True)`` the server accepts streaming replication from
127.0.0.1 (``wal_level=replica``, WAL senders, a ``replication`` line in ``pg_hba.conf``);
``start_replica()`` then clones it with ``pg_basebackup -R`` into a hot standby on a port of
its own, which ``stop_server()`` / ``start_server()`` can stop and start again in place.

``ExternalPg`` offers the same ``url()`` / ``create_database()`` / ``drop_database()`` /
``stop()`` surface on top of an existing server, for developers who set
``FAPIAO_TEST_PG_URL``; ``cluster_from_env()`` picks one of the two.

Environment:

* ``FAPIAO_PG_BIN`` -- directory holding ``initdb``, ``pg_ctl`` and ``postgres``; otherwise
  the highest ``/usr/lib/postgresql/*/bin``, otherwise ``PATH``.
* ``FAPIAO_PG_TMPDIR`` -- where cluster directories are created (default ``/tmp``, which
  the ``postgres`` user can reach whatever our working directory is).
* ``FAPIAO_TEST_PG_URL`` -- SQLAlchemy URL of an existing server to use instead.
* ``CI=true`` or ``FAPIAO_TEST_POSTGRES=required`` -- ``pg_required()`` is true: tests must
  fail, not skip, when no server can be had.

Standard library and psycopg only.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

__all__ = [
    "ExternalPg",
    "PgCluster",
    "PgCommandError",
    "PgError",
    "PgUnavailable",
    "cluster_from_env",
    "find_bin_dir",
    "pg_required",
]

SUPERUSER = "fapiao"
OWNER_WHEN_ROOT = "postgres"
REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": "127.0.0.1",
    "fsync": "on",
    "synchronous_commit": "on",
    "max_connections": "200",
    "shared_buffers": "128MB",
}
REPLICATION_SETTINGS: dict[str, str] = {
    "wal_level": "replica",
    "max_wal_senders": "10",
    "hot_standby": "on",
    # Report replay progress to the primary often (pg_stat_replication).
    "wal_receiver_status_interval": "1s",
}
REPLICATION_HBA = "host    replication     all             127.0.0.1/32            trust"
_START_ATTEMPTS = 3
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")


class PgError(RuntimeError):
    """Something went wrong running a PostgreSQL cluster."""


class PgUnavailable(PgError):
    """No PostgreSQL server can be run here; the message says why and what to install."""


class PgCommandError(PgError):
    """A PostgreSQL program exited non-zero; the message holds its output."""

    def __init__(self, args: Sequence[str], returncode: int, output: str) -> None:
        self.command = list(args)
        self.returncode = returncode
        self.output = output
        super().__init__(f"{shlex.join(self.command)} exited with {returncode}:\n{output.strip()}")


def pg_required() -> bool:
    """True when tests must fail rather than skip if PostgreSQL is unavailable."""
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get("FAPIAO_TEST_POSTGRES", "").lower() == "required"
    )


def _has_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in REQUIRED_BINARIES)


def _version_key(directory: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin
    version = Path(directory).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)


def find_bin_dir() -> Path:
    """The directory with the PostgreSQL server programs, or PgUnavailable."""
    configured = os.environ.get("FAPIAO_PG_BIN")
    if configured:
        directory = Path(configured)
        if not _has_binaries(directory):
            raise PgUnavailable(
                f"FAPIAO_PG_BIN={configured} does not hold all of {', '.join(REQUIRED_BINARIES)}"
            )
        return directory
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        if _has_binaries(Path(candidate)):
            return Path(candidate)
    on_path = shutil.which("pg_ctl")
    if on_path and _has_binaries(Path(on_path).resolve().parent):
        return Path(on_path).resolve().parent
    raise PgUnavailable(
        "PostgreSQL server programs (initdb, pg_ctl, postgres) not found in FAPIAO_PG_BIN, "
        "/usr/lib/postgresql/*/bin or PATH; install them (Debian: apt-get install postgresql) "
        "or set FAPIAO_TEST_PG_URL to an existing server"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://... -> postgresql://... (what psycopg itself accepts)."""
    scheme, rest = sqlalchemy_url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def _check_db_name(name: str) -> str:
    if not _DB_NAME.match(name):
        raise ValueError(f"unsupported database name: {name!r}")
    return name


def _create_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_check_db_name(name)))
        )


def _drop_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(_check_db_name(name))
            )
        )


class PgCluster:
    """A private PostgreSQL server in a temporary directory.

    >>> with PgCluster() as cluster:
    ...     cluster.create_database("app")
    ...     engine = create_engine(cluster.url("app"))
    """

    def __init__(
        self,
        bin_dir: Path | None = None,
        *,
        replication: bool = False,
        primary: PgCluster | None = None,
    ) -> None:
        self._bin_dir = bin_dir
        # A standby streams from its primary, so it can serve as one in turn.
        self.replication = replication or primary is not None
        self.primary = primary
        self._base_dir: Path | None = None
        self._port: int | None = None
        self._running = False
        self.owner: str = ""
        self.start_seconds: float | None = None

    # -- layout ----------------------------------------------------------------------------

    @property
    def bin_dir(self) -> Path:
        if self._bin_dir is None:
            self._bin_dir = find_bin_dir()
        return self._bin_dir

    @property
    def base_dir(self) -> Path:
        """The temporary directory holding data/, sock/ and postgres.log."""
        if self._base_dir is None:
            raise PgError("cluster not started")
        return self._base_dir

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "sock"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    @property
    def port(self) -> int:
        if self._port is None:
            raise PgError("cluster not started")
        return self._port

    @property
    def running(self) -> bool:
        return self._running

    def binary(self, name: str) -> Path:
        """Full path of a PostgreSQL program (pg_basebackup, psql, ...)."""
        path = self.bin_dir / name
        if not os.access(path, os.X_OK):
            raise PgUnavailable(f"{name} not found in {self.bin_dir}")
        return path

    # -- running programs as the cluster owner ---------------------------------------------

    def _owner_prefix(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        runuser = shutil.which("runuser")
        if runuser is None:
            raise PgUnavailable("running as root but `runuser` (util-linux) is missing")
        return [runuser, "-u", self.owner, "--"]

    def run_as_owner(
        self,
        args: Sequence[str | os.PathLike[str]],
        *,
        check: bool = True,
        timeout: float | None = 300,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command as the OS user owning the cluster, in the cluster's directory.

        A bare program name such as ``"pg_basebackup"`` is looked up in ``bin_dir``.
        Output (stdout and stderr together) is captured; with ``check`` a non-zero exit
        raises PgCommandError carrying it.
        """
        argv = [os.fspath(arg) for arg in args]
        if not argv:
            raise ValueError("empty command")
        if os.sep not in argv[0] and (self.bin_dir / argv[0]).exists():
            argv[0] = os.fspath(self.bin_dir / argv[0])
        command = self._owner_prefix() + argv
        cwd = self._base_dir if self._base_dir is not None else Path(tempfile.gettempdir())
        completed = subprocess.run(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and completed.returncode != 0:
            raise PgCommandError(argv, completed.returncode, completed.stdout)
        return completed

    def owned_dir(self, name: str) -> Path:
        """A new empty directory (mode 0700) inside the cluster's directory, owned by the
        cluster owner: a target for pg_basebackup or a second data directory."""
        path = self.base_dir / name
        path.mkdir(mode=0o700)
        self._chown(path)
        return path

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, user=self.owner, group=pwd.getpwnam(self.owner).pw_gid)

    def _resolve_owner(self) -> str:
        if os.geteuid() != 0:
            return pwd.getpwuid(os.geteuid()).pw_name
        try:
            pwd.getpwnam(OWNER_WHEN_ROOT)
        except KeyError:
            raise PgUnavailable(
                f"running as root and there is no `{OWNER_WHEN_ROOT}` OS user to run the "
                "server (Debian's postgresql package creates it)"
            ) from None
        return OWNER_WHEN_ROOT

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> Self:
        """initdb and start the server; returns self. Raises PgUnavailable when no server
        can be run here, PgError when one should but fails."""
        if self._running:
            return self
        began = time.monotonic()
        _ = self.bin_dir  # raises PgUnavailable early
        self.owner = self._resolve_owner()
        self._owner_prefix()
        parent = os.environ.get("FAPIAO_PG_TMPDIR", "/tmp")
        self._base_dir = Path(tempfile.mkdtemp(prefix="fapiao-pg-", dir=parent))
        try:
            self._chown(self._base_dir)
            self.socket_dir.mkdir(mode=0o700)
            self._chown(self.socket_dir)
            if self.primary is None:
                self._initdb()
            else:
                self._base_backup(self.primary)
            self._start_server()
        except BaseException:
            self._remove_base_dir()
            raise
        self.start_seconds = time.monotonic() - began
        # A test run that forgets stop() (or is interrupted) still leaves no server behind.
        atexit.register(self.stop)
        return self

    def _initdb(self) -> None:
        base = [
            "initdb",
            "-D",
            os.fspath(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            # The cluster is thrown away; skipping the final sync of the new files only
            # saves time. The server itself runs with fsync=on.
            "--no-sync",
        ]
        try:
            self.run_as_owner([*base, "--locale=C.UTF-8"])
        except PgCommandError as exc:
            if "locale" not in exc.output.lower():
                raise
            # initdb removes the data directory it made when it fails.
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.run_as_owner([*base, "--locale=C"])

    def _base_backup(self, primary: PgCluster) -> None:
        """Clone the primary into our data directory as a standby (`-R` writes
        standby.signal and the primary's connection settings)."""
        self.run_as_owner(
            [
                "pg_basebackup",
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                SUPERUSER,
                "-D",
                os.fspath(self.data_dir),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            ]
        )

    def start_replica(self) -> PgCluster:
        """A new hot standby of this (replication=True) cluster, started and streaming."""
        if not self.replication:
            raise PgError("start the primary with PgCluster(replication=True)")
        return PgCluster(self._bin_dir, primary=self).start()

    def stop_server(self) -> None:
        """Stop the server (fast shutdown) but keep its data directory and port."""
        if self._running:
            self.run_as_owner(
                ["pg_ctl", "-w", "-t", "120", "-D", os.fspath(self.data_dir), "-m", "fast", "stop"]
            )
            self._running = False

    def start_server(self) -> None:
        """Start a server stopped by `stop_server` again, on the same port."""
        if not self._running:
            self._start_server(keep_port=True)

    def _allow_replication(self) -> None:
        hba = self.data_dir / "pg_hba.conf"
        lines = hba.read_text(encoding="utf-8").splitlines()
        if REPLICATION_HBA.split() not in [line.split() for line in lines]:
            with hba.open("a", encoding="utf-8") as out:
                out.write(REPLICATION_HBA + "\n")

    def _start_server(self, keep_port: bool = False) -> None:
        if self.replication and self.primary is None:
            self._allow_replication()
        last_error: PgCommandError | None = None
        for _ in range(_START_ATTEMPTS):
            if not (keep_port and self._port is not None):
                self._port = _free_port()
            options = [f"-p {self._port}", f"-k {shlex.quote(os.fspath(self.socket_dir))}"]
            settings = {**SERVER_SETTINGS, **(REPLICATION_SETTINGS if self.replication else {})}
            options += [f"-c {key}={value}" for key, value in settings.items()]
            try:
                self.run_as_owner(
                    [
                        "pg_ctl",
                        "-w",
                        "-t",
                        "120",
                        "-D",
                        os.fspath(self.data_dir),
                        "-l",
                        os.fspath(self.log_file),
                        "-o",
                        " ".join(options),
                        "start",
                    ]
                )
            except PgCommandError as exc:
                last_error = exc
                log = self.log_tail()
                # Someone took the port between our probe and the server's bind: retry.
                if "could not bind" in log or "already in use" in log:
                    continue
                raise PgError(f"{exc}\n--- {self.log_file} ---\n{log}") from exc
            self._running = True
            return
        raise PgError(f"server did not start after {_START_ATTEMPTS} attempts: {last_error}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory. Safe to call twice."""
        atexit.unregister(self.stop)
        if self._base_dir is None:
            return
        try:
            if self._running and (self.data_dir / "postmaster.pid").exists():
                self.run_as_owner(
                    [
                        "pg_ctl",
                        "-w",
                        "-t",
                        "120",
                        "-D",
                        os.fspath(self.data_dir),
                        "-m",
                        "fast",
                        "stop",
                    ],
                    check=False,
                )
        finally:
            self._running = False
            self._remove_base_dir()

    def _remove_base_dir(self) -> None:
        if self._base_dir is not None:
            shutil.rmtree(self._base_dir, ignore_errors=True)
            self._base_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------------------

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL of a database on this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq URL for psycopg.connect()."""
        return _libpq_url(self.url(dbname))

    def create_database(self, name: str) -> None:
        _create_database(self.dsn("postgres"), name)

    def drop_database(self, name: str) -> None:
        _drop_database(self.dsn("postgres"), name)


class ExternalPg:
    """An existing server (FAPIAO_TEST_PG_URL) behind the PgCluster database surface.

    The URL's user needs CREATEDB. Databases made through ``create_database`` are dropped by
    ``stop()``; the server itself is left alone.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.scheme.startswith("postgresql"):
            raise ValueError(f"not a postgresql URL: {url!r}")
        self._parts = parts
        self._admin_db = parts.path.lstrip("/") or "postgres"
        self._created: list[str] = []

    @property
    def port(self) -> int:
        return self._parts.port or 5432

    def start(self) -> Self:
        with psycopg.connect(self.dsn(self._admin_db), connect_timeout=10):
            pass
        return self

    def url(self, dbname: str = "postgres") -> str:
        return urlunsplit(self._parts._replace(path=f"/{dbname}"))

    def dsn(self, dbname: str = "postgres") -> str:
        return _libpq_url(self.url(dbname))

    def create_database(self, name: str) -> None:
        _create_database(self.dsn(self._admin_db), name)
        self._created.append(name)

    def drop_database(self, name: str) -> None:
        _drop_database(self.dsn(self._admin_db), name)
        if name in self._created:
            self._created.remove(name)

    def stop(self) -> None:
        while self._created:
            with contextlib.suppress(psycopg.Error):
                _drop_database(self.dsn(self._admin_db), self._created[-1])
            self._created.pop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def cluster_from_env() -> PgCluster | ExternalPg:
    """A started cluster: ExternalPg when FAPIAO_TEST_PG_URL is set, else a new PgCluster."""
    external = os.environ.get("FAPIAO_TEST_PG_URL")
    if external:
        return ExternalPg(external).start()
    return PgCluster().start()
