"""Even or odd? Seed 002's 10-3-2 sigmoid network, and what its weights reveal (figure 5)
======================================================================================

Seed 002 ("Neural Networks: The Backward Pass") classifies every 10-bit number as even or odd
with a network of 10 inputs (the bits, most significant first), 3 sigmoid hidden units and 2
sigmoid outputs: [0, 1] means even, [1, 0] odd. For one sample the error is

    E = sum_j (y_j - a_j)^2        (nablanet's loss "sum_squared_error", averaged over a batch)

and the seed's three "grand equations" of backpropagation give every gradient, layer by layer
from the output back (in nablanet's row-per-sample layout, delta is dE/dz)::

    delta_L = 2 (a_L - y) * sigma'(z_L)
    delta_l = (delta_{l+1} W_{l+1}^T) * sigma'(z_l)
    dE/dW_l = a_{l-1}^T delta_l,      dE/db_l = delta_l

Training is mini-batch stochastic gradient descent: shuffle, cut into batches of 8 and step
with the batch's average gradient, W <- W - eta dE/dW, with eta = 0.3 for 1000 epochs. The
first 700 numbers train the network, the last 324 test it. The seed reaches 100% and a final
error of 0.00004; this script prints nablanet's numbers for the same setting.

Parity depends on the last bit alone. The seed's figure 5 shows this in the weights: the heat
map of W1 has its large entries in the row of the least significant bit. plot_weights draws
the same picture.

Run:  python examples/parity.py [--out DIR] [--quick]
Writes DIR/parity_loss.png and DIR/parity_weights.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import nablanet as nn
from nablanet import plot
from nablanet.datasets import make_parity
from nablanet.metrics import accuracy_score


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Seed 002: parity of 10-bit numbers.")
    parser.add_argument("--out", default="out", help="directory for the plots (default: out)")
    parser.add_argument("--quick", action="store_true", help="train briefly (for testing)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. Data: row e holds the 10 bits of the number e; y is 1 for even, 0 for odd.
    X, y = make_parity(n_bits=10)  # X: (1024, 10), y: (1024,)
    X_train, y_train = X[:700], y[:700]
    X_test, y_test = X[700:], y[700:]

    # 2. The seed's network. With 2 outputs and integer labels, nablanet turns label 1 into
    #    the target row [0, 1] and label 0 into [1, 0], exactly the seed's one-hot encoding.
    model = nn.Sequential.from_sizes(
        [10, 3, 2],
        activation="sigmoid",
        output="sigmoid",
        loss="sum_squared_error",
        optimizer="sgd",
        lr=0.3,
        seed=0,
    )

    # 3. Mini-batch SGD: batch_size=8, a fresh shuffle every epoch.
    epochs = 30 if args.quick else 1000
    history = model.fit(X_train, y_train, epochs=epochs, batch_size=8, verbose=False)
    losses = history.history["loss"]
    for epoch in sorted({0, 1, 2, 9, epochs - 1}):
        print(f"* Epoch: {epoch:>4}, Error: {losses[epoch]:.5g}")

    # 4. Accuracy on the 324 numbers never seen in training.
    print(f"Network Accuracy: {accuracy_score(y_test, model.predict(X_test))}")

    # Which input bit does each hidden unit listen to? Row 9 (the last bit) should dominate.
    W1 = model.get_weights()[0]["W"]  # shape (10, 3): input bit x hidden unit
    strongest = np.abs(W1).sum(axis=1).argmax()
    print(f"input bit with the largest weights: {strongest} (9 = least significant)")

    plot.plot_history(history, path=out / "parity_loss.png")
    # The seed's figure 5: heat maps of W1 (10 x 3) and W2 (3 x 2).
    plot.plot_weights(model, path=out / "parity_weights.png")
    print(f"plots written to {out}/parity_loss.png and {out}/parity_weights.png")


if __name__ == "__main__":
    main()
