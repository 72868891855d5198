"""Routes that resolve their arguments by hand on the common path.

FastAPI solves an endpoint's dependencies and parameters anew on every request, and on
the issuing route that bookkeeping cost more CPU than reading the token, the role check
and the header together (about a sixth of the request's time in the server). A
`DirectRoute` endpoint keeps its ordinary FastAPI signature, so the API description,
the validation and the errors stay FastAPI's, and also carries `direct_arguments`: an
async function of the request that returns the same arguments, or None when it cannot
be sure (an unusual header, say). With None, the request goes to FastAPI's own handler,
which then does everything as it always did; the hand-written path only ever takes
requests whose answer would be the same either way. (What it does not do: apply
`app.dependency_overrides`, which the product does not use, or FastAPI's telemetry
hooks. The endpoint must be declared under the route decorator, as its attribute is
read when the route is built.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

Resolver = Callable[[Request], Awaitable[dict[str, Any] | None]]


def direct_arguments(resolve: Resolver) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach `resolve` to an endpoint served by a DirectRoute."""

    def attach(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.direct_arguments = resolve  # type: ignore[attr-defined]
        return endpoint

    return attach


class DirectRoute(APIRoute):
    """An APIRoute whose handler first asks the endpoint's `direct_arguments` (such an
    endpoint must be async and return a Response). Endpoints without them are served
    by FastAPI's handler alone, so a router may use this class for all its routes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        fallback = super().get_route_handler()
        endpoint = self.endpoint
        resolve: Resolver | None = getattr(endpoint, "direct_arguments", None)
        if resolve is None:
            return fallback

        async def handle(request: Request) -> Response:
            arguments = await resolve(request)
            if arguments is None:
                return await fallback(request)
            response = await endpoint(**arguments)
            assert isinstance(response, Response)
            return response

        return handle
