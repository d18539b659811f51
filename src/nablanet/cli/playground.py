"""``nablanet playground``: serve the training playground (:mod:`nablanet.playground`) on a
local web page until Ctrl-C."""

from __future__ import annotations

import argparse

HELP = "train a network live in your web browser (a local page)"
EXAMPLES = (
    "  nablanet playground            # prints http://127.0.0.1:8000/\n"
    "  nablanet playground --port 0   # any free port\n"
    "  nablanet playground --open     # and open it in your web browser\n"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``nablanet playground``."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only; any other "
                        "address opens the page to your network, Host header unchecked)")  # fmt: skip
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")


def run(args: argparse.Namespace) -> int:
    """Run ``nablanet playground``."""
    from ..playground import serve

    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be from 0 to 65535, got {args.port}")
    serve(args.host, args.port, open_browser=args.open)
    return 0
