"""Tutorial mode: the seed tutorials' own conventions, so their printed numbers can be replayed.

- :mod:`nablanet.tutorial.conventions`: each convention as a named option on a nablanet layer
  or loss (sum vs mean reduction, seed 000's mean bias gradient and doubled sigmoid derivative,
  seed 001's summation order);
- :mod:`nablanet.tutorial.seed000`: seed 000's network, data, initial weights and loop;
- :mod:`nablanet.tutorial.seed001`: seed 001's network and its own update step (the last
  sample's activations for every gradient), replayed from Output.4 to Output.5, beside the
  true gradient.
"""

from .conventions import SeedCrossEntropy, SeedDense, SeedSigmoid, SummedHalfSquaredError

__all__ = ["SeedCrossEntropy", "SeedDense", "SeedSigmoid", "SummedHalfSquaredError"]
