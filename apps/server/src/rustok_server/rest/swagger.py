"""Swagger UI at ``/swagger``, its assets served from the swagger-ui-py wheel."""

from __future__ import annotations

from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>RusToK API</title>
  <link rel="stylesheet" href="/swagger/static/swagger-ui.css">
  <link rel="icon" type="image/png" href="/swagger/static/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/swagger/static/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
  </script>
</body>
</html>
"""


async def swagger_page(_: Request) -> HTMLResponse:
    return HTMLResponse(SWAGGER_PAGE)


def swagger_routes() -> list[BaseRoute]:
    assets = str(files("swagger_ui").joinpath("static"))
    return [
        Route("/swagger", swagger_page, methods=["GET"]),
        Mount("/swagger/static", app=StaticFiles(directory=assets), name="swagger-static"),
    ]
