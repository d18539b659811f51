"""Progress records on :mod:`logging`, and the verbose modes that show them.

nablanet reports progress on the ``"nablanet"`` logger and its children (``"nablanet.training"``
for :meth:`~nablanet.Sequential.fit`, ``"nablanet.dask"`` for :mod:`nablanet.dask`). As the
logging HOWTO asks of a library, the package adds only a ``NullHandler`` to ``"nablanet"``: what
is shown, and where, is the application's choice.

A verbose mode (``fit(verbose=2)``, a Dask estimator's ``verbose=True``) is a request to see the
lines without configuring logging. :class:`Reporter` then shows the records of one call on the
``sys.stdout`` current when the call starts, through a ``logging.StreamHandler`` owned by that
call, as Keras's and LightGBM's verbose output goes to the current stdout. The rules:

- the records are always logged: an application that shows ``"nablanet"``'s INFO records (a
  handler on ``"nablanet"`` or on the root logger, and a level that lets INFO through) sees them
  there, once, and verbose adds no second copy on stdout (decided per level: DEBUG records the
  application does not show still go to stdout);
- an application that silenced the package (a level above INFO set on ``"nablanet"`` or the
  child, ``disabled``, or :func:`logging.disable`) sees nothing, verbose or not;
- otherwise (logging not configured, or configured at WARNING on the root logger only) verbose
  shows each record once on stdout, without the ``"LEVEL:name:"`` prefix.

The handler is never added to a shared logger, so nothing is left behind after the call (an
exception included) and two calls running at once do not print each other's lines.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

LOGGER_NAME = "nablanet"


def get_logger(name: str = "") -> logging.Logger:
    """The package logger ``"nablanet"``, or its child ``"nablanet.<name>"``."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


def silenced(logger: logging.Logger, level: int) -> bool:
    """True when the application turned off ``level`` for ``logger`` within the package.

    Only settings on ``logger`` and its ancestors up to ``"nablanet"`` count, and
    :func:`logging.disable`: the root logger's default WARNING is not a choice about nablanet.
    """
    if logging.root.manager.disable >= level:
        return True
    node: Any = logger
    while node is not None and node is not logging.root:
        if node.disabled:
            return True
        if node.level != logging.NOTSET:
            return bool(node.level > level)
        if node.name == LOGGER_NAME:
            break
        node = node.parent
    return False


def shown_by_application(logger: logging.Logger, level: int) -> bool:
    """True when a record of ``level`` on ``logger`` reaches a handler that emits it.

    Follows the logger's own level and propagation as :meth:`logging.Logger.callHandlers` does;
    ``NullHandler`` and handlers whose level is above ``level`` do not count.
    """
    if not logger.isEnabledFor(level):
        return False
    node: Any = logger
    while node is not None:
        for handler in node.handlers:
            if not isinstance(handler, logging.NullHandler) and handler.level <= level:
                return True
        if not node.propagate:
            break
        node = node.parent
    return False


class Reporter:
    """Logs progress records on ``logger``; with ``verbose``, shows them on ``sys.stdout`` too.

    Parameters
    ----------
    logger : logging.Logger
        Where the records go (``"nablanet.training"``, ``"nablanet.dask"``).
    verbose : bool
        Show the records of level ``level`` and above on the ``sys.stdout`` current now, unless
        the application's own logging shows them or it silenced the logger (see the module).
    level : int
        The lowest level shown by ``verbose`` (``logging.INFO``; ``logging.DEBUG`` adds the
        per-batch lines of ``fit(progress="batch")``).

    :meth:`close` at the end of the call releases the handler. It is never attached to a
    logger, so a call that raises before closing leaves nothing behind either.
    """

    def __init__(self, logger: logging.Logger, verbose: bool, level: int = logging.INFO) -> None:
        self.logger = logger
        self.level = level
        self.handler: logging.Handler | None = None
        self._shows: dict[int, bool] = {}  # per level: does this call's handler show it?
        if verbose:
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter("%(message)s"))
            self.handler = handler

    def shows(self, level: int) -> bool:
        """Whether this call's own handler shows records of ``level``: verbose, ``level`` at
        least the verbose level, and neither shown by the application nor silenced by it.

        Decided per level, once per call: with the application showing INFO but not DEBUG,
        ``fit(verbose=2, progress="batch")`` shows the DEBUG lines here, the INFO ones there.
        """
        if self.handler is None or level < self.level:
            return False
        if level not in self._shows:
            logger = self.logger
            self._shows[level] = not (
                silenced(logger, level) or shown_by_application(logger, level)
            )
        return self._shows[level]

    def enabled_for(self, level: int) -> bool:
        """Whether a record of ``level`` would be logged or shown (check before formatting)."""
        return self.logger.isEnabledFor(level) or self.shows(level)

    def log(self, level: int, msg: str, *args: Any) -> None:
        """Log ``msg % args`` at ``level``, and show it if this call is verbose."""
        if self.logger.isEnabledFor(level):
            self.logger.log(level, msg, *args)
        if self.handler is not None and self.shows(level):
            record = self.logger.makeRecord(
                self.logger.name, level, "(verbose)", 0, msg, args, None
            )
            self.handler.handle(record)

    def info(self, msg: str, *args: Any) -> None:
        self.log(logging.INFO, msg, *args)

    def debug(self, msg: str, *args: Any) -> None:
        self.log(logging.DEBUG, msg, *args)

    def close(self) -> None:
        """Flush and release this call's handler (if verbose); later records are only logged."""
        if self.handler is not None:
            self.handler.flush()
            self.handler.close()
            self.handler = None
