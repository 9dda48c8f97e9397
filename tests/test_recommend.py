"""Recommender models, metrics, the fused pair-score op, run folders and the
``dalam recommend`` command.  Real-data tests read MovieLens from $DALAM_DATA."""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

import dalam
from dalam import metrics as M
from dalam.autograd import gradcheck
from dalam.models import AutoRec, BiasedMF, GMF, MLPRec, NeuMF, SASRec, TwoTower
from dalam.models.recommend import fit
from dalam.ops.pair_score import pair_score

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_pair_score_matches_torch_and_gradcheck():
    rng = np.random.default_rng(0)
    P, Q = rng.standard_normal((7, 4)), rng.standard_normal((9, 4))
    u, i = np.array([0, 3, 3, 6]), np.array([8, 1, 1, 0])
    p64, q64 = dalam.tensor(P, requires_grad=True), dalam.tensor(Q, requires_grad=True)
    assert gradcheck(lambda a, b: pair_score(a, b, u, i), [p64, q64])
    p, q = dalam.tensor(P.astype(np.float32), requires_grad=True), \
        dalam.tensor(Q.astype(np.float32), requires_grad=True)
    tp, tq = torch.tensor(P, dtype=torch.float32, requires_grad=True), \
        torch.tensor(Q, dtype=torch.float32, requires_grad=True)
    y = pair_score(p, q, u, i)
    ty = (tp[u] * tq[i]).sum(-1)
    g = rng.standard_normal(4).astype(np.float32)
    (y * dalam.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(q.grad.numpy(), tq.grad.numpy(), rtol=1e-5, atol=1e-6)
    ys = pair_score(p, q, u, i, sparse=True)
    p.grad = q.grad = None
    (ys * dalam.tensor(g)).sum().backward()
    assert p.grad.is_sparse and p.grad._nnz() == 4
    np.testing.assert_allclose(p.grad.to_dense().numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_metrics_by_hand():
    assert M.rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(np.sqrt(4 / 3))
    assert M.mae([1, 2, 3], [1, 2, 5]) == pytest.approx(2 / 3)
    scores = np.array([[0.9, 0.1, 0.2], [0.1, 0.5, 0.3], [0.5, 0.5, 0.1]])
    r = M.ranks_of_first(scores)
    assert r.tolist() == [0, 2, 1]  # a tie ranks the held-out item below
    assert M.hit_rate(r, 1) == pytest.approx(1 / 3) and M.hit_rate(r, 2) == pytest.approx(2 / 3)
    assert M.ndcg(r, 2) == pytest.approx((1 + 1 / np.log2(3)) / 3)
    assert M.mrr(r) == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)
    full = np.array([[5.0, 4.0, 3.0, 2.0]])
    seen = np.array([[True, False, False, False]])
    assert M.full_ranking_ranks(full, [2], seen).tolist() == [1]  # item 0 is seen: masked
    top = M.top_k(full, 2, seen)
    assert top.tolist() == [[1, 2]]
    assert M.catalogue_coverage([[1, 2], [1, 3]], 10) == pytest.approx(0.3)
    assert M.popularity_bias([[3]], [1, 2, 3, 10]) == 1.0
    g = M.per_group([1, 0, 1, 1], ["M", "F", "F", "M"])
    assert g == {"F": (0.5, 2), "M": (1.0, 2)}


def test_models_state_dicts_and_unknown_ids():
    mf = BiasedMF(5, 6, 3)
    assert list(mf.state_dict()) == ["global_bias", "user_factors.weight", "item_factors.weight",
                                     "user_bias.weight", "item_bias.weight"]
    with pytest.raises(ValueError, match="BiasedMF: user id 5 was never seen in training.*TwoTower"):
        mf(np.array([5]), np.array([0]))
    with pytest.raises(ValueError, match="NeuMF: item id 6 was never seen"):
        NeuMF(5, 6)(np.array([0]), np.array([6]))
    nm = NeuMF(5, 6, 4, (8, 4))
    keys = list(nm.state_dict())
    assert "gmf.embedding_user.weight" in keys and "mlp.fc_layers.0.weight" in keys
    assert "affine_output.weight" in keys and nm.score_all([0, 1]).shape == (2, 6)
    tt = TwoTower(np.ones((5, 3)), np.ones((6, 2)), dim=4, hidden=8)
    tt.eval()
    out = tt(np.array([0, -1]), np.array([1, 2]))  # -1: a new user, scored from features
    assert out.shape == (2,) and np.isfinite(out.detach().numpy()).all()
    with pytest.raises(ValueError, match="TwoTower: user id 9 is outside 0..4; pass -1"):
        tt(np.array([9]), np.array([0]))
    assert tt.score_new_user(np.ones(3), np.array([0, 1])).shape == (2,)
    s = SASRec(6, max_len=4, dim=8, heads=2, layers=1)
    x = s.histories([[0, 1, 2, 3, 4], [5]])
    assert x.tolist() == [[2, 3, 4, 5], [0, 0, 0, 6]]
    assert s.score_next([[0, 1], [2]]).shape == (2, 6)
    with pytest.raises(ValueError, match="AutoRec: expected item rating vectors of length 5"):
        AutoRec(5, 6, 4)(dalam.zeros(2, 4))


def test_sasrec_is_causal():
    """A later item in the history must not change earlier positions' outputs."""
    dalam.manual_seed(0)
    s = SASRec(10, max_len=5, dim=8, heads=2, layers=2, dropout=0.0).eval()
    a = s(np.array([[1, 2, 3, 4, 5]])).detach().numpy()
    b = s(np.array([[1, 2, 3, 4, 9]])).detach().numpy()
    np.testing.assert_allclose(a[0, :4], b[0, :4], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[0, 4], b[0, 4])


def test_run_folder_round_trip(tmp_path):
    mf = BiasedMF(4, 5, 2)
    fit.save_run(tmp_path / "run", mf, dict(num_users=4, num_items=5, dim=2), {"x": 1})
    assert not any(p.suffix in (".pt", ".pkl") for p in (tmp_path / "run").iterdir())
    m2, run = fit.load_run(tmp_path / "run")
    np.testing.assert_array_equal(m2.item_embeddings(), mf.item_embeddings())
    assert run["info"] == {"x": 1}
    with pytest.raises(FileNotFoundError, match="not a recommender run folder"):
        fit.load_run(tmp_path)


@pytest.fixture(scope="module")
def ml():
    from dalam.datasets import MovieLens100K
    return MovieLens100K(root=os.environ.get("DALAM_DATA"))


def test_mf_learns_on_real_ratings(ml):
    """Two epochs of biased MF beat the global mean clearly on u1 (the whole
    program as a tutorial writes it)."""
    tr, te = ml.split("u1")
    dalam.manual_seed(0)
    mf = BiasedMF(ml.num_users, ml.num_items, 32, float(tr.rating.mean()))
    fit.train_rating_model(mf, tr, epochs=2, lr=0.01, reg=0.05, batch_size=1024)
    base = M.rmse(np.full(len(te), tr.rating.mean()), te.rating)
    got = M.rmse(fit.predict_ratings(mf, te.user, te.item), te.rating)
    assert got < base - 0.08, (got, base)


def test_neumf_beats_random_under_ncf_protocol(ml):
    from dalam.datasets.movielens import NegativeSampler, ncf_candidates
    tr, te = ml.leave_one_out()
    seen = ml.seen(tr)
    users, cand = ncf_candidates(te, seen, 99, seed=0)
    users, cand = users[:200], cand[:200]
    dalam.manual_seed(0)
    model = GMF(ml.num_users, ml.num_items, 8)
    s = NegativeSampler(tr, ml.num_users, ml.num_items, 1, seed=0)
    fit.train_implicit(model, s, epochs=1, lr=0.01, batch_size=2048)
    hr = M.hit_rate(M.ranks_of_first(fit.score_candidates(model, users, cand)), 10)
    assert hr > 0.3  # random ranking gives 0.10


def test_recommend_cli(tmp_path, ml):
    mf = BiasedMF(ml.num_users, ml.num_items, 8)
    fit.save_run(tmp_path / "run", mf, dict(num_users=ml.num_users, num_items=ml.num_items, dim=8))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "dalam.cli", "recommend", str(tmp_path / "run"),
                        "--user", "42", "--plot", str(tmp_path / "items.png")],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    rows = lines[2:12]
    assert lines[0].startswith("user 42 (") and all(" <- " in ln for ln in rows)
    assert [int(ln.split()[0]) for ln in rows] == list(range(1, 11))
    rated = {ml.titles[i] for i in ml.ratings.item[ml.ratings.user == 41]}
    recs = [ln.split("  <- ")[0].split(None, 2)[2].strip() for ln in rows]
    assert len(recs) == 10 and not rated & set(recs)
    assert (tmp_path / "items.png").stat().st_size > 10000
    bad = subprocess.run([sys.executable, "-m", "dalam.cli", "recommend", str(tmp_path / "run"),
                          "--user", "5000"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "user ids run from 1 to 943" in bad.stderr
    assert "Traceback" not in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "dalam.cli", "recommend", str(tmp_path),
                          "--user", "1"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "not a recommender run folder" in bad.stderr


def _example(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_examples_run_small(tmp_path, capsys):
    """The three MovieLens examples end to end with tiny settings (the full runs
    and their figures are in docs/RESULTS.md)."""
    data = os.environ.get("DALAM_DATA")
    ex = _example("movielens_rating")
    res = ex.main(ex.parser().parse_args(["--folds", "u1", "--epochs", "1", "--autorec-epochs", "1",
                                          "--dim", "16", "--autorec-hidden", "32",
                                          "--out", str(tmp_path / "r"), "--data", str(data)]))
    assert set(res) == {"BiasedMF", "AutoRec", "Blend (MF+AutoRec)/2"}
    assert res["BiasedMF"]["rmse_mean"] < 1.1 and (tmp_path / "r" / "mf_u1" / "run.json").is_file()
    ex = _example("movielens_ranking")
    res = ex.main(ex.parser().parse_args(["--models", "pop,gmf", "--epochs", "1", "--dim", "8",
                                          "--batch", "2048", "--limit-users", "60",
                                          "--out", str(tmp_path / "k"), "--data", str(data)]))
    assert res["GMF"]["ncf HR@10"] > 0.2 and 0 < res["MostPopular"]["coverage@10"] < 0.2
    out = capsys.readouterr().out
    assert "| MostPopular |" in out and "refit on all training data for 1 epochs" in out
    ex = _example("movielens_coldstart")
    res = ex.main(ex.parser().parse_args(["--epochs", "1", "--tt-epochs", "1", "--cold-users", "20",
                                          "--tt-dim", "8", "--out", str(tmp_path / "c"),
                                          "--data", str(data)]))
    assert res["TwoTower"]["cold as new users (id -1)"] < res["global mean"]["cold"] + 0.05
