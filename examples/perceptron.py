"""Rosenblatt's perceptron learning rule on the logic gates AND, OR and XOR.

The perceptron predicts ``step(w . x + b)`` and, for each misclassified
example, moves the weights towards it: ``w += lr * (target - prediction) * x``.
The perceptron convergence theorem says this stops making mistakes after
finitely many updates when the classes are linearly separable (AND, OR);
XOR is not linearly separable (Minsky & Papert, 1969), so no line separates
its classes and the rule cycles for ever, never getting all four right.

    python examples/perceptron.py
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dalam  # noqa: E402

X = dalam.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def predict(w, b, x):
    return (x @ w + b > 0).to(dalam.float32)


def train_perceptron(x, t, lr=1.0, max_epochs=100):
    """The perceptron rule, one example at a time; returns (w, b, epochs, converged)."""
    w = dalam.zeros(2)
    b = dalam.zeros(())
    for epoch in range(1, max_epochs + 1):
        mistakes = 0
        for i in range(len(x)):
            err = t[i] - predict(w, b, x[i])
            if err.item() != 0:
                w = w + lr * err * x[i]
                b = b + lr * err
                mistakes += 1
        if mistakes == 0:
            return w, b, epoch, True
    return w, b, max_epochs, False


def main():
    results = {}
    for name, target in GATES.items():
        t = dalam.tensor([float(v) for v in target])
        w, b, epochs, converged = train_perceptron(X, t)
        pred = predict(w, b, X)
        correct = int((pred == t).sum().item())
        results[name] = (converged, correct)
        state = f"converged after {epochs} epochs" if converged else f"did NOT converge in {epochs} epochs"
        print(f"{name}: {state}; w = {w.tolist()}, b = {b.item():g}; "
              f"predictions {[int(v) for v in pred.tolist()]} vs targets {target}: {correct}/4 correct")
    print("AND and OR are linearly separable: the perceptron rule finds a separating line.")
    print("XOR is not: no line w.x + b = 0 puts (0,1),(1,0) on one side and (0,0),(1,1) on the other, "
          "so the rule keeps cycling. A hidden layer fixes this (examples/xor_mlp.py).")
    return results


if __name__ == "__main__":
    main()
