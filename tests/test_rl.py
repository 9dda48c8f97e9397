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

import gymnasium  # noqa: E402,F401  (the rl extra; CI installs it through .[dev])

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


# ---- reproducibility --------------------------------------------------------------------------------

def _weights(agent):
    return np.concatenate([p.detach().numpy().ravel() for m in agent._modules().values() for p in m.parameters()])


def _ppo(**kw):
    return rl.PPO("CartPole-v1", n_envs=4, n_steps=64, batch_size=64, n_epochs=2, seed=3, **kw)


def test_same_seed_same_learning_curve():
    a, b = _ppo().learn(2048), _ppo().learn(2048)
    assert len(a.episodes) > 20
    assert a.episodes == b.episodes
    np.testing.assert_array_equal(_weights(a), _weights(b))
    c = rl.PPO("CartPole-v1", n_envs=4, n_steps=64, batch_size=64, n_epochs=2, seed=4).learn(2048)
    assert c.episodes != a.episodes


class _Killed(Exception):
    pass


class _SaveThenDie(rl.Callback):
    """Saves a checkpoint at the first iteration past ``at`` steps, then dies (as a killed process would)."""

    def __init__(self, path, at):
        self.path, self.at = path, at

    def on_iteration(self, algo, logs):
        if algo.num_timesteps >= self.at:
            algo.save(self.path)
            raise _Killed


@pytest.mark.parametrize("make, total, at", [
    (lambda: _ppo(normalize_obs=True, normalize_reward=True), 2048, 1000),
    (lambda: rl.DQN("CartPole-v1", learning_starts=200, train_freq=4, target_update_interval=100,
                    prioritized=True, seed=5), 1500, 700),
    (lambda: rl.REINFORCE("CartPole-v1", n_envs=2, episodes_per_update=2, seed=6), 1500, 700),
    (lambda: rl.A2C("CartPole-v1", n_envs=2, seed=7), 1000, 500),
], ids=["PPO", "DQN-PER", "REINFORCE", "A2C"])
def test_kill_and_resume_gives_the_uninterrupted_curve(tmp_path, make, total, at):
    whole = make().learn(total)
    path = tmp_path / "agent.safetensors"
    with pytest.raises(_Killed):
        make().learn(total, callback=_SaveThenDie(path, at))
    resumed = rl.load(path)
    assert 0 < resumed.num_timesteps < total
    resumed.learn(total)
    assert resumed.num_timesteps == whole.num_timesteps
    assert resumed.episodes == whole.episodes
    np.testing.assert_array_equal(_weights(resumed), _weights(whole))


