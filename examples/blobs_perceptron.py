"""Two Gaussian blobs separated by the classic perceptron of seed 001
==================================================================

Seed 001 ("Introduction to Deep Learning - Part 3") writes a perceptron from scratch: one neuron
with the binary step as activation,

    y_hat = step(x . w + b),     step(z) = 1 if z > 0 else 0,

trained one sample at a time. After each sample the error e = y_hat - y is -1, 0 or +1, and only
a mistake moves the line::

    w <- w - eta e x,     b <- b - eta e.

There is no gradient here (the step is flat almost everywhere); the rule simply pushes the line
toward a misclassified point. If the classes can be separated by a line, this stops making
mistakes after finitely many updates (the perceptron convergence theorem); if they overlap, as
these blobs do a little, it keeps nudging the line back and forth.

The seed's settings: 100 points around (-3.5, -2) and (2.5, 3.5) with standard deviation 2.25,
a 75/25 split, eta = 0.01, 500 epochs, initial weights and bias drawn uniformly from [0, 1). The
seed draws its points with scikit-learn's ``make_blobs(random_state=5)`` and its initial weights
from NumPy's unseeded global generator, and reports 84% test accuracy on them. This script
draws blobs of the same shape from nablanet's own generator (other points, so another figure:
it prints 0.96 with ``seed=5``). The seed's own points and printout are replayed in the seed 001
tutorial page (``nablanet.tutorial``), where the test accuracy is the seed's 0.84.

Run:  python examples/blobs_perceptron.py [--out DIR] [--quick]
Writes DIR/blobs_perceptron_boundary.png and DIR/blobs_perceptron_mistakes.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nablanet import plot
from nablanet.datasets import make_blobs
from nablanet.perceptron import Perceptron
from nablanet.preprocessing import train_test_split


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Seed 001: the perceptron on two blobs.")
    parser.add_argument("--out", default="out", help="directory for the plots (default: out)")
    parser.add_argument("--quick", action="store_true", help="train briefly (for testing)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. Data: X has shape (100, 2), y is 0 or 1 (which blob a point came from).
    X, y = make_blobs(n_samples=100, centers=[[-3.5, -2.0], [2.5, 3.5]], cluster_std=2.25, seed=5)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=5)

    # 2. The perceptron. Before fit it has no weights yet, as in the seed's Output.1.
    clf = Perceptron(eta=0.01, epochs=50 if args.quick else 500, seed=5)
    clf.info()

    # 3. Train with the mistake-driven rule above; fit stops early after an epoch without a
    #    mistake, which happens only when the training points are linearly separable.
    clf.fit(X_train, y_train)
    clf.info()  # the learned bias b and weights w (the seed's Output.2)
    print(f"epochs run: {clf.n_iter_}, mistakes in the last epoch: {clf.errors_[-1]}")

    # 4. Accuracy on the 25 held-out points (the seed's Output.3).
    print(f"test accuracy: {clf.score(X_test, y_test):.2f}")

    # The line x . w + b = 0 splits the plane into the two predicted classes.
    plot.plot_decision_boundary(clf, X_train, y_train, path=out / "blobs_perceptron_boundary.png")
    # Number of mistakes (= weight updates) in each epoch.
    plot.plot_history({"mistakes": clf.errors_}, path=out / "blobs_perceptron_mistakes.png")
    print(f"plots written to {out}/blobs_perceptron_boundary.png and ..._mistakes.png")


if __name__ == "__main__":
    main()
