"""The scope table covers every route of the OpenAPI document, and a route left out of it
is closed to API tokens for anything but reading."""

from __future__ import annotations

from fastapi.testclient import TestClient
from test_api_tokens import bearer, make_token

from conftest import World
from fapiao.app import create_app
from fapiao.http.deps import ActorDep
from fapiao.http.scopes import ADMIN, ISSUE, PEOPLE, PUBLIC, READ, ROUTE_SCOPES, required_scope
from fapiao.platform import Platform


def openapi_routes(app_json: dict[str, object]) -> set[tuple[str, str]]:
    paths = app_json["paths"]
    assert isinstance(paths, dict)
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def test_every_openapi_route_has_a_declared_scope(platform: Platform) -> None:
    with TestClient(create_app(platform=platform)) as client:
        routes = openapi_routes(client.get("/openapi.json").json())
    undeclared = sorted(routes - ROUTE_SCOPES.keys())
    assert undeclared == [], f"give these routes a row in fapiao/http/scopes.py: {undeclared}"
    stale = sorted(ROUTE_SCOPES.keys() - routes)
    assert stale == [], f"rows for routes that no longer exist: {stale}"
    for (method, _path), scope in ROUTE_SCOPES.items():
        assert scope in (PUBLIC, READ, ISSUE, ADMIN, PEOPLE)
        if scope == READ:
            assert method == "GET"  # read tokens reach only GET/HEAD routes


def test_an_undeclared_route_denies_tokens_except_for_reading(world: World) -> None:
    assert required_scope("POST", "/api/v1/not-declared") == PEOPLE
    assert required_scope("HEAD", "/api/v1/not-declared") == READ

    def write(actor: ActorDep) -> dict[str, str]:
        return {"user": actor.username}

    app = create_app(platform=world.platform)
    app.add_api_route("/api/v1/not-declared", write, methods=["POST", "GET"])
    every = make_token(world, "seller_admin", ["read", "issue", "admin"])
    with TestClient(app) as client:
        refused = client.post("/api/v1/not-declared", headers=bearer(every))
        assert refused.status_code == 403 and refused.json()["code"] == "TOKEN_SCOPE"
        assert client.get("/api/v1/not-declared", headers=bearer(every)).status_code == 200
        # People signed in are limited by their role only, not by the table.
        person = client.post("/api/v1/not-declared", headers=world.as_("seller_admin"))
        assert person.status_code == 200
