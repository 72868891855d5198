"""Screenshots for support tickets: what is accepted, and where it is kept.

Only PNG and JPEG are accepted, and the type is read from the file itself: the magic
bytes, then the header that carries the picture's size (PNG's IHDR chunk, JPEG's
start-of-frame segment) must decode to a sane width and height. The client's content
type and file name decide nothing. Pillow is not a dependency of the platform, and a
header check is all this needs: the platform never decodes the pixels, it stores the
bytes and serves them back as a download with `nosniff`.

Files live under `settings.attachments_dir` (inside the data directory) with a random
name the server draws; the client's name is kept, cleaned, only to be shown."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fastapi.responses import FileResponse

from fapiao.kit.errors import N_, FapiaoError, FieldError, NotFound, ValidationFailed

log = logging.getLogger(__name__)

PNG = "image/png"
JPEG = "image/jpeg"
EXTENSIONS = {PNG: ".png", JPEG: ".jpg"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A screenshot of the widest screens fits easily; anything beyond is no screenshot.
MAX_SIDE = 16384
MAX_PIXELS = 100_000_000
MAX_FILES = 5
FILENAME_LENGTH = 120
# JPEG start-of-frame markers (C0–CF without DHT C4, JPG C8 and DAC CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, without a length: TEM and the restart markers.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|;]+")


@dataclass(frozen=True)
class Picture:
    content_type: str
    width: int
    height: int


class NotAPicture(ValueError):
    """The bytes are neither a PNG nor a JPEG whose header decodes."""


def identify(data: bytes) -> Picture:
    """The type and size of a PNG or JPEG, from its bytes; NotAPicture otherwise."""
    if data.startswith(PNG_SIGNATURE):
        return _png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    raise NotAPicture("neither a PNG nor a JPEG signature")


def _sane(content_type: str, width: int, height: int) -> Picture:
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or width * height > MAX_PIXELS:
        raise NotAPicture(f"implausible size {width}x{height}")
    return Picture(content_type, width, height)


def _png(data: bytes) -> Picture:
    # The first chunk must be IHDR, 13 bytes long: width, height, bit depth, colour type,
    # compression, filter, interlace.
    if len(data) < 8 + 8 + 13 + 4:
        raise NotAPicture("truncated PNG")
    length, kind = struct.unpack(">I4s", data[8:16])
    if length != 13 or kind != b"IHDR":
        raise NotAPicture("PNG without an IHDR chunk first")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", data[16:29]
    )
    allowed_depths = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
    if depth not in allowed_depths.get(colour, set()):
        raise NotAPicture("PNG with an impossible bit depth or colour type")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise NotAPicture("PNG with an unknown method")
    return _sane(PNG, width, height)


def _jpeg(data: bytes) -> Picture:
    """Walk the segments from SOI to the first start-of-frame, which gives the size."""
    position = 2
    end = len(data)
    while position < end:
        if data[position] != 0xFF:
            raise NotAPicture("JPEG segment without a marker")
        while position < end and data[position] == 0xFF:  # fill bytes
            position += 1
        if position >= end:
            break
        marker = data[position]
        position += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            break
        if position + 2 > end:
            break
        (length,) = struct.unpack(">H", data[position : position + 2])
        if length < 2 or position + length > end:
            break
        if marker in _SOF:
            if length < 8:
                break
            height, width = struct.unpack(">HH", data[position + 3 : position + 7])
            return _sane(JPEG, width, height)
        position += length
    raise NotAPicture("JPEG without a frame header")


@dataclass(frozen=True)
class Upload:
    """A file that passed every check, with the name it will be stored under."""

    filename: str
    content_type: str
    width: int
    height: int
    sha256: str
    stored_name: str
    data: bytes


def check_uploads(files: Sequence[tuple[str | None, bytes]], max_bytes: int) -> list[Upload]:
    """Check every file (client's name, bytes read up to one past `max_bytes`) before
    anything is stored: one bad file refuses them all. Too large: 413
    ATTACHMENT_TOO_LARGE; not a PNG or JPEG: 422 naming each bad file as `files[i]`."""
    if len(files) > MAX_FILES:
        raise ValidationFailed(
            [
                FieldError(
                    "files",
                    "TOO_MANY_ATTACHMENTS",
                    N_("At most {max} files per message."),
                    {"max": MAX_FILES},
                )
            ]
        )
    large: list[FieldError] = []
    bad: list[FieldError] = []
    checked: list[Upload] = []
    for index, (name, data) in enumerate(files):
        field = f"files[{index}]"
        if len(data) > max_bytes:
            large.append(
                FieldError(
                    field,
                    "ATTACHMENT_TOO_LARGE",
                    N_("A file may have at most {max} bytes."),
                    {"max": max_bytes},
                )
            )
            continue
        try:
            picture = identify(data)
        except NotAPicture:
            bad.append(
                FieldError(
                    field,
                    "ATTACHMENT_NOT_AN_IMAGE",
                    N_("Only PNG and JPEG pictures can be attached."),
                )
            )
            continue
        checked.append(
            Upload(
                filename=clean_filename(name, picture.content_type),
                content_type=picture.content_type,
                width=picture.width,
                height=picture.height,
                sha256=hashlib.sha256(data).hexdigest(),
                stored_name=new_stored_name(picture.content_type),
                data=data,
            )
        )
    if large:
        raise FapiaoError(
            "ATTACHMENT_TOO_LARGE",
            N_("A file is larger than {max} bytes."),
            status=413,
            params={"max": max_bytes},
            errors=large + bad,
        )
    if bad:
        raise ValidationFailed(bad)
    return checked


def clean_filename(name: str | None, content_type: str) -> str:
    """The client's file name, fit to show: the last path part, no control or
    path-like characters, at most FILENAME_LENGTH characters, with the extension of the
    type the content really has."""
    base = unicodedata.normalize("NFC", name or "")
    base = re.split(r"[\\/]", base)[-1]
    base = _UNSAFE.sub("_", base).strip(" ._")
    stem = os.path.splitext(base)[0].strip(" ._") or "screenshot"
    extension = EXTENSIONS[content_type]
    return stem[: FILENAME_LENGTH - len(extension)] + extension


def new_stored_name(content_type: str) -> str:
    """A name no client chose or can guess: 32 random hex digits and the type's extension."""
    return secrets.token_hex(16) + EXTENSIONS[content_type]


def path_of(root: Path, stored_name: str) -> Path:
    """Where a stored file lives: fanned out by its first two hex digits. The name is
    checked, so a tampered row can never point outside `root`."""
    if not re.fullmatch(r"[0-9a-f]{32}\.(png|jpg)", stored_name):
        raise ValueError("not a stored attachment name")
    return root / stored_name[:2] / stored_name


def write(root: Path, stored_name: str, data: bytes) -> Path:
    """Write the file durably under its final name (through a temporary file, so a
    reader never sees half of it); owner-only permissions."""
    target = path_of(root, stored_name)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = target.with_name(target.name + ".part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def remove(root: Path, stored_names: list[str]) -> None:
    """Delete files whose database rows were not committed."""
    for name in stored_names:
        path_of(root, name).unlink(missing_ok=True)


def served(
    root: Path,
    stored_name: str,
    filename: str,
    content_type: str,
    attachment_id: int,
    disposition: str = "attachment",
) -> FileResponse:
    """A stored picture as a response, never cached (X-Content-Type-Options: nosniff is on
    every response, http.security). NotFound when the file is gone from the disk."""
    path = path_of(root, stored_name)
    if not path.is_file():
        log.warning("attachment %d: file %s is missing", attachment_id, stored_name)
        raise NotFound(
            "ATTACHMENT_FILE_NOT_FOUND",
            N_("The file of attachment {id} is missing on the server."),
            params={"id": attachment_id},
        )
    return FileResponse(
        path,
        media_type=content_type,
        filename=filename,
        content_disposition_type=disposition,
        headers={"Cache-Control": "private, no-store"},
    )
