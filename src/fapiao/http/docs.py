"""The browsable API documentation at /docs: Swagger UI from the vendored
swagger-ui-bundle package (no CDN is reachable from a tax bureau's network), started by
a script file of ours instead of the inline script FastAPI writes, so the page works
under a Content-Security-Policy that allows scripts only from this origin. ReDoc is not
served; /openapi.json is the machine-readable document."""

from __future__ import annotations

import swagger_ui_bundle
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from fapiao.http.security import DOCS_CONTENT_SECURITY_POLICY, HardenedFastAPI

ASSETS = "/static/swagger-ui"
INIT = "/docs/swagger-init.js"

PAGE = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fapiao API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
</head><body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{INIT}"></script>
</body></html>"""

SCRIPT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  oauth2RedirectUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout"
});
"""


def install(app: HardenedFastAPI) -> None:
    """Serve /docs, its start-up script and the Swagger UI assets."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path))
    app.header_policies["/docs"] = DOCS_CONTENT_SECURITY_POLICY

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(PAGE, media_type="text/html; charset=utf-8")

    @app.get(INIT, include_in_schema=False)
    def docs_script() -> Response:
        return Response(SCRIPT, media_type="text/javascript; charset=utf-8")
