"""Two circles, one inside the other: seed 000's network, trained by full-batch gradient descent
=============================================================================================

Seed 000 ("Application of differentiations in neural networks") builds the network

    a_k = f_k(z_k),   z_k = a_{k-1} W_k + b_k          (one sample per row)

with layer sizes [2, 4, 3, 1], ReLU in the two hidden layers and a sigmoid output, and trains it
on scikit-learn's make_circles with the binary cross-entropy

    L = -mean( y log(y_hat) + (1 - y) log(1 - y_hat) )

by plain gradient descent on the whole training set at once ("full batch")::

    W_k <- W_k - eta dL/dW_k,    b_k <- b_k - eta dL/db_k.

Backpropagation computes the gradients from the output back, as in the seed's matrix form::

    dL/dz_k = dL/da_k * f_k'(z_k)      dL/dW_k = a_{k-1}^T dL/dz_k
    dL/db_k = sum over samples of dL/dz_k      dL/da_{k-1} = dL/dz_k W_k^T

The seed ran 150 steps with eta = 0.005, saw the accuracy reach 0.82 and then watched the model
diverge; it suggests a smaller learning rate. Its step was much larger than it looks, because
its dL/dW summed the gradients of all 1000 samples instead of averaging them (and its sigmoid
derivative carried a stray factor 2). nablanet's losses are means over the batch, so eta means
the same thing whatever the data set size.

This script uses the recommended setting for this network (README, docs/tutorials/seed000.md;
tests/test_seeds.py checks it): still one full-batch gradient step per epoch, but with momentum,

    v <- 0.9 v + dL/dW,     W <- W - eta v        (eta = 0.2, 500 steps),

so that steps along a consistent downhill direction build up speed, and He-uniform initial
weights (U(-l, l), l = sqrt(6 / n_in)) that keep the ReLU units alive at the start. It reaches
about 99% held-out accuracy. A network this small sometimes loses its ReLU units and stalls;
if that happens, try another seed.

Run:  python examples/circles.py [--out DIR] [--quick]
Writes DIR/circles_loss.png, DIR/circles_boundary.png and DIR/circles_network.png (the network,
each unit drawn as its output over the plane: every ReLU unit of the first layer cuts the plane
along one line, and the output combines the cuts into a closed region around the inner circle).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nablanet as nn
from nablanet import plot
from nablanet.datasets import make_circles
from nablanet.metrics import accuracy_score
from nablanet.preprocessing import train_test_split


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Seed 000: two circles, full-batch descent.")
    parser.add_argument("--out", default="out", help="directory for the plots (default: out)")
    parser.add_argument("--quick", action="store_true", help="train briefly (for testing)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. Data: 1000 points on two noisy circles (radius 1 and 0.5), as in the seed.
    #    X has shape (1000, 2), one point per row; y is 0 (outer) or 1 (inner).
    X, y = make_circles(n_samples=1000, factor=0.5, noise=0.1, seed=0)
    # Keep a quarter aside, with both classes in proportion, to measure accuracy honestly.
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=True, seed=0)

    # 2. The seed's network: 2 inputs -> 4 ReLU -> 3 ReLU -> 1 sigmoid output (P(class 1)).
    #    SGD with momentum 0.9: the update rule in the docstring above.
    model = nn.Sequential.from_sizes(
        [2, 4, 3, 1],
        activation=["relu", "relu", "sigmoid"],
        loss="binary_cross_entropy",
        optimizer=nn.SGD(lr=0.2, momentum=0.9),
        seed=0,
    )
    model.summary()

    # Before training the output is close to 0.5 for every point: a guessing machine.
    before = model.evaluate(X_test, y_test)
    print(f"before training: loss {before['loss']:.4f}, accuracy {before['accuracy']:.3f}")

    # 3. Train. batch_size=None means full batch: each epoch is one gradient step on all
    #    750 training points. validation_data only records the test loss for the plot.
    epochs = 100 if args.quick else 500
    history = model.fit(
        X_train,
        y_train,
        epochs=epochs,
        batch_size=None,
        validation_data=(X_test, y_test),
        verbose=False,
    )

    # 4. Results.
    after = model.evaluate(X_test, y_test)
    train_acc = accuracy_score(y_train, model.predict(X_train))
    print(f"after {epochs} steps: test loss {after['loss']:.4f}")
    print(f"accuracy: train {train_acc:.3f}, test {after['accuracy']:.3f}")

    # Loss and accuracy per step (solid: training set, dashed: the test set passed above).
    plot.plot_history(history, path=out / "circles_loss.png", val_label="test")
    # The decision boundary: shading is the network's P(inner circle) over the plane.
    plot.plot_decision_boundary(model, X_test, y_test, path=out / "circles_boundary.png")
    # The network: edges by weight (red positive, blue negative, width |w|), each unit as its
    # response map over the plane.
    plot.plot_network(model, X_test, path=out / "circles_network.png")
    print(f"plots written to {out}/circles_loss.png, circles_boundary.png, circles_network.png")


if __name__ == "__main__":
    main()
