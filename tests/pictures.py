"""Tiny, real, decodable pictures made byte by byte, for upload tests."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png(width: int = 2, height: int = 1, padding: int = 0) -> bytes:
    """An RGB PNG of `width`×`height` red pixels; `padding` adds an ancillary text chunk
    of that many bytes (a bigger file of the same picture)."""
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = [_chunk(b"IHDR", header)]
    if padding:
        chunks.append(_chunk(b"tEXt", b"Comment\x00" + b"x" * padding))
    chunks += [_chunk(b"IDAT", zlib.compress(rows)), _chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def jpeg() -> bytes:
    """A baseline JPEG of one mid-grey pixel: every coefficient zero, so the scan is one
    DC code and an end-of-block, each coded with the one one-bit code of its table."""
    quantisation = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + b"\x01" * 64
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    counts = b"\x01" + b"\x00" * 15
    dc_table = b"\xff\xc4" + struct.pack(">H", 20) + b"\x00" + counts + b"\x00"
    ac_table = b"\xff\xc4" + struct.pack(">H", 20) + b"\x10" + counts + b"\x00"
    scan = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00" + b"\x00\x3f\x00"
    # Bits 0 (DC difference 0) and 0 (end of block), padded with ones.
    return b"\xff\xd8" + quantisation + frame + dc_table + ac_table + scan + b"\x3f" + b"\xff\xd9"
