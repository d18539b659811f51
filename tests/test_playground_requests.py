"""nablanet playground: requests a browser on another site, or a broken client, can send.

Each request is written byte for byte on a socket, so the headers are exactly the ones a
cross-site page (CSRF), a chunked upload or a malformed header would carry. After every
refused request the session must be the one before it.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from nablanet.playground import make_server
from nablanet.playground import server as server_module

XOR = {"dataset": "xor4", "hidden": [3], "activation": "tanh", "optimizer": "adam", "lr": 0.1,
       "batch_size": 4, "seed": 3}  # fmt: skip
NEW = json.dumps({"dataset": "moons", "hidden": [2], "seed": 1}).encode()


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    """``(host, port)`` of a playground server on a free port of 127.0.0.1, in a thread."""
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield str(server.server_address[0]), int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def send(address: tuple[str, int], head: str, body: bytes = b"") -> tuple[int, Any]:
    """``(status, decoded JSON)`` of one request written as ``head`` (latin-1) then ``body``.

    A server that drops the connection without answering raises ``RemoteDisconnected``.
    """
    with socket.create_connection(address, timeout=60) as sock:
        sock.sendall(head.encode("latin-1") + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


def post(
    address: tuple[str, int], path: str, body: bytes, host: str = "", **headers: str
) -> tuple[int, Any]:
    """A POST with ``Host`` (default: the address) and ``Content-Length`` set right, plus
    ``headers`` (``_`` in a name is ``-``)."""
    host = host or "{}:{}".format(*address)
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return send(address, "\r\n".join(lines) + "\r\n\r\n", body)


def state(address: tuple[str, int]) -> Any:
    host, port = address
    status, answer = send(address, f"GET /api/state HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n")
    assert status == 200
    return answer


def fresh_session(address: tuple[str, int]) -> Any:
    status, answer = post(
        address, "/api/new", json.dumps(XOR).encode(), Content_Type="application/json"
    )
    assert status == 200 and answer["config"]["dataset"] == "xor4"
    return answer


def assert_unchanged(address: tuple[str, int], before: Any) -> None:
    after = state(address)
    assert after["config"] == before["config"] and after["weights"] == before["weights"]
    assert after["history"] == before["history"]


CROSS_SITE = [
    # the corpus's request: a "simple" cross-site POST, which no preflight stops
    ({"Origin": "http://evil.example", "Content_Type": "text/plain"}, "http://evil.example"),
    ({"Origin": "http://evil.example", "Content_Type": "application/json"}, "http://evil.example"),
    ({"Origin": "null", "Content_Type": "application/json"}, "'null'"),  # sandboxed iframe
    ({"Origin": "http://localhost:1", "Content_Type": "application/json"}, "localhost:1"),
    ({"Sec_Fetch_Site": "cross-site", "Content_Type": "application/json"}, "cross-site"),
    ({"Sec_Fetch_Site": "same-site", "Content_Type": "application/json"}, "same-site"),
    ({"Referer": "http://evil.example/a.html", "Content_Type": "application/json"}, "evil.example"),
]  # fmt: skip


@pytest.mark.parametrize("path", ["/api/new", "/api/step?n=5"])
@pytest.mark.parametrize(("headers", "named"), CROSS_SITE)
def test_a_cross_site_post_is_refused(
    address: tuple[str, int], path: str, headers: dict[str, str], named: str
) -> None:
    before = fresh_session(address)
    status, answer = post(address, path, NEW if path == "/api/new" else b"", **headers)
    assert status == 403, answer
    assert "cross-site request refused" in answer["error"] and named in answer["error"]
    assert_unchanged(address, before)


def test_the_pages_own_requests_are_served(address: tuple[str, int]) -> None:
    """What Chromium sends from the playground's own page (Origin, Sec-Fetch-Site, Referer)."""
    host, port = address
    for served in (f"{host}:{port}", f"localhost:{port}"):
        fresh_session(address)
        status, answer = post(address, "/api/new", NEW, host=served, Origin=f"http://{served}",
                              Sec_Fetch_Site="same-origin", Referer=f"http://{served}/",
                              Content_Type="application/json")  # fmt: skip
        assert status == 200 and answer["config"]["dataset"] == "moons"
        status, answer = post(address, "/api/step?n=2", b"", Origin=f"http://{host}:{port}")
        assert status == 200 and answer["step"] == 2


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_not_sent_as_json_is_refused(address: tuple[str, int], content_type: Any) -> None:
    before = fresh_session(address)
    headers = {} if content_type is None else {"Content_Type": content_type}
    status, answer = post(address, "/api/new", NEW, **headers)
    assert status == 415
    assert "Content-Type 'application/json'" in answer["error"]
    assert repr(content_type) in answer["error"]
    assert_unchanged(address, before)


