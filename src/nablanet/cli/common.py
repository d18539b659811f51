"""What the ``nablanet`` commands share: the program name, the layout of a command's help
(defaults shown, exit statuses listed), ``-q``/``-v`` and the ``nablanet`` logger, the human
text and the JSON a command prints, and the parsing and checking of options (``--layers``,
``--activation``, ``--input``, ``--target``, a loss against its output activation, values a
float32 network cannot hold)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._log import LOGGER_NAME, get_logger

PROG = "nablanet"

#: The exit statuses of every command, as each ``--help`` ends.
EXIT_STATUS = """\
exit status:
  0    success
  1    a failed check (gradcheck beyond --tol)
  2    bad usage or bad input (one line on stderr: 'nablanet: error: ...')
  130  interrupted (Ctrl-C or SIGTERM); nothing was written
  141  stdout closed early (e.g. piped into head), as for a process killed by SIGPIPE
"""

#: The command's own logger, a child of the library's ``nablanet`` logger (``LOGGER_NAME``),
#: whose level ``-q``/``-v`` set (:func:`logging_to_stderr`).
log = get_logger("cli")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The description and epilog as written; every option that takes a value and has a
    default ends its help with ``(default: ...)`` unless its help already places it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "%(default)" in text
            or action.default is None
            or action.default is argparse.SUPPRESS
            or action.nargs == 0
        ):
            return action.help
        return f"{text} (default: %(default)s)".lstrip()


def add_command(subs: Any, name: str, help_: str, epilog: str) -> argparse.ArgumentParser:
    """The sub-parser of command ``name``: ``help_`` is its one-line description, ``epilog``
    its examples (printed as written), followed by the exit statuses; with ``-q``/``-v``."""
    parser: argparse.ArgumentParser = subs.add_parser(
        name, help=help_, description=help_, epilog="examples:\n" + epilog + "\n" + EXIT_STATUS,
        formatter_class=HelpFormatter,
    )  # fmt: skip
    add_verbosity_options(parser)
    return parser


def add_verbosity_options(p: argparse.ArgumentParser) -> None:
    """``-q/--quiet`` and ``-v/--verbose`` (one of them): the level of the ``nablanet`` logger
    and whether the command's own messages are printed."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true",
                       help="print only results and errors: no progress, notes or summaries "
                       "(logger level WARNING)")  # fmt: skip
    group.add_argument("-v", "--verbose", action="store_true",
                       help="also print debugging details (logger level DEBUG; default INFO)")  # fmt: skip


def add_json_option(p: argparse.ArgumentParser, what: str) -> None:
    """``--json``: stdout holds only JSON (``what``); human text goes to stderr."""
    p.add_argument("--json", action="store_true",
                   help=f"print {what} as JSON on stdout (schema: docs/howto/cli-scripting.md); "
                   "messages go to stderr")  # fmt: skip


def log_level(args: argparse.Namespace) -> int:
    """The ``nablanet`` logger's level for ``-q`` (WARNING), ``-v`` (DEBUG) or neither (INFO)."""
    if getattr(args, "quiet", False):
        return logging.WARNING
    if getattr(args, "verbose", False):
        return logging.DEBUG
    return logging.INFO


