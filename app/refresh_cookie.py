"""The web pages' refresh token in an `HttpOnly; Secure; SameSite=Strict` cookie sent only to
POST /token/refresh; the access token stays in the page's memory.

A client asks for the cookie (`"refresh_cookie": true` at POST /login, with the `X-Session-Cookie: 1`
header); the refresh route alone reads it, and only from a request carrying that header whose
Origin, when sent, is this site. Every other route takes bearer tokens only. Why:
docs/decisions/0019-refresh-token-cookie-for-the-pages.md.
"""

from urllib.parse import urlsplit

from flask import Response, current_app, g, request

from app.errors import Forbidden

HEADER = "X-Session-Cookie"
_PENDING = object()  # a refresh from the cookie is under way: a 401 answer clears the cookie
_CLEAR = ""


def _name() -> str:
    return current_app.config["JWT_REFRESH_COOKIE_NAME"]


def sent() -> bool:
    """The request carries the cookie and no bearer token: the refresh is the cookie's."""
    return "Authorization" not in request.headers and bool(request.cookies.get(_name()))


def check_request() -> None:
    """403 unless the request comes from this site's own script: a cross-site form cannot add a
    header, and a cross-origin script needs a CORS preflight, which does not allow this one."""
    if request.headers.get(HEADER) != "1":
        raise Forbidden(f"The session cookie is used only with the header '{HEADER}: 1'.")
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        raise Forbidden("The session cookie is used only by this site's own pages.")


def refreshing() -> None:
    """Mark a refresh from the cookie: if it ends in a 401 the dead cookie is cleared."""
    g._refresh_cookie = _PENDING


def keep(token: str) -> None:
    """Send `token` as the new cookie with this response."""
    g._refresh_cookie = token


def clear() -> None:
    """Expire the cookie with this response."""
    g._refresh_cookie = _CLEAR


def apply(response: Response) -> Response:
    """After-request hook of the auth routes: write what the view asked for."""
    action = g.pop("_refresh_cookie", None)
    if action is None or (action is _PENDING and response.status_code != 401):
        return response
    config = current_app.config
    if isinstance(action, str) and action:
        max_age = int(config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds())
        value = action
    else:
        max_age, value = 0, ""
    response.set_cookie(
        _name(),
        value,
        max_age=max_age,
        path=config["JWT_REFRESH_COOKIE_PATH"],
        secure=True,
        httponly=True,
        samesite="Strict",
    )
    return response
