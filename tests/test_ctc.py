"""nn.CTCLoss / F.ctc_loss against torch (forward and gradients, every
reduction, padded and concatenated targets, zero_infinity, unbatched),
float64 gradcheck through log_softmax, errors, and the decoders and
edit-distance metrics (beam search checked against brute-force enumeration)."""
import itertools
import math

import numpy as np
import pytest
import torch

import dalam
from dalam import nn
from dalam.nn import functional as F
from dalam.autograd import gradcheck
from dalam.audio.decoding import ctc_greedy_decode, ctc_prefix_beam_search
from dalam.metrics import (edit_distance, error_rate, word_error_rate, char_error_rate,
                           digit_error_rate, sequence_accuracy)

R = np.random.default_rng(0)


def _case(T=12, N=4, C=6, S=5, seed=0):
    r = np.random.default_rng(seed)
    x = r.standard_normal((T, N, C))
    tl = np.array([5, 3, 0, 4])[:N]
    il = np.array([12, 10, 7, 12])[:N]
    tg = r.integers(1, C, (N, S))
    tg[min(3, N - 1), :min(4, S)] = [2, 2, 3, 3][:min(4, S)]   # repeats need blanks between them
    return x, tg, il, tl


def _both(x, tg, il, tl, dtype, concat=False, **kw):
    lt = torch.tensor(x.astype(dtype)).log_softmax(-1).detach().requires_grad_()
    ld = dalam.tensor(lt.detach().numpy(), requires_grad=True)
    if concat:
        flat = np.concatenate([tg[n, :tl[n]] for n in range(len(tl))])
        tt, td = torch.tensor(flat), dalam.tensor(flat)
    else:
        tt, td = torch.tensor(tg), dalam.tensor(tg)
    l = torch.nn.functional.ctc_loss(lt, tt, torch.tensor(il), torch.tensor(tl), **kw)
    m = F.ctc_loss(ld, td, dalam.tensor(il), dalam.tensor(tl), **kw)
    return l, m, lt, ld


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("concat", [False, True])
def test_matches_torch(reduction, dtype, concat):
    x, tg, il, tl = _case()
    l, m, lt, ld = _both(x, tg, il, tl, dtype, concat, reduction=reduction)
    assert m.dtype == dtype and m.shape == tuple(l.shape)
    tol = 1e-5 if dtype == np.float32 else 1e-10
    assert np.allclose(m.detach().numpy(), l.detach().numpy(), rtol=tol, atol=tol)
    w = np.linspace(0.5, 1.5, 4) if reduction == "none" else 1.0
    (l * torch.tensor(w, dtype=l.dtype)).sum().backward()
    (m * dalam.tensor(np.asarray(w, dtype))).sum().backward()
    assert np.allclose(ld.grad.numpy(), lt.grad.numpy(), rtol=tol * 10, atol=tol * 10)


def test_blank_index_unbatched_and_module():
    x, tg, il, tl = _case(N=1)
    lt = torch.tensor(x[:, 0]).log_softmax(-1).requires_grad_()
    ld = dalam.tensor(lt.detach().numpy(), requires_grad=True)
    tgt = np.where(tg[0, :5] == 5, 1, tg[0, :5])        # blank = 5 here
    l = torch.nn.CTCLoss(blank=5)(lt, torch.tensor(tgt), torch.tensor(12), torch.tensor(5))
    m = nn.CTCLoss(blank=5)(ld, dalam.tensor(tgt), 12, 5)
    l.backward()
    m.backward()
    assert np.allclose(m.item(), l.item()) and np.allclose(ld.grad.numpy(), lt.grad.numpy(), atol=1e-10)


def test_zero_infinity_and_infeasible_repeats():
    # target [1, 1] needs 3 frames (a blank between the repeats): with 2 frames the loss is inf
    lp = torch.randn(2, 1, 3, dtype=torch.float64).log_softmax(-1).requires_grad_()
    ld = dalam.tensor(lp.detach().numpy(), requires_grad=True)
    args = (np.array([[1, 1]]), np.array([2]), np.array([2]))
    l = torch.nn.functional.ctc_loss(lp, *map(torch.tensor, args), reduction="none")
    m = F.ctc_loss(ld, *map(dalam.tensor, args), reduction="none")
    assert math.isinf(l.item()) and math.isinf(m.item())
    l = torch.nn.functional.ctc_loss(lp, *map(torch.tensor, args), reduction="sum", zero_infinity=True)
    m = F.ctc_loss(ld, *map(dalam.tensor, args), reduction="sum", zero_infinity=True)
    l.backward()
    m.backward()
    assert m.item() == l.item() == 0 and np.array_equal(ld.grad.numpy(), lp.grad.numpy())


def test_gradcheck_float64_through_log_softmax():
    x, tg, il, tl = _case(T=7, N=3, C=4, S=3, seed=1)
    tl, il = np.array([3, 1, 2]), np.array([7, 5, 6])
    logits = dalam.tensor(x, requires_grad=True)
    for red in ("none", "mean", "sum"):
        gradcheck(lambda z: F.ctc_loss(F.log_softmax(z, -1), dalam.tensor(tg), dalam.tensor(il),
                                       dalam.tensor(tl), reduction=red), (logits,))