class _Formatter(logging.Formatter):
    """Messages as the command prints its own: warnings and errors prefixed ``nablanet:``."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"{PROG}: {record.levelname.lower()}: {text}"
        return text


@contextlib.contextmanager
def logging_to_stderr(level: int) -> Iterator[logging.Logger]:
    """The ``nablanet`` logger at ``level``, its records printed on the current ``sys.stderr``
    for the duration of one command; its previous level, handlers and propagation are put back
    afterwards (``main`` may run many times in one process, as the tests do).

    stderr, not stdout: a command's stdout holds only its results (predictions, JSON, a file
    written to ``-``), so that a pipe never mixes messages into the data.
    """
    logger = logging.getLogger(LOGGER_NAME)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    before = logger.level, logger.propagate
    logger.setLevel(level)
    logger.propagate = False  # printed once, here, even if the application configured root
    logger.addHandler(handler)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate = before[1]


def say(args: argparse.Namespace, text: str) -> None:
    """A command's human-readable result text: on stdout, or on stderr when ``--json`` (or an
    output written to ``-``) holds stdout; nothing with ``--quiet``."""
    if getattr(args, "quiet", False):
        return
    stdout_taken = getattr(args, "json", False) or getattr(args, "stdout_taken", False)
    print(text, file=sys.stderr if stdout_taken else sys.stdout)


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON: NumPy scalars and arrays as numbers and lists, NaN and
    infinities as ``null`` (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(value: Any) -> None:
    """One JSON document on one line of stdout."""
    sys.stdout.write(json.dumps(json_safe(value), allow_nan=False) + "\n")


def add_header_option(p: argparse.ArgumentParser) -> None:
    """``--header`` / ``--no-header`` / neither (None: decided from the whole file)."""
    p.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="the CSV's first line holds column names (--no-header: it is data); "
                   "default: decided from the whole file")  # fmt: skip


class _DeprecatedAlias(argparse.Action):
    """An old spelling of an option: sets the same value, with a warning on stderr."""

    def __init__(self, option_strings: list[str], dest: str, new: str = "", **kwargs: Any):
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        print(f"{PROG}: warning: {option_string} is deprecated in '{parser.prog}' and will be "
              f"removed in the next release; use {self.new}", file=sys.stderr)  # fmt: skip
        setattr(namespace, self.dest, values)


def add_output_activation(p: argparse.ArgumentParser, **kwargs: Any) -> None:
    """``--output-activation NAME`` (stored as ``args.output``), and ``--output``, its old
    spelling, kept for one release: hidden from the help, a warning when used (``predict``'s
    ``--output`` is a file, which made the shared name ambiguous)."""
    p.add_argument("--output-activation", dest="output", metavar="NAME", **kwargs)
    choices = kwargs.get("choices")
    p.add_argument("--output", dest="output", action=_DeprecatedAlias, choices=choices,
                   new="--output-activation", default=argparse.SUPPRESS, help=argparse.SUPPRESS)  # fmt: skip


def initializers_text(model: Any) -> str:
    """The Dense layers' kernel initializers, as stored in the model's config: one name if
    they all agree, else one per layer (``W1 he_uniform, W2 glorot_uniform``)."""
    names = [layer.kernel_initializer for layer in model.layers if hasattr(layer,
             "kernel_initializer")]  # fmt: skip
    if len(set(names)) == 1:
        return str(names[0])
    return ", ".join(f"W{i + 1} {name}" for i, name in enumerate(names))


def parse_sizes(text: str) -> list[int]:
    """Layer sizes from ``--layers`` text such as ``64-32-10``."""
    try:
        sizes = [int(part) for part in text.split("-")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise ValueError(
            f"--layers must be positive sizes joined by '-', like 64-32-10; got {text!r}"
        )
    return sizes


def parse_activations(text: str, n_hidden: int) -> list[str]:
    """Hidden activations from ``--activation``: one name for all, or a comma list, one each."""
    names = [name.strip() for name in text.split(",")]
    if len(names) == 1:
        return names * n_hidden
    if len(names) != n_hidden:
        raise ValueError(
            f"--activation lists {len(names)} names for {n_hidden} hidden layers; "
            "give one name, or one per hidden layer"
        )
    return names


def parse_number(text: str, where: str) -> float:
    """``text`` as a finite float; ``where`` (an option, or a file, line and column) names it
    in the message otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"{where}: {text!r} is not a finite number")
    return value


def parse_numbers(text: str, option: str) -> np.ndarray:
    """Comma-separated numbers, e.g. ``--input 1.2,1.6``, as a float64 vector."""
    return np.array([parse_number(t.strip(), option) for t in text.split(",")], dtype=np.float64)


