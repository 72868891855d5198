"""Creating a secret file once, safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def create_once(path: Path, data: bytes) -> None:
    """Write `data` to a new file at `path` (mode 0600) atomically: concurrent starters
    all end up with one file, the first one written, and a crash never leaves an empty
    or partial file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race; its file is the file
    finally:
        os.unlink(temporary)
