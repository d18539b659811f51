"""The playground's web server: the standard library's ``http.server`` and ``json``.

Routes (every answer is JSON except the static files of the page):

========================================  ==========================================================
``GET /``                                 the page: ``index.html``, its scripts and CSS
``GET /api/options``                      the choices and limits the form offers
``POST /api/new``                         start a network: a JSON object such as
                                          ``{"dataset": "xor", "hidden": [4], "lr": 0.03,
                                          "features": ["x1", "x2"], "seed": 0}``; answers the state
``POST /api/step?n=10``                   ``n`` training steps (1 to ``MAX_STEPS``); answers the
                                          state without the data points
``GET /api/state``                        the state: loss curve, weights, output, points, accuracy
``GET /api/unit?layer=&unit=&sample=``    one unit opened up for one training sample
``POST /api/settings``                    change live settings of the running session: some of
                                          ``lr``, ``regularization``, ``reg_rate``, ``batch_size``;
                                          answers the state without the data points
``POST /api/weight``                      set one weight ``W_k[i, j]``: ``{"layer": k, "from": i,
                                          "to": j, "value": w}``; answers the state without points
``GET /api/backprop?sample=``             every step of one sample's forward and backward pass
========================================  ==========================================================

A bad parameter gets ``400 {"error": "..."}`` naming it and the value received; every request
gets an answer, a body the server cannot parse included (JSON nested too deeply: 400; an
error of the server itself: 500 naming it). The server binds to 127.0.0.1 and answers only
requests whose ``Host`` is that address (or ``localhost``) with its port, so a web page
elsewhere cannot drive it through DNS rebinding. Bound to another address (``--host``), it
answers any ``Host``: the user chose to share it.

Cross-site requests are refused (CSRF): a POST whose ``Origin`` or ``Referer`` is not the
origin the server is reached at (``http://`` + the ``Host`` header), or whose
``Sec-Fetch-Site`` is neither ``same-origin`` nor ``none``, gets 403 naming the origin; a
POST body must be sent as ``Content-Type: application/json`` (else 415), which a page on
another site cannot do without a CORS preflight the server never grants. Clients that send
none of these headers (curl, scripts) are served. A body must come with ``Content-Length``
(ASCII digits): a chunked body is refused with 411 rather than silently ignored.
One lock serialises the requests: the session is shared, and requests are small.
"""

from __future__ import annotations

import json
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .._validation import short_repr
from .config import (
    MAX_BODY,
    MAX_STEPS,
    Config,
    RequestError,
    limits,
    parse_config,
    parse_int_param,
    parse_settings,
    parse_weight,
)
from .session import Session
from .stepper import backprop_steps
from .units import inspect_unit

STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/draw.js": ("draw.js", "text/javascript; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/stepper.js": ("stepper.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


def static_file(name: str) -> bytes:
    """The bytes of a file shipped in ``nablanet/playground/static``."""
    return resources.files("nablanet.playground").joinpath("static", name).read_bytes()


