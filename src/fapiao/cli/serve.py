"""`fapiao serve` and `fapiao worker`."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from fapiao.cli.context import console, state


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
        worker: Annotated[bool, typer.Option(help="Run scheduled jobs in this process.")] = True,
        access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
    ) -> None:
        """Serve the HTTP API (and its scheduled jobs) on HOST:PORT."""
        import uvicorn

        from fapiao.app import create_app

        platform = state(ctx).platform()
        application = create_app(platform=platform, embedded_worker=worker)
        console.print(f"fapiao: http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
        uvicorn.run(application, host=host, port=port, access_log=access_log)

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
