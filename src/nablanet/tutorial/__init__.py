"""Tutorial mode: the seed tutorials' own conventions, so their printed numbers can be replayed.

nablanet is written to be read beside five public tutorials, called seed 000 to seed 004 here
and in the docstrings ("seed" with a number names a tutorial; a ``seed=`` argument is always a
random-number seed). Core docstrings cite them by title:

====  ==============================================================  =============================
seed  tutorial                                                        replayed by
====  ==============================================================  =============================
000   "Application of differentiations in neural networks"            :mod:`.seed000`
      (Machine Learning Mastery)
001   "Introduction to Deep Learning - Part 3" (PolarSPARC,           :mod:`.seed001`,
      Bhaskar S., 2023): a perceptron and a network from scratch      :class:`nablanet.Perceptron`
002   "Neural Networks: The Backward Pass" (Tashfeen Ahmad)           none: its initial weights
                                                                      are not printed
003   "A simple neural network with backpropagation using Python"     :mod:`.seed004`
      (Ando Ki)
004   a question and its answer, untitled in our copy: why            :mod:`.seed004`
      ``weight2 + learningRate*np.dot(a1.T,dC_dw2)`` is done instead
      of ``weight2 - learningRate*dC_dw2`` (the question on the
      ``a1.T`` update)
====  ==============================================================  =============================

The modules:

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
  (its ``weight + lr * a.T @ ((y - a) ...)`` is gradient descent on the summed loss), and
  :func:`~nablanet.tutorial.seed004.sign_step`, that answer with the numbers of one step;
- :mod:`nablanet.tutorial.worked`: the worked examples of ``nablanet explain --example
  seed000|seed001|seed004``.

Seed 002's network code is not printed in full (its initialisation is missing), so its numbers
cannot be replayed; its conventions (per-sample gradients averaged over a mini-batch, a sum of
squared errors over the outputs) are nablanet's ``sum_squared_error`` with ``batch_size``.
"""

from .conventions import SeedCrossEntropy, SeedDense, SeedSigmoid, SummedHalfSquaredError

__all__ = ["SeedCrossEntropy", "SeedDense", "SeedSigmoid", "SummedHalfSquaredError"]
