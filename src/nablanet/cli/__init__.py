"""The ``nablanet`` command: train, predict, evaluate, info, gradcheck, explain, export and playground.

Run ``nablanet`` with no arguments to train a small network on a built-in data set and see its
test accuracy; ``nablanet COMMAND --help`` shows each command's options and examples.

Exit status: 0 on success, 1 when ``gradcheck`` fails its tolerance, 2 on bad usage or bad
input (with one line on stderr, ``nablanet: error: ...``), 130 when interrupted (Ctrl-C or
SIGTERM), 141 when stdout is closed early (``nablanet predict ... | head``). Output files are
written only after everything succeeded, each atomically, so a failed run never damages an
existing file.

Every command takes ``-q``/``-v``, which set the level of the ``nablanet`` logger (WARNING,
DEBUG; INFO by default), printed on stderr; stdout holds only results. ``-`` names stdin for
input data and stdout for outputs; ``--json`` (train, predict, evaluate, info) prints the
result as JSON. The conventions are documented in ``docs/howto/cli-scripting.md``.

One module per command (:mod:`.train`, :mod:`.predict`, :mod:`.evaluate`, :mod:`.info`,
:mod:`.gradcheck`, :mod:`.explain`, :mod:`.export`, :mod:`.playground`), each with ``HELP``,
``EXAMPLES``, ``add_arguments(parser)`` and ``run(args) -> int``; :mod:`.common` holds the
option parsing and checks they share, :mod:`.data` the files they read and write. This module
builds the parser from them and runs one (:func:`main`).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from .._atomic import terminate_as_interrupt
from . import evaluate, explain, export, gradcheck, info, playground, predict, train
from .common import EXIT_STATUS, PROG, HelpFormatter, add_command, log_level, logging_to_stderr

__all__ = ["COMMANDS", "build_parser", "main"]

#: The commands in the order ``nablanet --help`` lists them, each a module with ``HELP``,
#: ``EXAMPLES``, ``add_arguments(parser)`` and ``run(args) -> int``.
COMMANDS: dict[str, ModuleType] = {
    "train": train,
    "predict": predict,
    "evaluate": evaluate,
    "info": info,
    "gradcheck": gradcheck,
    "explain": explain,
    "export": export,
    "playground": playground,
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit status 2)."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def _version() -> str:
    from .. import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``nablanet`` command."""
    parser = _Parser(
        prog=PROG, formatter_class=HelpFormatter,
        description="Multilayer perceptrons from scratch in NumPy. With no arguments: train a "
        "small network on a built-in data set and print its test accuracy.",
        epilog="examples:\n  nablanet\n  nablanet train --dataset circles --epochs 50\n"
        "  nablanet predict model.nbnet new.csv --proba\n  nablanet explain --example seed001\n\n"
        + EXIT_STATUS,
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        p = add_command(subs, name, command.HELP, command.EXAMPLES)
        command.add_arguments(p)
        p.set_defaults(func=command.run)
    return parser


def _showwarning(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
    print(f"{PROG}: warning: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nablanet`` command with ``argv`` (default ``sys.argv[1:]``); return the status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if sys.stdout is None:  # started with stdout closed (>&-): nowhere for results to go
        print(f"{PROG}: error: stdout is closed; redirect it to a file or /dev/null",
              file=sys.stderr)  # fmt: skip
        return 2
    args = build_parser().parse_args(arguments or ["train"])
    # SIGTERM (e.g. from a job scheduler) cleans up like Ctrl-C: no temporary file is left behind
    with warnings.catch_warnings(), terminate_as_interrupt(), logging_to_stderr(log_level(args)):
        warnings.showwarning = _showwarning
        try:
            status = int(args.func(args))
            sys.stdout.flush()  # a closed pipe shows here, not at exit as an ignored exception
            return status
        except BrokenPipeError:  # e.g. `nablanet predict ... | head`: stop quietly, as SIGPIPE
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush goes nowhere
            return 141
        except (ValueError, TypeError, OSError, ImportError) as exc:
            print(f"{PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted; nothing was written", file=sys.stderr)
            return 130