def test_save_load_predict_and_checkpoint_is_safetensors(tmp_path):
    agent = _ppo().learn(512)
    agent.save(tmp_path / "a.safetensors")
    with open(tmp_path / "a.safetensors", "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(header_len))
    assert "__metadata__" in header  # plain safetensors: tensors + JSON, no pickle
    back = rl.PPO.load(tmp_path / "a.safetensors")
    obs = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    np.testing.assert_array_equal(agent.predict(obs), back.predict(obs))
    assert agent.predict(obs[0]).shape == ()
    with pytest.raises(ValueError, match="holds a PPO agent"):
        rl.DQN.load(tmp_path / "a.safetensors")


def test_evaluate_is_deterministic_on_fixed_seeds():
    agent = _ppo().learn(256)
    r1, r2 = rl.evaluate(agent, n_episodes=12, seed=7), rl.evaluate(agent, n_episodes=12, seed=7)
    assert r1["returns"] == r2["returns"] and r1["seeds"] == list(range(7, 19))
    assert r1["mean"] == pytest.approx(np.mean(r1["returns"])) and r1["std"] == pytest.approx(np.std(r1["returns"]))


# ---- clear errors -------------------------------------------------------------------------------------

def test_dqn_refuses_continuous_actions():
    with pytest.raises(ValueError, match="DQN needs a discrete action space.*Pendulum-v1.*PPO"):
        rl.DQN("Pendulum-v1")


def test_observation_space_mismatch(tmp_path):
    agent = _ppo()
    agent.save(tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match="trained on .*obs_dim': 4.*Acrobot-v1.*obs_dim': 6"):
        rl.load(tmp_path / "a.safetensors", env="Acrobot-v1")
    with pytest.raises(ValueError, match="takes observations with 4 features.*shape \\(6,\\)"):
        agent.predict(np.zeros(6))


def test_missing_gymnasium_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    with pytest.raises(ImportError, match="pip install 'gymnasium\\[box2d\\]'.*dalam\\[rl\\]"):
        rl.PPO("CartPole-v1")


def test_unknown_hyperparameter():
    with pytest.raises(TypeError, match="unknown hyperparameter.*'n_step'.*valid ones"):
        rl.PPO("CartPole-v1", n_step=5)


def test_continuous_ppo_runs_on_pendulum():
    agent = rl.PPO("Pendulum-v1", n_envs=2, n_steps=64, batch_size=64, n_epochs=1, seed=0).learn(256)
    a = agent.predict(np.zeros((3, 3), np.float32))
    assert a.shape == (3, 1) and np.all(np.abs(a) <= 2.0)


# ---- the command line -----------------------------------------------------------------------------------

def test_cli_train_eval_video(tmp_path):
    cfg = tmp_path / "ppo.toml"
    cfg.write_text('algo = "PPO"\nenv = "CartPole-v1"\ntotal_timesteps = 1024\ncheckpoint_every = 512\n'
                   f'run_dir = "{tmp_path / "run"}"\n[hyperparameters]\nn_envs = 4\nn_steps = 64\nn_epochs = 2\n')
    env = {**__import__("os").environ, "PYTHONPATH": str(__import__("pathlib").Path(rl.__file__).parents[2])}
    run = lambda *a: subprocess.run([sys.executable, "-m", "dalam.cli", "rl", *a], capture_output=True,  # noqa
                                    text=True, env=env, timeout=120)
    p = run("train", str(cfg), "--quiet")
    assert p.returncode == 0, p.stderr
    rd = tmp_path / "run"
    for f in ("agent.safetensors", "episodes.csv", "updates.csv", "curve.png", "train.json", "run.json"):
        assert (rd / f).exists(), f
    p = run("eval", str(rd), "--episodes", "5", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["seeds"] == [0, 1, 2, 3, 4]
    p = run("video", str(rd), str(tmp_path / "a.gif"), "--max-steps", "30")
    assert p.returncode == 0, p.stderr
    import imageio.v2 as imageio
    frames = imageio.mimread(tmp_path / "a.gif")
    assert len(frames) >= 5 and frames[0].shape[:2] == (200, 300)
    p = run("eval", str(tmp_path / "nothing"))
    assert p.returncode == 1 and "no agent file" in p.stderr


def test_csv_and_tensorboard_logging(tmp_path):
    agent = _ppo()
    agent.learn(1024, callback=[rl.CSVLogger(tmp_path / "csv"), rl.TensorBoardLogger(tmp_path / "tb")])
    steps, rets = rl.evaluation.read_episodes(tmp_path / "csv" / "episodes.csv")
    assert list(rets) == [e[1] for e in agent.episodes] and list(steps) == [e[0] for e in agent.episodes]
    header = (tmp_path / "csv" / "updates.csv").read_text().splitlines()[0].split(",")
    assert {"step", "policy_loss", "value_loss", "entropy", "approx_kl", "fps"} <= set(header)
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))


@pytest.mark.parametrize("argv", [["rl", "--help"], ["rl", "train", "--help"], ["rl", "eval", "--help"],
                                  ["rl", "video", "--help"], ["rl", "plot", "--help"]])
def test_cli_help(argv, capsys):
    from dalam.cli.main import main
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: dalam rl") and "--debug" in out


def test_box2d_resume_is_reproducible(tmp_path):
    """LunarLander's physics world cannot be copied: a resumed run starts new episodes (seeded from
    the checkpoint), so resuming the same file twice gives the same curve."""
    make = lambda: rl.PPO("LunarLander-v3", n_envs=2, n_steps=64, batch_size=64, n_epochs=1, seed=0)  # noqa
    path = tmp_path / "ll.safetensors"
    with pytest.raises(_Killed):
        make().learn(512, callback=_SaveThenDie(path, 256))
    a, b = rl.load(path).learn(512), rl.load(path).learn(512)
    assert a.num_timesteps == 512 and a.episodes == b.episodes
    np.testing.assert_array_equal(_weights(a), _weights(b))


def test_lazy_import_costs_nothing():
    code = ("import sys, dalam; assert 'dalam.rl' not in sys.modules; r = dalam.rl.PPO; "
            "assert 'gymnasium' not in sys.modules and 'matplotlib' not in sys.modules; print('ok')")
    env = {**__import__("os").environ, "PYTHONPATH": str(__import__("pathlib").Path(rl.__file__).parents[2])}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert p.stdout.strip() == "ok", p.stderr
