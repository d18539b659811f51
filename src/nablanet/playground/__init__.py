"""``nablanet playground``: train a network live in your browser, with the real engine.

A local web page (served by the standard library; the page's JavaScript and CSS ship in this
package, nothing is fetched from the internet) where you pick a 2-D data set and a network,
train it step by step with :class:`nablanet.Sequential`, and watch the loss curve, the
decision boundary and the network diagram (edges coloured by the sign of the weight, as wide
as its size). Click a unit to see its ``z``, ``a``, ``delta`` and gradient for one sample,
each with the equation that produced it and the sample's numbers put in.

Modules: :mod:`.config` (parameters and limits), :mod:`.session` (the model and its training
run), :mod:`.units` (one unit opened up, via :func:`nablanet.explain`), :mod:`.server` (HTTP).
"""

from __future__ import annotations

import argparse
import sys

from .config import Config, RequestError, parse_config
from .server import PlaygroundServer, make_server
from .session import Session
from .units import inspect_unit

__all__ = [
    "PLAYGROUND_EXAMPLES",
    "Config",
    "PlaygroundServer",
    "RequestError",
    "Session",
    "add_playground_arguments",
    "cmd_playground",
    "inspect_unit",
    "make_server",
    "parse_config",
    "serve",
]

PLAYGROUND_EXAMPLES = (
    "  nablanet playground            # prints http://127.0.0.1:8000/\n"
    "  nablanet playground --port 0   # any free port\n"
    "  nablanet playground --open     # and open it in your web browser\n"
)


def serve(host: str = "127.0.0.1", port: int = 8000, *, open_browser: bool = False) -> None:
    """Serve the playground at ``host:port`` until interrupted (Ctrl-C); print its URL first.

    Parameters
    ----------
    host : str
        Address to bind; the default, 127.0.0.1, is reachable from this machine only.
    port : int
        0 picks a free port.
    open_browser : bool
        Open the page in the default web browser.
    """
    server = make_server(host, port)
    print(f"nablanet playground: {server.url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("nablanet playground: stopped", file=sys.stderr)
    finally:
        server.server_close()


def add_playground_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``nablanet playground`` options."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only; any other "
                        "address opens the page to your network, Host header unchecked)")  # fmt: skip
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")


def cmd_playground(args: argparse.Namespace) -> int:
    """Run ``nablanet playground``."""
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be from 0 to 65535, got {args.port}")
    serve(args.host, args.port, open_browser=args.open)
    return 0
