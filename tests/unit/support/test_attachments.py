"""Telling PNG and JPEG apart from everything else, by their bytes alone."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from fapiao.kit.errors import FapiaoError, ValidationFailed
from fapiao.support.attachments import (
    NotAPicture,
    check_uploads,
    clean_filename,
    identify,
    new_stored_name,
    path_of,
)
from pictures import jpeg, png


def test_real_pictures_are_identified_with_their_size() -> None:
    assert (identify(png(7, 5)).content_type, identify(png(7, 5)).width) == ("image/png", 7)
    assert identify(png(7, 5)).height == 5
    picture = identify(jpeg())
    assert (picture.content_type, picture.width, picture.height) == ("image/jpeg", 1, 1)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, world",
        b"GIF89a\x01\x00\x01\x00",
        png()[:20],  # signature, no complete header
        png()[:12] + b"IDAT" + png()[16:],  # first chunk is not IHDR
        png(0, 1),  # no pixels
        png(20000, 1),  # wider than any screen
        png()[:24] + b"\x03\x02" + png()[26:],  # bit depth 3
        b"\xff\xd8\xff\xd9",  # a JPEG that ends at once
        jpeg().replace(b"\xff\xc0", b"\xff\xe1"),  # no frame header before the scan
        jpeg()[:40],  # cut inside the segments
    ],
)
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(NotAPicture):
        identify(data)


def test_a_jpeg_frame_header_after_other_segments_and_fill_bytes() -> None:
    comment = b"\xff\xfe" + struct.pack(">H", 7) + b"hello"
    data = jpeg()[:2] + comment + b"\xff" + jpeg()[2:]
    assert identify(data).width == 1


@pytest.mark.parametrize(
    ("name", "content_type", "shown"),
    [
        ("../../etc/passwd.png", "image/png", "passwd.png"),
        ("C:\\Users\\张三\\截图 1.PNG", "image/png", "截图 1.png"),
        ('a"b;c\r\n.jpg', "image/jpeg", "a_b_c.jpg"),
        ("photo.gif", "image/jpeg", "photo.jpg"),
        ("", "image/png", "screenshot.png"),
        (None, "image/jpeg", "screenshot.jpg"),
        ("...", "image/png", "screenshot.png"),
        ("x" * 300 + ".png", "image/png", "x" * 116 + ".png"),
    ],
)
def test_file_names_are_cleaned_for_display(
    name: str | None, content_type: str, shown: str
) -> None:
    assert clean_filename(name, content_type) == shown


def test_stored_names_are_random_and_stay_inside_the_root(tmp_path: Path) -> None:
    first, second = new_stored_name("image/png"), new_stored_name("image/png")
    assert first != second and first.endswith(".png")
    assert path_of(tmp_path, first).parent.parent == tmp_path
    for tampered in ("../x.png", "a/b.png", "passwd", first.replace(".png", ".html")):
        with pytest.raises(ValueError):
            path_of(tmp_path, tampered)


def test_checks_name_every_bad_file_and_size_comes_first() -> None:
    with pytest.raises(ValidationFailed) as bad:
        check_uploads([("a.png", png()), ("b.png", b"text"), ("c.jpg", b"")], 4096)
    assert [(e.field, e.code) for e in bad.value.errors] == [
        ("files[1]", "ATTACHMENT_NOT_AN_IMAGE"),
        ("files[2]", "ATTACHMENT_NOT_AN_IMAGE"),
    ]
    with pytest.raises(FapiaoError) as large:
        check_uploads([("a.png", png(padding=5000)), ("b.png", b"text")], 4096)
    assert large.value.status == 413 and large.value.code == "ATTACHMENT_TOO_LARGE"
    assert [e.field for e in large.value.errors] == ["files[0]", "files[1]"]
    with pytest.raises(ValidationFailed) as many:
        check_uploads([("a.png", png())] * 6, 4096)
    assert many.value.errors[0].code == "TOO_MANY_ATTACHMENTS"
    (ok,) = check_uploads([("a.png", png())], 4096)
    assert ok.data == png() and len(ok.sha256) == 64 and ok.filename == "a.png"
