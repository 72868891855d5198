"""Figures from raw measurements, the console table, latest.json and the README table."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_JSON = BENCH_DIR / "results" / "latest.json"
README = BENCH_DIR / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
TARGET_RATE, TARGET_P99_MS = 400.0, 100.0


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def figures(ok: int, seconds: float, latencies_ms: list[float]) -> dict[str, float]:
    return {
        "invoices_per_s": round(ok / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(latencies_ms, 0.50), 2),
        "p99_ms": round(percentile(latencies_ms, 0.99), 2),
        "count": ok,
        "seconds": round(seconds, 2),
    }


def verdict(http: dict[str, Any]) -> str:
    met = http["invoices_per_s"] >= TARGET_RATE and http["p99_ms"] <= TARGET_P99_MS
    return "yes" if met else "no"


def rows(results: dict[str, Any]) -> list[list[str]]:
    """One row per (backend, server configuration)."""
    table = []
    for backend, data in results["backends"].items():
        if "skipped" in data:
            table.append([backend, "skipped", data["skipped"][:80], *[""] * (len(HEADERS) - 3)])
            continue
        raw = data["raw"]
        for http in data["http"]:
            ratio = http["invoices_per_s"] / raw["invoices_per_s"] if raw["invoices_per_s"] else 0
            errors = sum(http["errors"].values())
            cpu = http["cpu_cores"]
            table.append([
                backend, f"{http['workers']} worker{'s' if http['workers'] > 1 else ''}",
                http["client"],
                f"{http['invoices_per_s']:.0f}", f"{http['p50_ms']:.1f}", f"{http['p99_ms']:.1f}",
                str(errors),
                f"{raw['invoices_per_s']:.0f} ({raw['threads']} thr)",
                f"{raw['p50_ms']:.2f}", f"{raw['p99_ms']:.2f}", f"{ratio:.0%}",
                f"{cpu['app']:.2f} / {cpu['database']:.2f} / {cpu['client']:.2f}",
                verdict(http),
            ])  # fmt: skip
    return table


HEADERS = ["backend", "server", "load client", "HTTP inv/s", "HTTP p50 ms", "HTTP p99 ms", "errors",
           "raw inv/s", "raw p50 ms", "raw p99 ms", "HTTP/raw",
           "CPU cores app / db / client", "target met"]  # fmt: skip


def print_table(results: dict[str, Any], console: Console | None = None) -> None:
    table = Table(*HEADERS, title="fapiao single-invoice issuance")
    for row in rows(results):
        table.add_row(*row)
    (console or Console()).print(table)


def write_json(results: dict[str, Any]) -> Path:
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return RESULTS_JSON


def markdown(results: dict[str, Any]) -> str:
    machine, versions, setup = results["machine"], results["versions"], results["settings"]
    busy = results["contention"]
    lines = [
        START,
        f"Run of {results['date']} (`{setup['command']}`), "
        f"{setup['clients']} clients, {setup['seconds']:.0f} s per measurement after "
        f"{setup['warmup']:.0f} s warm-up, {setup['lines']} lines per invoice.",
        "",
        f"- Machine: {machine['nproc']} × {machine['cpu']}, {machine['ram_gib']} GiB RAM, "
        f"kernel {machine['kernel']}",
        f"- Disk: {machine['disk']}, {machine['fdatasync_per_s']} fdatasync/s (4 KiB)",
        f"- Other load: load average {busy['load_average_before']} before, "
        f"{busy['load_average_after']} after; calibration loop {busy['calibration_ms_before']} ms "
        f"before, {busy['calibration_ms_after']} ms after (higher = a busier machine)",
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()),
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows(results)]
    lines += [
        "",
        f"Target: ≥ {TARGET_RATE:.0f} invoices/s with p99 ≤ {TARGET_P99_MS:.0f} ms. "
        "CPU cores = CPU seconds used during the measurement ÷ its duration, for the API "
        "server processes, the database server (PostgreSQL only; SQLite runs inside the app) "
        "and the load generator; the machine has "
        f"{machine['nproc']}.",
        END,
    ]
    return "\n".join(lines)


def update_readme(results: dict[str, Any]) -> None:
    """Replace the results block of bench/README.md (appended when there is none)."""
    block = markdown(results)
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + block + "\n"
    README.write_text(text)