class PlaygroundServer(ThreadingHTTPServer):
    """An HTTP server holding one :class:`Session` (replaced by ``POST /api/new``)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], config: Config | None = None) -> None:
        super().__init__(address, PlaygroundHandler)
        self.lock = threading.Lock()
        self.session = Session(config or Config())

    @property
    def url(self) -> str:
        """``http://HOST:PORT/`` where the server listens."""
        host, port = str(self.server_address[0]), int(self.server_address[1])
        return f"http://{host}:{port}/"

    def allowed_hosts(self) -> set[str] | None:
        """``Host`` header values answered on a loopback address: that address and localhost,
        with the port; None (any) when bound elsewhere, which the user chose with ``--host``."""
        host, port = str(self.server_address[0]), int(self.server_address[1])
        if not host.startswith("127."):
            return None
        return {f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"}


class PlaygroundHandler(BaseHTTPRequestHandler):
    """Routes one request; see the module docstring."""

    server: PlaygroundServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the URL, not a line per poll."""

    # -- answers ----------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()
        self._send(status, body, "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    # -- routing ----------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        try:
            raw = self._read_raw()  # first, so that a refused request leaves no bytes behind
            allowed = self.server.allowed_hosts()
            if allowed is not None and self.headers.get("Host") not in allowed:
                host = self.headers.get("Host")
                raise RequestError(f"unexpected Host header {host!r}", status=403)
            if method == "POST":  # the requests that change the session
                self._check_same_origin()
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
            if method == "GET" and parts.path in STATIC:
                name, content_type = STATIC[parts.path]
                self._send(HTTPStatus.OK, static_file(name), content_type)
                return
            route = ROUTES.get((method, parts.path))
            if route is None:
                other = "POST" if method == "GET" else "GET"
                if (other, parts.path) in ROUTES:
                    raise RequestError(f"{parts.path} takes {other}, not {method}", status=405)
                raise RequestError(f"no such page or endpoint {parts.path!r}", status=404)
            body = _decode(raw, self.headers.get("Content-Type")) if method == "POST" else None
            with self.server.lock:
                payload = route(self.server, query, body)
            self._json(HTTPStatus.OK, payload)
        except RequestError as exc:
            self._error(exc.status, str(exc))
        except (ValueError, TypeError) as exc:  # a check deeper in nablanet: still the user's input
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except Exception as exc:  # a bug of ours: still an answer, never a dropped connection
            self.close_connection = True
            message = f"internal error of the playground: {type(exc).__name__}: {exc}"
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, message)

    def _read_raw(self) -> bytes:
        """The request body (at most MAX_BODY bytes, sent with ``Content-Length``).

        A refused body is left unread, so the connection is closed after the answer.
        """
        encoding = self.headers.get("Transfer-Encoding")
        if encoding is not None:
            self.close_connection = True
            raise RequestError(
                f"Transfer-Encoding {short_repr(encoding)} is not supported; "
                "send the body with a Content-Length header",
                status=411,
            )
        lengths = self.headers.get_all("Content-Length") or ["0"]
        length_text = lengths[0].strip()
        if len(lengths) > 1 or not re.fullmatch(r"[0-9]+", length_text):
            self.close_connection = True
            raise RequestError(
                f"bad Content-Length header {short_repr(', '.join(lengths))}: "
                "expected one decimal number of bytes (ASCII digits 0-9)"
            )
        length_text = length_text.lstrip("0") or "0"
        if len(length_text) > len(str(MAX_BODY)) or int(length_text) > MAX_BODY:
            self.close_connection = True  # the body is not read
            size = length_text if len(length_text) <= 20 else f"{len(length_text)}-digit number of"
            raise RequestError(f"request body of {size} bytes; at most {MAX_BODY}", status=413)
        return self.rfile.read(int(length_text))

    def _check_same_origin(self) -> None:
        """Refuse (403) a request that a page of another site made the browser send."""
        host = self.headers.get("Host")
        served = f"http://{host}" if host else self.server.url.rstrip("/")
        origin = self.headers.get("Origin")
        if origin is not None and origin.lower() != served.lower():
            raise RequestError(
                f"cross-site request refused: Origin {short_repr(origin)} is not {served}",
                status=403,
            )
        site = self.headers.get("Sec-Fetch-Site")
        if site is not None and site.lower() not in ("same-origin", "none"):
            raise RequestError(
                f"cross-site request refused: Sec-Fetch-Site {short_repr(site)} from Origin "
                f"{short_repr(origin)}; only pages of {served} may change the session",
                status=403,
            )
        referer = self.headers.get("Referer")
        if referer is not None and _origin_of(referer) != served.lower():
            raise RequestError(
                f"cross-site request refused: Referer {short_repr(referer)} is not a page of {served}",
                status=403,
            )

    def do_GET(self) -> None:
        """Answer a GET."""
        self._handle("GET")

    def do_POST(self) -> None:
        """Answer a POST."""
        self._handle("POST")


def _origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL, lowercased (the part a browser's Origin header holds)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return ""
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}".lower()


def _decode(raw: bytes, content_type: str | None) -> Any:
    """A request body as JSON (an empty body is ``{}``); it must be typed application/json."""
    if not raw.strip():
        return {}
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise RequestError(
            f"a request body must be sent as Content-Type 'application/json', "
            f"got {short_repr(content_type)}",
            status=415,
        )
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise RequestError("the request body is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # Python's limit on the digits of an int (4300)
        raise RequestError(f"the request body is not valid JSON: {exc}") from None


# -- endpoints: (server, query, body) -> JSON payload ------------------------------------------
def _no_query(query: dict[str, list[str]], allowed: tuple[str, ...] = ()) -> None:
    extra = sorted(set(query) - set(allowed))
    if extra:
        raise RequestError(f"unknown query parameter {extra[0]!r}; expected {list(allowed)}")


def api_options(server: PlaygroundServer, query: dict[str, list[str]], body: Any) -> Any:
    """``GET /api/options``."""
    _no_query(query)
    return limits()


def api_new(server: PlaygroundServer, query: dict[str, list[str]], body: Any) -> Any:
    """``POST /api/new``: a new session from the body (the old one stays if it is refused)."""
    _no_query(query)
    server.session = Session(parse_config(body))
    return server.session.state()


def api_step(server: PlaygroundServer, query: dict[str, list[str]], body: Any) -> Any:
    """``POST /api/step?n=N``."""
    _no_query(query, ("n",))
    if body:
        raise RequestError("/api/step takes no body; the number of steps is ?n=")
    n = parse_int_param(query, "n", 1, MAX_STEPS)
    server.session.step(n)
    return server.session.state(data=False)


def api_state(server: PlaygroundServer, query: dict[str, list[str]], body: Any) -> Any:
    """``GET /api/state``."""
    _no_query(query)
    return server.session.state()


def api_unit(server: PlaygroundServer, query: dict[str, list[str]], body: Any) -> Any:
    """``GET /api/unit?layer=K&unit=J&sample=I``."""
    _no_query(query, ("layer", "unit", "sample"))
    big = 10**9
    layer = parse_int_param(query, "layer", 0, big)
    unit = parse_int_param(query, "unit", 0, big)
    sample = parse_int_param(query, "sample", 0, big)
    return inspect_unit(server.session, layer, unit, sample)


def api_settings(server: PlaygroundServer, query: dict[str, list[str]], body: Any) -> Any:
    """``POST /api/settings``: live settings into the running session (all or none)."""
    _no_query(query)
    server.session.apply(parse_settings(body, server.session.config))
    return server.session.state(data=False)


def api_weight(server: PlaygroundServer, query: dict[str, list[str]], body: Any) -> Any:
    """``POST /api/weight``: ``{"layer", "from", "to", "value"}`` sets ``W_layer[from, to]``."""
    _no_query(query)
    server.session.set_weight(*parse_weight(body))
    return server.session.state(data=False)


def api_backprop(server: PlaygroundServer, query: dict[str, list[str]], body: Any) -> Any:
    """``GET /api/backprop?sample=I``."""
    _no_query(query, ("sample",))
    return backprop_steps(server.session, parse_int_param(query, "sample", 0, 10**9))


ROUTES = {
    ("POST", "/api/settings"): api_settings,
    ("POST", "/api/weight"): api_weight,
    ("GET", "/api/backprop"): api_backprop,
    ("GET", "/api/options"): api_options,
    ("POST", "/api/new"): api_new,
    ("POST", "/api/step"): api_step,
    ("GET", "/api/state"): api_state,
    ("GET", "/api/unit"): api_unit,
}


def make_server(
    host: str = "127.0.0.1", port: int = 0, config: Config | None = None
) -> PlaygroundServer:
    """A playground server bound to ``host:port`` (``port=0``: a free port), not yet serving.

    Call ``serve_forever()`` on it (in a thread, for tests) and ``shutdown()`` to stop.
    """
    try:
        return PlaygroundServer((host, port), config)
    except OSError as exc:  # an unknown host, a port in use or not allowed
        reason = exc.strerror or str(exc)
        raise OSError(f"cannot serve the playground at {host}:{port}: {reason}") from exc
