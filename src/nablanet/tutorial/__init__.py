"""Tutorial mode: the seed tutorials' own conventions, so their printed numbers can be replayed.

- :mod:`nablanet.tutorial.conventions`: each convention as a named option on a nablanet layer
  or loss (sum vs mean reduction, seed 000's mean bias gradient and doubled sigmoid derivative,
  seed 001's summation order);
- :mod:`nablanet.tutorial.seed000`: seed 000's network, data, initial weights and loop;
- :mod:`nablanet.tutorial.seed001`: seed 001's network and its own update step (the last
  sample's activations for every gradient), replayed from Output.4 to Output.5, beside the
  true gradient;
- :mod:`nablanet.tutorial.examples`: seed 001's 2-2-2 network with Output.4's weights and its
  first sample, as ``nablanet explain --example seed001`` shows it (plain layers);
- :mod:`nablanet.tutorial.seed004`: seeds 003/004's biasless 3-4-1 network and seed 004's loop
  (its ``weight + lr * a.T @ ((y - a) ...)`` is gradient descent on the summed loss).

Seed 002's network code is not printed in full (its initialisation is missing), so its numbers
cannot be replayed; its conventions (per-sample gradients averaged over a mini-batch, a sum of
squared errors over the outputs) are nablanet's ``sum_squared_error`` with ``batch_size``.
"""

from .conventions import SeedCrossEntropy, SeedDense, SeedSigmoid, SummedHalfSquaredError

__all__ = ["SeedCrossEntropy", "SeedDense", "SeedSigmoid", "SummedHalfSquaredError"]
