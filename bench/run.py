"""Single-invoice issuance over HTTP against the raw driver limit, on SQLite and PostgreSQL.

    .venv/bin/python bench/run.py [--backend sqlite|postgresql|both] [--seconds 20]
                                  [--clients 32] [--workers 1,2]

See bench/README.md for what is measured."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

import machine
import report
from deploy import Databases, Target, profiled, running_server, tree_cpu
from http_load import run_load
from raw_insert import RawResult, read_template_from, run_postgresql, run_sqlite

console = Console(width=None if sys.stdout.isatty() else 200)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each HTTP run")
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    parser.add_argument(
        "--workers", default="1,2", help="server processes; a comma list runs each (default 1,2)"
    )
    parser.add_argument(
        "--client",
        default="httpx2,raw",
        help="load generator: httpx2 (AsyncClient) or raw (tiny HTTP/1.1); a comma list runs each",
    )
    parser.add_argument("--raw-threads", type=int, default=32, help="PostgreSQL raw writers")
    parser.add_argument(
        "--py-spy", type=Path, metavar="DIR", help="record each server under py-spy into DIR"
    )
    parser.add_argument("--no-save", action="store_true", help="leave JSON and README alone")
    args = parser.parse_args(argv)
    args.worker_counts = [int(part) for part in str(args.workers).split(",") if part.strip()]
    if not args.worker_counts or min(args.worker_counts) < 1:
        parser.error("--workers takes positive numbers, e.g. 2 or 1,2")
    args.clients_kinds = [part.strip() for part in str(args.client).split(",") if part.strip()]
    if not args.clients_kinds or not set(args.clients_kinds) <= {"httpx2", "raw"}:
        parser.error("--client takes httpx2, raw or both: httpx2,raw")
    if not 0 < args.seconds <= 600 or not 0 < args.clients <= 256:
        parser.error("--seconds must be in (0, 600] and --clients in (0, 256]")
    return args


def profile_path(args: argparse.Namespace, backend: str, workers: int, client: str) -> Path | None:
    """Collapsed stacks (grep them, or open them in speedscope / flamegraph.pl)."""
    if args.py_spy is None:
        return None
    return Path(args.py_spy) / f"{backend}-{workers}w-{args.clients}c-{client}.folded"


def measure_http(
    target: Target,
    workers: int,
    client: str,
    args: argparse.Namespace,
    db_pids: Callable[[], list[int]],
) -> dict[str, Any]:
    """Serve `target` with `workers` processes and load it with the HTTP clients."""
    log = target.data_dir / "server.log"
    profile = profile_path(args, target.backend, workers, client)
    try:
        with running_server(target, workers, log) as (base_url, pid), profiled(pid, profile):
            before: dict[str, float] = {}

            def snapshot() -> None:
                before.update(app=tree_cpu([pid]), database=tree_cpu(db_pids()))

            load = run_load(
                base_url,
                clients=args.clients,
                seconds=args.seconds,
                warmup=args.warmup,
                client=client,
                on_start=snapshot,
            )
            used = {"app": tree_cpu([pid]), "database": tree_cpu(db_pids())}
    except Exception:
        console.print(f"[red]server log ({log}):[/red]\n" + _tail(log))
        raise
    check_sample(load.sample)
    cores = {name: (used[name] - before[name]) / load.seconds for name in used}
    cores["client"] = load.client_cpu_seconds / load.seconds
    return {
        "workers": workers,
        "client": client,
        **report.figures(load.ok, load.seconds, load.latencies_ms),
        "errors": dict(load.errors),
        "cpu_cores": {name: round(value, 2) for name, value in cores.items()},
    }


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def check_sample(sample: dict[str, Any] | None) -> None:
    """The invoices issued are the ones we meant: 2 lines, 200 + 300 before tax."""
    if sample is None:
        raise RuntimeError("no invoice was issued during the measurement")
    if len(sample["lines"]) != 2 or sample["total_amount"] != "500.00":
        raise RuntimeError(f"unexpected invoice issued: {sample}")


def measure_raw(
    backend: str, target: Target, template: Any, args: argparse.Namespace
) -> dict[str, Any]:
    raw: RawResult
    if backend == "sqlite":
        raw = run_sqlite(template, target.raw_dsn, args.seconds)
    else:
        raw = run_postgresql(template, target.raw_dsn, args.seconds, args.raw_threads)
    return {
        **report.figures(raw.ok, raw.seconds, raw.latencies_ms),
        "threads": raw.threads,
        "errors": raw.errors,
    }


def bench_backend(backend: str, args: argparse.Namespace, versions: dict[str, str]) -> Any:
    """Every HTTP configuration, then the raw limit, each on a fresh database."""
    console.rule(f"[bold]{backend}")
    databases = Databases(backend)
    try:
        if databases.postgres_version:
            versions["postgresql"] = databases.postgres_version
        http_runs, template = [], None
        for workers in args.worker_counts:
            for client in args.clients_kinds:
                target = databases.fresh()
                label = f"{workers} worker(s), {args.clients} {client} clients"
                console.print(f"HTTP, {label}, {args.seconds:.0f} s")
                result = measure_http(target, workers, client, args, databases.server_pids)
                console.print(f"  {result}")
                http_runs.append(result)
                if template is None:
                    template = read_template_from(backend, target.raw_dsn, target.data_dir)
        target = databases.fresh()
        console.print(f"raw driver inserts, {args.seconds:.0f} s")
        raw = measure_raw(backend, target, template, args)
        console.print(f"  {raw}")
        return {"http": http_runs, "raw": raw}
    finally:
        databases.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "settings": {
            "command": " ".join(["bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
            "clients": args.clients,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "lines": 2,
            "raw_threads_postgresql": args.raw_threads,
        },
        "machine": machine.describe(Path(tempfile.gettempdir())),
        "contention": {
            "load_average_before": machine.load_average(),
            "calibration_ms_before": machine.calibration_ms(),
        },
        "versions": machine.versions(None),
        "backends": {},
    }
    for backend in backends:
        try:
            results["backends"][backend] = bench_backend(backend, args, results["versions"])
        except RuntimeError as exc:  # PgUnavailable is one: no PostgreSQL server here
            if type(exc).__name__ != "PgUnavailable":
                raise
            console.print(f"[yellow]{backend} skipped: {exc}[/yellow]")
            results["backends"][backend] = {"skipped": str(exc)}
    results["contention"].update(
        load_average_after=machine.load_average(), calibration_ms_after=machine.calibration_ms()
    )
    report.print_table(results, console)
    if not args.no_save:
        console.print(f"wrote {report.write_json(results)}")
        report.update_readme(results)
        console.print(f"updated {report.README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
