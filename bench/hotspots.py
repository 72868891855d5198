"""Summarise py-spy collapsed stacks (bench/run.py --py-spy DIR) of the API server.

    .venv/bin/python bench/hotspots.py DIR/sqlite-1w-32c-raw.folded [--top 25]

Only samples taken while a request was being handled count (uvicorn's request cycle or
anyio's worker threads); start-up and idle loops do not. Prints where the CPU went by layer
(the library of the innermost frame) and the product functions by inclusive share."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

REQUEST_MARKERS = ("run_asgi", "WorkerThread.run")
# py-spy names files relative to their sys.path entry: "fapiao/db.py", "sqlalchemy/…".
LAYERS = (
    ("fapiao (product code)", ("fapiao/",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("FastAPI / Starlette", ("fastapi/", "starlette/")),
    ("pydantic", ("pydantic",)),
    ("uvicorn / httptools", ("uvicorn/", "httptools/")),
    ("anyio threadpool / threading", ("anyio/", "threading.py", "queue.py")),
    ("psycopg", ("psycopg",)),
    ("asyncio", ("asyncio/",)),
    ("json", ("json/",)),
)
FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")


def split_frame(frame: str) -> tuple[str, str]:
    """(function, path relative to its sys.path entry) of one frame."""
    match = FRAME.match(frame)
    if not match:
        return frame, ""
    path = re.sub(r"^.*?/(site-packages|src|python3\.\d+)/", "", match["path"])
    return match["function"], path


def layer_of(path: str) -> str:
    for name, prefixes in LAYERS:
        if path.startswith(prefixes):
            return name
    return "other (stdlib, C calls of drivers)"


def product_name(function: str, path: str) -> str:
    return path.removesuffix(".py").replace("/", ".") + "." + function


def summarise(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    """(request samples, samples by layer of the innermost frame, inclusive samples of each
    product function)."""
    total, layers, product = 0, Counter[str](), Counter[str]()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit() or not any(marker in stack for marker in REQUEST_MARKERS):
            continue
        count = int(count_text)
        frames = [split_frame(frame) for frame in stack.split(";")]
        total += count
        layers[layer_of(frames[-1][1])] += count
        seen = {
            product_name(f, p)
            for f, p in frames
            if p.startswith("fapiao/") and not p.startswith("fapiao/cli/")
        }
        for name in seen:
            product[name] += count
    return total, layers, product


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folded", type=Path, nargs="+")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in args.folded:
        total, layers, product = summarise(path)
        print(f"== {path.name}: {total} samples while handling requests")
        if not total:
            continue
        print("-- by layer (innermost frame)")
        for name, count in layers.most_common():
            print(f"{count / total:7.1%}  {name}")
        print("-- product functions, inclusive")
        for name, count in product.most_common(args.top):
            print(f"{count / total:7.1%}  {name}")


if __name__ == "__main__":
    main()
