"""XOR, the problem a single perceptron cannot solve, learned by seeds 003/004's 3-4-1 network
===========================================================================================

Seeds 003 and 004 (Ando Ki's slides and the question built on them) train a two-layer sigmoid
network on the four XOR points, each with a constant third input 1::

    x = [0,0,1], [0,1,1], [1,0,1], [1,1,1]     ->     y = 0, 1, 1, 0

Forward pass (one sample per row)::

    a1 = sigma(x W1 + b1)        (4 hidden units)
    a2 = sigma(a1 W2 + b2)       (1 output)

Loss, the "divide by 2 so that the 2 cancels" convention of seed 004::

    L = 1/2 sum_j (a2_j - y_j)^2     (nablanet's "half_squared_error", averaged over the batch)

Backward pass, seed 004's equations (A) and (B), with delta = dL/dz::

    delta2 = (a2 - y) * sigma'(z2),        dL/dW2 = a1^T delta2
    delta1 = (delta2 W2^T) * sigma'(z1),   dL/dW1 = x^T delta1

and plain gradient descent W <- W - eta dL/dW on all four points at once. The seed's question,
"why is the update a1^T delta2 and not delta2 alone?", is answered by the shapes: dL/dW2 must
have W2's shape (4, 1), and a1^T (4 x 4 samples) times delta2 (4 samples x 1) sums the
per-sample products a1_i delta2_i over the samples.

The seeds start from weights drawn uniformly from [0, 1) ("uniform01"), use learning rate 1
and 1000 steps. Their gradients were sums over the 4 samples; nablanet's are means, so the
same step needs eta = 4. (nablanet's Dense layers also have a bias b, which the seeds replace
by the constant input; both together do no harm.)

Run:  python examples/xor.py [--out DIR] [--quick]
Writes DIR/xor_loss.png, DIR/xor_boundary.png and DIR/xor_network.png: the loss per step, the
decision boundary over the (x1, x2) plane (the third input held at 1), and the network with each
unit drawn as its response map, the unit's output over that plane. The four hidden units each
cut the plane along a line; the output combines two such cuts into XOR's band.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import nablanet as nn
from nablanet import plot
from nablanet.datasets import make_xor


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Seeds 003/004: XOR with a 3-4-1 network.")
    parser.add_argument("--out", default="out", help="directory for the plots (default: out)")
    parser.add_argument("--quick", action="store_true", help="train briefly (for testing)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. The four points, with the constant third input: X (4, 3), y (4,).
    X, y = make_xor(n_inputs=3)

    # 2. 3 inputs -> 4 sigmoid -> 1 sigmoid, initial weights uniform on [0, 1) as in the seeds.
    model = nn.Sequential.from_sizes(
        [3, 4, 1],
        activation="sigmoid",
        output="sigmoid",
        kernel_initializer="uniform01",
        loss="half_squared_error",
        optimizer="sgd",
        lr=4.0,
        seed=1,
    )

    # 3. 1000 full-batch gradient steps (batch_size=None: all four points in every step).
    epochs = 200 if args.quick else 1000
    history = model.fit(X, y, epochs=epochs, batch_size=None, verbose=False)
    print(
        f"loss: first step {history.history['loss'][0]:.4f}, last {history.history['loss'][-1]:.6f}"
    )

    # 4. The outputs a2 for the four points (the seed's "New output"): near 0, 1, 1, 0.
    #    A squared-error model with one output is treated as regression, so we threshold the
    #    output at 0.5 ourselves to get class labels.
    output = model.predict_proba(X)[:, 0]
    for x_row, a2, target in zip(X, output, y, strict=True):
        print(f"x = {x_row.astype(int).tolist()}  output {a2:.3f}  target {target}")
    predicted = (output > 0.5).astype(np.int64)
    print(f"accuracy: {np.mean(predicted == y):.2f}")

    # The seed's loss curve: the plateau while the hidden units sort themselves out, then the drop.
    plot.plot_history(history, path=out / "xor_loss.png")
    # The output over the plane: the band between the two black lines is class 1.
    plot.plot_decision_boundary(model, X, y, path=out / "xor_boundary.png")
    # Edges: W1 (3 x 4) and W2 (4 x 1), red positive, blue negative, width |w|. Squares: what
    # each unit outputs at every point of the plane (x1 to the right, x2 up).
    plot.plot_network(model, X, output_names=["a2"], path=out / "xor_network.png")
    print(f"plots written to {out}/xor_loss.png, xor_boundary.png and xor_network.png")


if __name__ == "__main__":
    main()
