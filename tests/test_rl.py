"""dalam.rl: returns/GAE/PPO loss against hand-computed values, buffers,
schedules, normalisation, each algorithm learning on CartPole in a short
run, reproducibility (same seed -> same curve; kill-and-resume -> the same
curve as an uninterrupted run), clear errors, and the `dalam rl` CLI."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")  # the rl extra; CI installs it through .[dev]

import dalam  # noqa: E402
from dalam import rl  # noqa: E402
from dalam.tensor import Tensor  # noqa: E402


def T(a, grad=False):
    t = dalam.tensor(np.asarray(a, np.float32))
    return t.requires_grad_(True) if grad else t


# ---- returns, GAE, PPO losses: numbers worked out by hand ------------------------------------------

def test_discounted_returns_by_hand():
    r = np.array([[1.0], [2.0], [3.0]])
    # gamma 0.5, bootstrap 4: G2 = 3 + .5*4 = 5, G1 = 2 + .5*5 = 4.5, G0 = 1 + .5*4.5 = 3.25
    g = rl.discounted_returns(r, np.zeros((3, 1)), 0.5, last_values=np.array([4.0]))
    np.testing.assert_allclose(g[:, 0], [3.25, 4.5, 5.0])
    # an episode ends at t=1: nothing flows back across it; G1 = 2, G0 = 1 + .5*2 = 2
    g = rl.discounted_returns(r, np.array([[0], [1], [0]]), 0.5, last_values=np.array([4.0]))
    np.testing.assert_allclose(g[:, 0], [2.0, 2.0, 5.0])
    assert g.dtype == np.float32


def test_gae_by_hand():
    # gamma .9, lambda .8, V = .5 .4 .3, bootstrap .2, episode ends after t=1
    # deltas: 1 + .9*.4 - .5 = .86 ; 1 + 0 - .4 = .6 ; 1 + .9*.2 - .3 = .88
    # A2 = .88, A1 = .6 (cut), A0 = .86 + .72*.6 = 1.292 ; returns = A + V
    adv, ret = rl.gae(np.ones((3, 1)), np.array([[.5], [.4], [.3]]), np.array([[0], [1], [0]]),
                      np.array([.2]), 0.9, 0.8)
    np.testing.assert_allclose(adv[:, 0], [1.292, 0.6, 0.88], rtol=1e-6)
    np.testing.assert_allclose(ret[:, 0], [1.792, 1.0, 1.18], rtol=1e-6)


def test_gae_lambda_one_is_monte_carlo_minus_baseline():
    rng = np.random.default_rng(0)
    r, v = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    d = (rng.random((7, 3)) < 0.3).astype(np.float32)
    last = rng.normal(size=3)
    adv, ret = rl.gae(r, v, d, last, 0.97, 1.0)
    np.testing.assert_allclose(ret, rl.discounted_returns(r, d, 0.97, last), rtol=1e-5, atol=1e-5)


def test_ppo_clipped_surrogate_by_hand():
    # ratios 1, 2, .5 ; advantages 1, 1, -1 ; eps .2
    # min(1, 1) = 1 ; min(2, 1.2) = 1.2 ; min(-.5, -.8) = -.8  -> loss = -(1 + 1.2 - .8)/3
    lp = T([0.0, math.log(2.0), math.log(0.5)], grad=True)
    loss = rl.clipped_surrogate_loss(lp, T([0, 0, 0]), T([1, 1, -1]), 0.2)
    assert loss.item() == pytest.approx(-1.4 / 3, rel=1e-6)
    loss.backward()
    # only the unclipped first term carries gradient: d/dlp (-(r*A)/3) = -r*A/3 = -1/3
    np.testing.assert_allclose(lp.grad.numpy(), [-1 / 3, 0, 0], atol=1e-7)


def test_ppo_value_loss_by_hand():
    v, old, ret = T([1.0, 3.0], grad=True), T([0.0, 2.9]), T([2.0, 3.0])
    assert rl.value_loss(v, old, ret).item() == pytest.approx(0.5)  # ((1-2)^2 + 0) / 2
    # clipped: V_clip = 0 + clip(1, -.5, .5) = .5 -> (.5-2)^2 = 2.25 > 1 ; second 0  -> 2.25/2
    assert rl.value_loss(v, old, ret, clip_range_vf=0.5).item() == pytest.approx(1.125)


# ---- schedules, normalisation, buffers ------------------------------------------------------------

def test_schedules():
    s = rl.make_schedule("linear:1.0:0.1:0.5")
    assert s(0.0) == 1.0 and s(0.25) == pytest.approx(0.55) and s(0.5) == pytest.approx(0.1) and s(1) == 0.1
    assert rl.make_schedule(3e-4)(0.7) == 3e-4
    assert rl.make_schedule("linear:0.001")(0.5) == pytest.approx(0.0005)
    assert rl.make_schedule("exp:1:0.01")(0.5) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="linear:START"):
        rl.make_schedule("cosine")


def test_running_mean_std_matches_numpy():
    rng = np.random.default_rng(1)
    data = rng.normal(3.0, 2.0, size=(1000, 4))
    rms = rl.RunningMeanStd((4,), epsilon=0.0)
    for chunk in np.array_split(data, 13):
        rms.update(chunk)
    np.testing.assert_allclose(rms.mean, data.mean(0), rtol=1e-10)
    np.testing.assert_allclose(rms.var, data.var(0), rtol=1e-10)
    z = rl.ObsNormalizer((4,))
    out = z(data, update=True)
    assert out.dtype == np.float32 and abs(out.mean()) < 1e-3 and abs(out.std() - 1) < 1e-2


def test_replay_buffer_wraps_and_samples():
    b = rl.ReplayBuffer(5, (2,))
    for i in range(7):
        b.add(np.full((1, 2), i), np.full((1, 2), i + 1), [i % 2], [float(i)], [0.0])
    assert len(b) == 5 and b.pos == 2
    assert sorted(b.rewards.tolist()) == [2, 3, 4, 5, 6]  # 0 and 1 overwritten
    s = b.sample(64, np.random.default_rng(0))
    assert s["obs"].shape == (64, 2) and set(s["rewards"].tolist()) <= {2, 3, 4, 5, 6}
    np.testing.assert_array_equal(s["next_obs"][:, 0], s["obs"][:, 0] + 1)


def test_prioritized_buffer_samples_by_priority():
    b = rl.PrioritizedReplayBuffer(4, (1,), alpha=1.0, eps=0.0)
    b.add(np.arange(4.0)[:, None], np.zeros((4, 1)), np.zeros(4), np.zeros(4), np.zeros(4))
    b.update_priorities(np.arange(4), [1.0, 2.0, 3.0, 4.0])
    assert b.tree[1] == pytest.approx(10.0)
    rng = np.random.default_rng(0)
    counts = np.zeros(4)
    for _ in range(200):
        s = b.sample(10, rng, beta=1.0)
        counts += np.bincount(s["indices"], minlength=4)
    np.testing.assert_allclose(counts / counts.sum(), [0.1, 0.2, 0.3, 0.4], atol=0.02)
    # importance weights (N P(i))^-beta divided by their max; beta=1: proportional to 1/P(i)
    s = b.sample(8, rng, beta=1.0)
    p = np.array([0.1, 0.2, 0.3, 0.4])[s["indices"]]
    np.testing.assert_allclose(s["weights"], (1 / p) / (1 / p).max(), rtol=1e-5)


# ---- each algorithm learns -----------------------------------------------------------------------

RANDOM_CARTPOLE = 22.0  # mean return of the uniform random policy on CartPole-v1


def _learned(agent, steps):
    agent.learn(steps)
    return agent.recent_return(20), rl.evaluate(agent, n_episodes=10, seed=100)["mean"]


def test_ppo_learns_cartpole():
    agent = rl.PPO("CartPole-v1", n_envs=8, n_steps=32, batch_size=256, n_epochs=20, gamma=0.98, gae_lambda=0.8,
                   learning_rate="linear:0.001", seed=0)
    train, ev = _learned(agent, 12_000)
    assert train > 4 * RANDOM_CARTPOLE and ev > 5 * RANDOM_CARTPOLE, (train, ev)


def test_a2c_learns_cartpole():
    agent = rl.A2C("CartPole-v1", n_envs=8, seed=0)
    train, ev = _learned(agent, 15_000)
    assert train > 3 * RANDOM_CARTPOLE and ev > 3 * RANDOM_CARTPOLE, (train, ev)


def test_reinforce_learns_cartpole():
    agent = rl.REINFORCE("CartPole-v1", n_envs=4, learning_rate=3e-3, episodes_per_update=4, seed=0)
    train, ev = _learned(agent, 12_000)
    assert train > 3 * RANDOM_CARTPOLE and ev > 3 * RANDOM_CARTPOLE, (train, ev)


def test_dqn_learns_cartpole():
    agent = rl.DQN("CartPole-v1", learning_rate=1e-3, batch_size=64, learning_starts=500, train_freq=4,
                   gradient_steps=2, target_update_interval=250, exploration_fraction=0.3, seed=0)
    train, ev = _learned(agent, 8_000)
    assert train > 3 * RANDOM_CARTPOLE and ev > 3 * RANDOM_CARTPOLE, (train, ev)
