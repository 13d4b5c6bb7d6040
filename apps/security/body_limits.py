"""Request bodies are refused before they are read, by who is asking and where.

Django reads a body when something asks for it (``request.POST``: the CSRF check of every form
post, before any view), and a multipart body it parses goes to a temporary file however large it
is: a 300 MiB anonymous POST to the login page once put 273 MiB in ``/tmp``. Here every request
gets a bound, and one whose ``Content-Length`` is over it is answered 413 before a byte of its
body is read (with ``Connection: close``, so the server does not read it either):

- ``REQUEST_MAX_BODY_BYTES_ANONYMOUS`` (64 KiB) without a session or a bearer token: the login
  form, the SSO callbacks, the SMS delivery reports;
- ``REQUEST_MAX_BODY_BYTES`` (3 MiB) for a signed-in person or a request with a bearer token:
  admin forms and ``/v1`` JSON (itself bounded at ``DATA_UPLOAD_MAX_MEMORY_SIZE`` by the parser);
- ``IMPORT_MAX_UPLOAD_BYTES`` plus room for the form's other fields, only on an admin import
  upload and only for a person its admin lets import.

A chunked body (no ``Content-Length``) is counted while it is read, by
:class:`ChunkedBodyLimit` around the WSGI application: at most ``REQUEST_MAX_BODY_BYTES`` are read
(413 beyond, at once), then the body is handed on with its length so the bounds above apply.
Uploads larger than that must say their length, as browsers do.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

logger = logging.getLogger(__name__)

# What an import form carries besides its file: boundaries, headers, the other fields.
IMPORT_FORM_OVERHEAD = 64 * 1024
_CHUNK = 64 * 1024


def _import_admin(request: HttpRequest) -> Any:
    """The ModelAdmin whose import upload ``request`` is addressed to, or None."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if match.namespace != "admin" or not (match.url_name or "").endswith("_import"):
        return None
    # The admin's views wrap the ModelAdmin's bound method (functools.update_wrapper).
    view = getattr(match.func, "__wrapped__", match.func)
    model_admin = getattr(view, "__self__", None)
    return model_admin if hasattr(model_admin, "has_import_permission") else None


def body_bound(request: HttpRequest) -> tuple[int, str]:
    """The most bytes ``request`` may send, and what the bound is called (for the answer)."""
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    if not signed_in and not request.headers.get("Authorization"):
        return int(settings.REQUEST_MAX_BODY_BYTES_ANONYMOUS), "without signing in"
    if signed_in and request.method == "POST":
        model_admin = _import_admin(request)
        if model_admin is not None and model_admin.has_import_permission(request):
            return int(settings.IMPORT_MAX_UPLOAD_BYTES) + IMPORT_FORM_OVERHEAD, "for an import"
    return int(settings.REQUEST_MAX_BODY_BYTES), "for this request"


def too_large(path: str, limit: int, what: str) -> HttpResponse:
    detail = f"The request body is larger than {limit:,} bytes, the most accepted {what}."
    response: HttpResponse
    if path.startswith("/v1/"):
        response = JsonResponse(
            {"status": 413, "code": "too_large", "detail": detail, "errors": {}}, status=413
        )
    else:
        response = HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
    response["Connection"] = "close"
    return response


class RequestBodyLimitMiddleware:
    """413 for a declared body over the request's bound, before anything reads it.

    Listed after ``AuthenticationMiddleware`` (the bound depends on the user) and before
    anything that reads the body (``CsrfViewMiddleware`` does, in ``process_view``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            return HttpResponse("Content-Length is not a number.", status=400)
        if length:
            limit, what = body_bound(request)
            if length > limit:
                logger.warning(
                    "request body of %s bytes refused (%s bound %s)", length, what, limit
                )
                return too_large(request.path_info, limit, what)
        return self.get_response(request)


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ChunkedBodyLimit:
    """WSGI wrapper: a chunked body is read counting, up to ``REQUEST_MAX_BODY_BYTES``.

    Django reads ``CONTENT_LENGTH`` bytes of a body and nothing without it; gunicorn hands a
    chunked body over without one. This reads it (decoded by the server) into a spooled
    temporary file and refuses it as soon as it passes the bound; a body within it goes on with
    its ``CONTENT_LENGTH``, so the middleware applies the bound for the user and the path.
    """

    def __init__(self, application: WSGIApp) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not chunked or environ.get("CONTENT_LENGTH"):
            return self.application(environ, start_response)
        limit = int(settings.REQUEST_MAX_BODY_BYTES)
        # Outlives this call as the request's wsgi.input; freed (and its file removed) with the
        # request's environ.
        body = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        )
        size = 0
        stream = environ["wsgi.input"]
        while True:
            chunk = stream.read(min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                body.close()
                logger.warning("chunked request body refused past %s bytes", limit)
                response = too_large(environ.get("PATH_INFO", ""), limit, "in a chunked body")
                start_response(
                    "413 Request Entity Too Large",
                    [(name, value) for name, value in response.items()],
                )
                return [response.content]
            body.write(chunk)
        body.seek(0)
        environ["wsgi.input"] = body
        environ["CONTENT_LENGTH"] = str(size)
        return self.application(environ, start_response)
