"""``nablanet playground``: train a network live in your browser, with the real engine.

A local web page (served by the standard library; the page's JavaScript and CSS ship in this
package, nothing is fetched from the internet) where you pick a 2-D data set, its input
features and a network, train it step by step with :class:`nablanet.Sequential`, and watch the
loss curve, the output over the plane (with a legend), the network diagram (edges coloured by
the sign of the weight, as wide as its size; click one to edit it) and per-layer histograms of
the weights and gradients: TensorFlow Playground's controls on nablanet's engine. The
learning rate, the L1/L2 regularization and the batch size change the running engine; the
whole setting lives in the page's URL hash. Click a unit to see its ``z``, ``a``, ``delta``
and gradient for one sample, each with the equation that produced it and the sample's numbers
put in, or step through one sample's backpropagation quantity by quantity.

Modules: :mod:`.config` (parameters and limits), :mod:`.data` (the data sets and features),
:mod:`.session` (the model and its training run), :mod:`.units` (one unit opened up, via
:func:`nablanet.explain`), :mod:`.stepper` (backprop step by step, via the same),
:mod:`.server` (HTTP).
The command line, ``nablanet playground``, is :mod:`nablanet.cli.playground`.
"""

from __future__ import annotations

import sys

from .config import Config, RequestError, parse_config
from .server import PlaygroundServer, make_server
from .session import Session
from .units import inspect_unit

__all__ = [
    "Config",
    "PlaygroundServer",
    "RequestError",
    "Session",
    "inspect_unit",
    "make_server",
    "parse_config",
    "serve",
]


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
