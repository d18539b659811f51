"""``python -m nablanet.cli``: the same as ``python -m nablanet`` and ``nablanet``."""

from nablanet.cli import main

raise SystemExit(main())