def label_codes(y: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
    """Map labels as read from a file to the model's class indices."""
    if classes is None:
        return np.asarray(y)
    known = classes.tolist()
    lookup = {value: i for i, value in enumerate(known)}
    lookup.update({str(value): i for i, value in enumerate(known)})
    codes = np.empty(len(y), dtype=np.int64)
    for i, value in enumerate(np.asarray(y).tolist()):
        code = lookup.get(value, lookup.get(str(value)))
        if code is None:
            raise ValueError(f"label {value!r} (row {i}) is not one of the model's classes {known}")
        codes[i] = code
    return codes


def parse_target(text: str, model: Any) -> Any:
    """``--target``: a class label (mapped through ``classes_``) or comma-separated targets."""
    if model.is_classifier() and "," not in text:
        if model.classes_ is not None:
            return label_codes(np.array([text]), model.classes_)[0]
        return int(parse_number(text, "--target"))
    return parse_numbers(text, "--target")


#: Losses that take only some output values, the output activations that give them, and what
#: they need: the cross-entropies take probabilities (log p), the Poisson deviance positive
#: means (log mu). Every other loss (the squared errors; the logits losses, which apply their
#: own link) takes any real output.
LOSS_DOMAINS = {
    "binary_cross_entropy": (("Sigmoid", "Softmax"), "probabilities in (0, 1)"),
    "categorical_cross_entropy": (("Softmax", "Sigmoid"), "probabilities in (0, 1)"),
    "half_poisson_deviance": (("Exp", "Sigmoid", "Softmax"), "positive means (mu > 0)"),
}


def check_loss_output(loss: str, output: str) -> None:
    """Refuse an output activation whose values the loss is not defined on (``--loss
    half_poisson_deviance --output-activation identity`` gives NaN at the first negative output), before
    anything is trained or checked. Unknown names are left to the model's own message."""
    from ..layers import ACTIVATIONS
    from ..losses import ALIASES

    name = ALIASES.get(loss, loss)
    if name not in LOSS_DOMAINS or output not in ACTIVATIONS:
        return
    allowed, needs = LOSS_DOMAINS[name]
    if ACTIVATIONS[output].__name__ in allowed:
        return
    choices = [n for kind in allowed for n, cls in ACTIVATIONS.items()
               if cls.__name__ == kind and n != "logistic"]  # fmt: skip
    raise ValueError(
        f"--loss {loss} needs {needs} from the output layer, which --output-activation {output} "
        f"does not give; use --output-activation {' or '.join(choices)}"
    )


def check_float32_range(X: np.ndarray, what: str, dtype: Any, hint: str, rows: bool) -> None:
    """Refuse values that a network computing in ``dtype`` cannot hold (float32 overflows to
    infinity above about 3.4e38), naming the first such value, its column (and row)."""
    finfo = np.finfo(dtype)
    arr = np.asarray(X)
    if arr.size == 0 or arr.dtype.kind != "f" or np.finfo(arr.dtype).max <= finfo.max:
        return
    too_big = np.abs(arr) > finfo.max
    if too_big.any():
        row, col = (int(v) for v in np.argwhere(too_big)[0])
        where = f"row {row}, column {col}" if rows else f"column {col}"
        raise ValueError(
            f"{what}: values too large for {np.dtype(dtype).name}, the network's dtype (at most "
            f"{float(finfo.max):.3g}): {where} holds {float(arr[row, col])!r}; {hint}"
        )


def check_input_range(X_net: Any, path: Any, saved: Any) -> None:
    """``check_float32_range`` for the inputs of ``predict`` / ``evaluate``, as the network
    sees them (after the model file's Standardizer, if it has one)."""
    if saved.preprocessing is not None:
        what = f"'{path}' after the stored standardisation"
        hint = "these features lie far outside the range of the training data"
    else:
        what, hint = f"'{path}'", "the model was trained on smaller values"
    check_float32_range(X_net, what, saved.model.dtype, hint, rows=True)
