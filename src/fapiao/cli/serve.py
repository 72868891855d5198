"""`fapiao serve` and `fapiao worker`."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from fapiao.cli.context import console, err_console, state


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
        worker: Annotated[bool, typer.Option(help="Run scheduled jobs in this process.")] = True,
        access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
        workers: Annotated[
            int,
            typer.Option(
                envvar="FAPIAO_WORKERS",
                min=1,
                max=64,
                help="Server processes sharing the port (the kernel spreads connections).",
            ),
        ] = 1,
    ) -> None:
        """Serve the HTTP API (and its scheduled jobs) on HOST:PORT."""
        from fapiao.cli import processes

        cli = state(ctx)
        platform = cli.platform()  # migrates a fresh database once, before any worker starts
        console.print(f"fapiao: http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
        if workers == 1:
            processes.serve_one(
                platform.settings, host, port, jobs=worker, access_log=access_log, platform=platform
            )
            return
        platform.close()
        console.print(f"fapiao: {workers} server processes")
        try:
            processes.supervise(
                platform.settings, host, port, workers=workers, jobs=worker, access_log=access_log
            )
        except processes.ServerFailed as exc:
            err_console.print(f"[red]fapiao: {exc}[/red]")
            raise typer.Exit(1) from None

    @app.command(name="worker")
    def run_worker(
        ctx: typer.Context,
        once: Annotated[bool, typer.Option(help="Run the due jobs once and exit.")] = False,
    ) -> None:
        """Run the scheduled jobs (red-letter lapse, …) until stopped."""
        from fapiao.worker import create_worker

        job_runner = create_worker(state(ctx).platform())
        if once:
            console.print(job_runner.run_once())
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        job_runner.start()
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            job_runner.stop()