def test_errors_name_the_shapes():
    lp = dalam.randn(5, 2, 4).log_softmax(-1)
    with pytest.raises(ValueError, match=r"target 1 has 6 labels but its input only 5 frames"):
        F.ctc_loss(lp, dalam.tensor([[1, 2, 0, 0, 0, 0], [1, 2, 3, 1, 2, 3]]), [5, 5], [2, 6])
    assert F.ctc_loss(lp, dalam.tensor([[1, 2, 0, 0, 0, 0], [1, 2, 3, 1, 2, 3]]), [5, 5], [2, 6],
                      zero_infinity=True, reduction="none").numpy()[1] == 0
    with pytest.raises(ValueError, match=r"input_lengths\[0\]=9 must be in 1..T=5"):
        F.ctc_loss(lp, dalam.tensor([[1], [2]]), [9, 5], [1, 1])
    with pytest.raises(ValueError, match="other than blank=0"):
        F.ctc_loss(lp, dalam.tensor([[1, 0], [2, 1]]), [5, 5], [2, 2])
    with pytest.raises(ValueError, match="concatenated targets have 3 labels but target_lengths sum to 4"):
        F.ctc_loss(lp, dalam.tensor([1, 2, 3]), [5, 5], [2, 2])
    with pytest.raises(ValueError, match=r"must be \(T, N, C\)"):
        F.ctc_loss(dalam.randn(2, 3, 4, 5), dalam.tensor([[1]]), [1], [1])


def _brute_force(lp, blank=0):
    """Probability of every labelling by summing all T-frame paths."""
    T, C = lp.shape
    scores = {}
    for path in itertools.product(range(C), repeat=T):
        lab = tuple(c for k, c in enumerate(path) if c != blank and (k == 0 or path[k - 1] != c))
        scores[lab] = np.logaddexp(scores.get(lab, -np.inf), sum(lp[t, c] for t, c in enumerate(path)))
    return scores


def test_decoders():
    lp = np.log(np.array([[0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.9, 0.05, 0.05], [0.1, 0.7, 0.2],
                          [0.1, 0.1, 0.8]]))
    assert ctc_greedy_decode(lp) == [1, 1, 2]
    assert ctc_greedy_decode(np.stack([lp, lp], 1), input_lengths=[5, 2]) == [[1, 1, 2], [1]]
    for seed in range(3):
        p = np.random.default_rng(seed).dirichlet(np.ones(3) * 0.7, 6)
        truth = _brute_force(np.log(p))
        best = max(truth, key=truth.get)
        lab, score = ctc_prefix_beam_search(np.log(p), beam_width=50, prune=-1e9)
        assert tuple(lab) == best and abs(score - truth[best]) < 1e-9
        # the CTC loss of the best labelling is its negative log probability
        nll = F.ctc_loss(dalam.tensor(np.log(p)), dalam.tensor(list(best) or [1])[:len(best)],
                         6, len(best), reduction="sum").item() if best else None
        if nll is not None:
            assert abs(nll + truth[best]) < 1e-6


def test_edit_distance_metrics():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], [1, 2]) == 2 and edit_distance([1, 2, 3], []) == 3
    assert edit_distance([1, 2, 3], [1, 3, 2]) == 2
    assert error_rate([[1, 2, 3, 4]], [[1, 2, 4]]) == 0.25
    assert word_error_rate(["the cat sat", "hi"], ["the cat sat down", "hi"]) == 0.25
    assert char_error_rate(["abc"], ["abd"]) == pytest.approx(1 / 3)
    assert digit_error_rate(["0451", "12"], ["0415", "12"]) == pytest.approx(2 / 6)
    assert sequence_accuracy([[1, 2], [3]], [[1, 2], [4]]) == 0.5
    for _ in range(20):
        a, b = R.integers(0, 3, R.integers(0, 7)), R.integers(0, 3, R.integers(0, 7))
        # the classic O(nm) table as a second opinion
        D = np.zeros((len(a) + 1, len(b) + 1), int)
        D[:, 0], D[0, :] = np.arange(len(a) + 1), np.arange(len(b) + 1)
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                D[i, j] = min(D[i - 1, j] + 1, D[i, j - 1] + 1, D[i - 1, j - 1] + (a[i - 1] != b[j - 1]))
        assert edit_distance(a, b) == D[-1, -1]


def test_ctc_training_idiom():
    """A tutorial-style loop: a tiny BiLSTM learns to emit a fixed sequence."""
    dalam.manual_seed(0)
    rnn = nn.LSTM(4, 16, bidirectional=True)
    head = nn.Linear(32, 4)
    opt = dalam.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=0.05)
    x = dalam.randn(10, 2, 4)
    targets = dalam.tensor([[1, 2, 3], [3, 3, 1]])
    ctc = nn.CTCLoss()
    for _ in range(60):
        out, _ = rnn(x)
        lp = head(out).log_softmax(-1)
        loss = ctc(lp, targets, dalam.tensor([10, 10]), dalam.tensor([3, 3]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert ctc_greedy_decode(lp.detach()) == [[1, 2, 3], [3, 3, 1]]
