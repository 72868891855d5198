"""What the benchmark ran on: hardware, disk and software versions."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "fapiao fastapi starlette uvicorn sqlalchemy psycopg pydantic httpx2 uvloop httptools".split()
)


def _first(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _mount_of(path: Path) -> tuple[str, str, str]:
    """(device, mount point, fs type) of the file system holding `path`."""
    best = ("?", "", "?")
    for line in Path("/proc/mounts").read_text().splitlines():
        device, mount, fstype, *_ = line.split()
        if str(path).startswith(mount) and len(mount) > len(best[1]):
            best = (device, mount, fstype)
    return best


def _rotational(device: str) -> str:
    # Virtual disks (virtio) often claim to be rotational whatever is behind them; the
    # fdatasync rate measured next to it says more.
    flag = Path(f"/sys/block/{Path(device).name}/queue/rotational")
    return f"rotational flag {flag.read_text().strip()}" if flag.exists() else "rotational flag ?"


def fsync_rate(directory: Path, count: int = 300) -> float:
    """4 KiB write + fdatasync per round, rounds per second: the durability floor."""
    with tempfile.NamedTemporaryFile(dir=directory) as handle:
        began = time.perf_counter()
        for _ in range(count):
            os.write(handle.fileno(), b"\0" * 4096)
            os.fdatasync(handle.fileno())
        return count / (time.perf_counter() - began)


def calibration_ms() -> float:
    """Milliseconds one core takes for a fixed pure-Python workload: run before and after
    the benchmark, it shows whether other load on the machine slowed everything down."""
    best = math.inf
    for _ in range(3):
        began = time.perf_counter()
        total = 0
        for number in range(300_000):
            total += number * number % 7
        best = min(best, (time.perf_counter() - began) * 1000)
    return round(best, 1)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def describe(data_root: Path) -> dict[str, Any]:
    device, mount, fstype = _mount_of(data_root.resolve())
    mem_kib = int(_first("/proc/meminfo", "MemTotal").split()[0])
    return {
        "nproc": os.cpu_count(),
        "cpu": _first("/proc/cpuinfo", "model name"),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "disk": f"{device} ({fstype} on {mount}, {_rotational(device)})",
        "fdatasync_per_s": round(fsync_rate(data_root)),
        "kernel": platform.release(),
    }


def versions(postgres: str | None) -> dict[str, str]:
    found = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    if postgres:
        found["postgresql"] = postgres
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found
