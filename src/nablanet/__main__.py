"""``python -m nablanet``: the ``nablanet`` command line (see :mod:`nablanet.cli`)."""

from nablanet.cli import main

raise SystemExit(main())
