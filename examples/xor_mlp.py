"""A two-layer perceptron learns XOR by gradient descent.

XOR defeats a single perceptron (examples/perceptron.py) because its classes
are not linearly separable.  One hidden layer of tanh units bends the input
space so that the output unit can separate it.  Training is plain full-batch
gradient descent on the binary cross-entropy, with gradients from autograd.

    python examples/xor_mlp.py
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dalam  # noqa: E402
import dalam.nn as nn  # noqa: E402


def main(steps=2000, lr=0.5, hidden=4, seed=0):
    dalam.manual_seed(seed)
    x = dalam.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    t = dalam.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    opt = dalam.optim.SGD(model.parameters(), lr=lr)
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        opt.step()
        if step in (1, 10, 100, 500) or step == steps:
            print(f"step {step:5d}: loss {loss.item():.5f}")
    with dalam.no_grad():
        p = dalam.sigmoid(model(x))
    pred = (p > 0.5).to(dalam.float32)
    correct = int((pred == t).sum().item())
    for xi, pi, ti in zip(x.tolist(), p.reshape(-1).tolist(), t.reshape(-1).tolist()):
        print(f"  XOR{tuple(int(v) for v in xi)} = {int(ti)}: network says {pi:.4f}")
    print(f"XOR learned: {correct}/4 correct, final loss {loss.item():.5f} "
          f"(MLP 2-{hidden}-1, tanh, {steps} steps of gradient descent, lr {lr})")
    return correct, loss.item()


if __name__ == "__main__":
    main()
