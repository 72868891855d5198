"""Screenshots on support tickets: checked by content, stored under the data directory
with random names, served only to those who see the ticket, all-or-nothing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

import fapiao
from conftest import World
from fapiao.settings import Settings
from pictures import jpeg, png

TICKETS = "/api/v1/tickets"
NAME = re.compile(r"[0-9a-f]{32}\.(png|jpg)")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A small limit, so "too large" needs only a few kilobytes.
    return settings.model_copy(update={"ticket_attachment_max_bytes": 4096})


def open_ticket(world: World, who: str = "seller") -> str:
    body = {"subject": "截图", "category": "issuing", "body": "开票时报错"}
    response = world.client.post(TICKETS, json=body, headers=world.as_(who))
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def post_files(
    world: World, who: str, number: str, files: list[tuple[str, bytes, str]], **data: str
) -> Any:
    route = "attachments" if not data else "messages"
    return world.client.post(
        f"{TICKETS}/{number}/{route}",
        files=[("files", item) for item in files],
        data=data or None,
        headers=world.as_(who, **{"Accept-Language": "en"}),
    )


def stored(world: World) -> list[Path]:
    root = world.platform.settings.attachments_dir
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def thread(world: World, number: str, who: str = "seller") -> Any:
    return world.client.get(f"{TICKETS}/{number}", headers=world.as_(who)).json()


def test_png_and_jpeg_are_stored_with_random_names_and_served_back(world: World) -> None:
    number = open_ticket(world)
    picture, photo = png(3, 2), jpeg()
    sent = post_files(
        world,
        "seller",
        number,
        [("../../etc/屏幕截图 1.png", picture, "text/plain"), ("photo.gif", photo, "image/gif")],
        body="两张截图",
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()["messages"][-1]
    assert message["body"] == "两张截图"
    first, second = message["attachments"]
    # The type is what the bytes are, whatever the client said; the name is only shown.
    assert (first["content_type"], first["width"], first["height"]) == ("image/png", 3, 2)
    assert (second["content_type"], second["filename"]) == ("image/jpeg", "photo.jpg")
    assert first["filename"] == "屏幕截图 1.png"
    assert first["sha256"] == hashlib.sha256(picture).hexdigest()
    assert first["size"] == len(picture)
    files = stored(world)
    root = world.platform.settings.attachments_dir.resolve()
    assert len(files) == 2
    package = Path(fapiao.__file__).resolve().parent  # where any static web files live
    for path in files:
        assert NAME.fullmatch(path.name) and path.resolve().is_relative_to(root)
        assert not path.resolve().is_relative_to(package)
        assert path.stat().st_mode & 0o077 == 0
    assert sorted(path.read_bytes() for path in files) == sorted([picture, photo])
    download = world.client.get(first["url"], headers=world.as_("seller_viewer"))
    assert download.status_code == 200 and download.content == picture
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert ".." not in download.headers["content-disposition"]
    assert world.client.get(second["url"], headers=world.as_("officer")).content == photo
    for who in ("other", "buyer"):
        hidden = world.client.get(first["url"], headers=world.as_(who))
        assert hidden.status_code == 404 and hidden.json()["code"] == "TICKET_NOT_FOUND"
    # An attachment id of another ticket is not found through this one.
    other_ticket = open_ticket(world)
    wrong = world.client.get(
        f"{TICKETS}/{other_ticket}/attachments/{first['id']}", headers=world.as_("seller")
    )
    assert wrong.status_code == 404 and wrong.json()["code"] == "ATTACHMENT_NOT_FOUND"


def test_a_text_file_named_png_is_refused(world: World) -> None:
    number = open_ticket(world)
    refused = post_files(world, "seller", number, [("shot.png", b"just text\n", "image/png")])
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert (error["field"], error["code"]) == ("files[0]", "ATTACHMENT_NOT_AN_IMAGE")
    # A PNG signature in front of nonsense is no PNG either.
    forged = post_files(world, "seller", number, [("x.png", png()[:8] + b"\0" * 40, "image/png")])
    assert forged.status_code == 422
    assert stored(world) == []


def test_a_file_over_the_limit_is_refused(world: World) -> None:
    number = open_ticket(world)
    big = png(padding=5000)
    refused = post_files(world, "seller", number, [("big.png", big, "image/png")])
    assert refused.status_code == 413 and refused.json()["code"] == "ATTACHMENT_TOO_LARGE"
    assert refused.json()["errors"][0]["field"] == "files[0]"
    # A whole request beyond five files at the limit is cut off before it is parsed.
    huge = post_files(world, "seller", number, [("huge.png", b"\0" * (2 << 20), "image/png")])
    assert huge.status_code == 413 and huge.json()["code"] == "PAYLOAD_TOO_LARGE"
    for count in (6, 12):
        many = post_files(world, "seller", number, [("a.png", png(), "image/png")] * count)
        assert many.status_code == 422
        assert many.json()["errors"][0]["code"] == "TOO_MANY_ATTACHMENTS"
    assert stored(world) == [] and len(thread(world, number)["messages"]) == 1


def test_one_bad_file_stores_none_of_them(world: World) -> None:
    number = open_ticket(world)
    files = [("a.png", png(), "image/png"), ("b.png", b"GIF89a...", "image/png")]
    refused = post_files(world, "seller", number, files, body="附图")
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["files[1]"]
    assert stored(world) == []
    assert [m["body"] for m in thread(world, number)["messages"]] == ["开票时报错"]


def test_a_refused_write_removes_the_files_it_wrote(world: World) -> None:
    number = open_ticket(world)
    world.client.post(f"{TICKETS}/{number}/close", headers=world.as_("seller"))
    # Officers cannot answer a closed ticket: the files checked fine but must not stay.
    refused = post_files(world, "officer", number, [("a.png", png(), "image/png")])
    assert refused.status_code == 409 and refused.json()["code"] == "TICKET_CLOSED"
    assert stored(world) == []


def test_attachments_join_the_last_own_message_or_make_a_new_one(world: World) -> None:
    number = open_ticket(world)
    added = post_files(world, "seller", number, [("a.png", png(), "image/png")])
    assert added.status_code == 201, added.text
    (message,) = added.json()["messages"]
    assert len(message["attachments"]) == 1 and added.json()["status"] == "open"
    # Five at most per message: the sixth and seventh start a new one.
    more = [("b.jpg", jpeg(), "image/jpeg")] * 4
    assert len(post_files(world, "seller", number, more).json()["messages"]) == 1
    two = post_files(world, "seller", number, [("c.png", png(), "image/png")] * 2).json()
    assert [len(m["attachments"]) for m in two["messages"]] == [5, 2]
    assert two["messages"][1]["body"] == ""
    # An officer's files after the user's message are an officer's reply.
    answer = post_files(world, "officer", number, [("d.png", png(), "image/png")]).json()
    assert answer["status"] == "answered" and answer["messages"][-1]["is_officer"] is True
    assert len(stored(world)) == 8
    world.client.post(f"{TICKETS}/{number}/close", headers=world.as_("seller"))
    closed = post_files(world, "officer", number, [("f.png", png(), "image/png")])
    assert closed.status_code == 409 and len(stored(world)) == 8
    # On a closed ticket the user's files are a reply that reopens it.
    world.client.post(f"{TICKETS}/{number}/close", headers=world.as_("officer"))
    reopened = post_files(world, "seller", number, [("e.png", png(), "image/png")]).json()
    assert reopened["status"] == "open" and len(reopened["messages"]) == 4
    empty = world.client.post(f"{TICKETS}/{number}/attachments", headers=world.as_("seller"))
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "files"
