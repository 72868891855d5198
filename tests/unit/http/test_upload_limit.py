"""BodyLimit on upload paths: a body without Content-Length is counted as the handler
reads it, and past the limit the caller gets 413 while the handler is told the client left."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from fapiao.http.middleware import BodyLimit


async def handler(scope: Any, receive: Any, send: Any) -> None:
    body = await Request(scope, receive).body()
    await PlainTextResponse(f"got {len(body)}")(scope, receive, send)


def call(path: str, chunks: list[bytes]) -> list[dict[str, Any]]:
    app = BodyLimit(handler, limit=10, uploads={"/upload": 100})
    queue = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": []}
    asyncio.run(app(scope, receive, send))
    return sent


def test_an_upload_within_its_limit_streams_through() -> None:
    sent = call("/upload", [b"x" * 40, b"x" * 40])
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"got 80"


def test_an_upload_past_its_limit_is_413_and_the_handler_answer_dropped() -> None:
    sent = call("/upload", [b"x" * 60, b"x" * 60, b"x" * 60])
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 413
    problem = json.loads(sent[1]["body"])
    assert problem["code"] == "PAYLOAD_TOO_LARGE" and "100" in problem["detail"]


def test_other_paths_keep_the_small_limit() -> None:
    assert call("/other", [b"x" * 40])[0]["status"] == 413