def test_json_with_a_charset_is_json(address: tuple[str, int]) -> None:
    fresh_session(address)
    status, answer = post(address, "/api/new", NEW, Content_Type="application/json; charset=utf-8")
    assert status == 200 and answer["config"]["dataset"] == "moons"


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"[" * 2000 + b"]" * 2000, "nested too deeply"),  # RecursionError in json.loads
     (b'{"hidden": ' + b"[" * 2000 + b"]" * 2000 + b"}", "nested too deeply"),
     (b'{"lr": ' + b"1" * 401 + b"}", "lr must be in (0.0, 10.0], got 1111"),  # float() overflows
     (b'{"momentum": -' + b"9" * 401 + b"}", "momentum must be in [0.0, 0.999], got -"),
     (b'{"seed": ' + b"7" * 401 + b"}", "seed must be an integer from 0 to 4294967295")],
    ids=["nested-list", "nested-hidden", "401-digit-lr", "401-digit-momentum", "401-digit-seed"],
)  # fmt: skip
def test_every_body_gets_an_answer(address: tuple[str, int], body: bytes, message: str) -> None:
    before = fresh_session(address)
    status, answer = post(address, "/api/new", body, Content_Type="application/json")
    assert status == 400 and message in answer["error"]
    assert_unchanged(address, before)


def test_a_chunked_body_is_refused_not_ignored(address: tuple[str, int]) -> None:
    before = fresh_session(address)
    host, port = address
    head = (f"POST /api/new HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
    chunked = f"{len(NEW):x}\r\n".encode() + NEW + b"\r\n0\r\n\r\n"
    status, answer = send(address, head, chunked)
    assert status == 411
    assert "Transfer-Encoding 'chunked'" in answer["error"] and "Content-Length" in answer["error"]
    assert_unchanged(address, before)


@pytest.mark.parametrize("value", ["\u00b2", "\u0661\u0662", "+5", "-1", "5 5", "0x10", ""])
def test_a_bad_content_length_is_named(address: tuple[str, int], value: str) -> None:
    """``²`` and ``١٢`` (Arabic-Indic digits) are digits to ``str.isdigit`` and ``int``."""
    before = fresh_session(address)
    host, port = address
    encoded = value.encode("utf-8").decode("latin-1")  # the header's bytes as latin-1 text
    head = f"POST /api/new HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {encoded}\r\n\r\n"
    status, answer = send(address, head, b"{}")
    assert status == 400 and "bad Content-Length header" in answer["error"]
    assert_unchanged(address, before)


def test_two_content_lengths_are_refused(address: tuple[str, int]) -> None:
    host, port = address
    head = (f"POST /api/new HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nContent-Length: 40\r\n\r\n")  # fmt: skip
    status, answer = send(address, head, b"{}")
    assert status == 400 and "'2, 40'" in answer["error"]


def test_a_huge_content_length_is_too_large_not_a_crash(address: tuple[str, int]) -> None:
    host, port = address
    head = f"POST /api/new HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {'9' * 5000}\r\n\r\n"
    status, answer = send(address, head)
    assert status == 413 and "5000-digit number of bytes" in answer["error"]


def test_an_error_of_the_server_is_still_answered(
    address: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setitem(server_module.ROUTES, ("GET", "/api/options"), broken)
    host, port = address
    status, answer = send(address, f"GET /api/options HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n")
    assert status == 500 and "RuntimeError: a bug" in answer["error"]


NEW_ENDPOINTS = [
    ("/api/settings", json.dumps({"lr": 0.5, "batch_size": 2}).encode()),
    ("/api/weight", json.dumps({"layer": 1, "from": 0, "to": 0, "value": 9.0}).encode()),
]


@pytest.mark.parametrize(("path", "body"), NEW_ENDPOINTS, ids=["settings", "weight"])
@pytest.mark.parametrize(("headers", "named"), CROSS_SITE)
def test_a_cross_site_post_to_a_live_endpoint_is_refused(
    address: tuple[str, int], path: str, body: bytes, headers: dict[str, str], named: str
) -> None:
    before = fresh_session(address)
    status, answer = post(address, path, body, **headers)
    assert status == 403, answer
    assert "cross-site request refused" in answer["error"] and named in answer["error"]
    assert_unchanged(address, before)
    assert state(address)["optimizer_lr"] == XOR["lr"]


@pytest.mark.parametrize(("path", "body"), NEW_ENDPOINTS, ids=["settings", "weight"])
def test_a_live_endpoint_serves_its_own_page_and_refuses_other_hosts(
    address: tuple[str, int], path: str, body: bytes
) -> None:
    host, port = address
    before = fresh_session(address)
    status, answer = post(address, path, body, host="attacker.example:80",
                          Content_Type="application/json")  # fmt: skip
    assert status == 403 and "attacker.example" in answer["error"]
    assert_unchanged(address, before)
    status, answer = post(address, path, body, Origin=f"http://{host}:{port}",
                          Sec_Fetch_Site="same-origin", Content_Type="application/json")  # fmt: skip
    assert status == 200
    if path == "/api/settings":
        assert answer["optimizer_lr"] == 0.5 and answer["batch_size"] == 2
    else:
        assert answer["weights"][0]["W"][0][0] == 9.0


def test_the_backprop_steps_refuse_a_foreign_host(address: tuple[str, int]) -> None:
    host, port = address
    fresh_session(address)
    head = "GET /api/backprop?sample=0 HTTP/1.1\r\nHost: {}\r\n\r\n"
    status, answer = send(address, head.format("rebound.example:80"))
    assert status == 403 and "rebound.example" in answer["error"]
    status, answer = send(address, head.format(f"{host}:{port}"))
    assert status == 200 and answer["steps"][0]["quantity"] == "z"
