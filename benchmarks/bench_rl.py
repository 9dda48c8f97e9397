"""RL training throughput, dalam vs PyTorch (CPU, float32, same threads, one run):

- PPO update: the learning phase of PPO on LunarLander-v3 (obs 8, 4 actions,
  separate 64-64 tanh actor and critic, minibatch 64, clipped surrogate +
  value loss + entropy bonus, grad-norm clipping, Adam): samples/s.
- DQN train step: CartPole-v1's zoo network (4-256-256-2 ReLU), batch 64,
  Double-DQN targets (two no-grad forwards), Huber loss, Adam: steps/s.
- Rollout inference: one batched policy forward + action sampling for 16
  environments (what each vector step costs besides the environment): steps/s.
- Environment stepping alone (gymnasium SyncVectorEnv, random actions),
  reported separately: it is the same for both frameworks.

    python benchmarks/bench_rl.py                 # 1 thread
    python benchmarks/bench_rl.py --threads 2

Each figure is the best of --repeats runs, dalam and PyTorch timed in alternation."""
import argparse
import math
import os
import sys

_ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_ap.add_argument("--threads", type=int, default=1)
_ap.add_argument("--repeats", type=int, default=5)
_ap.add_argument("--steps", type=int, default=100, help="updates per timed run")
ARGS = _ap.parse_args() if __name__ == "__main__" else _ap.parse_args([])
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dalam  # noqa: E402
from dalam import rl  # noqa: E402
from dalam.nn.utils import clip_grad_norm_  # noqa: E402
from dalam.ops.loss import huber_loss  # noqa: E402
from dalam.tensor import Tensor  # noqa: E402

torch.set_num_threads(ARGS.threads)
G = np.random.default_rng(0)


def tmlp(sizes, act):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def copy_into(torch_mod, dalam_mod):
    torch_mod.load_state_dict({k: torch.tensor(v.numpy()) for k, v in dalam_mod.state_dict().items()})


def best_pair(fa, fb, repeats):
    ta = tb = math.inf
    for _ in range(repeats):
        t = time.perf_counter(); fa(); ta = min(ta, time.perf_counter() - t)  # noqa: E702
        t = time.perf_counter(); fb(); tb = min(tb, time.perf_counter() - t)  # noqa: E702
    return ta, tb


# ---- PPO update ---------------------------------------------------------------------------------------
B = 64
obs = G.standard_normal((B, 8)).astype(np.float32)
act = G.integers(0, 4, B)
adv = G.standard_normal(B).astype(np.float32)
old_lp = np.full(B, math.log(0.25), np.float32)
old_v = G.standard_normal(B).astype(np.float32)
ret = G.standard_normal(B).astype(np.float32)

dalam.manual_seed(0)
d_ac = rl.ActorCritic(8, n_actions=4)
d_opt = dalam.optim.Adam(d_ac.parameters(), lr=3e-4, eps=1e-5)
t_pi, t_vf = tmlp([8, 64, 64, 4], torch.nn.Tanh), tmlp([8, 64, 64, 1], torch.nn.Tanh)
copy_into(t_pi, d_ac.pi)
copy_into(t_vf, d_ac.vf)
t_params = list(t_pi.parameters()) + list(t_vf.parameters())
t_opt = torch.optim.Adam(t_params, lr=3e-4, eps=1e-5)
d_params = list(d_ac.parameters())
D = {k: Tensor._make(v, False, None) for k, v in dict(obs=obs, act=act, adv=adv, old_lp=old_lp, old_v=old_v,
                                                      ret=ret).items()}
TT = {k: torch.tensor(v) for k, v in dict(obs=obs, act=act, adv=adv, old_lp=old_lp, old_v=old_v, ret=ret).items()}


def ppo_dalam():
    for _ in range(ARGS.steps):
        dist, v = d_ac(D["obs"])
        lp = d_ac.log_prob(dist, D["act"])
        loss = (rl.clipped_surrogate_loss(lp, D["old_lp"], D["adv"], 0.2)
                + 0.5 * rl.value_loss(v, D["old_v"], D["ret"]) - 0.01 * d_ac.entropy(dist).mean())
        d_opt.zero_grad()
        loss.backward()
        clip_grad_norm_(d_params, 0.5)
        d_opt.step()


def ppo_torch():
    for _ in range(ARGS.steps):
        dist = torch.distributions.Categorical(logits=t_pi(TT["obs"]))
        v = t_vf(TT["obs"]).squeeze(-1)
        lp = dist.log_prob(TT["act"])
        ratio = torch.exp(lp - TT["old_lp"])
        pg = -torch.min(ratio * TT["adv"], torch.clamp(ratio, 0.8, 1.2) * TT["adv"]).mean()
        loss = pg + 0.5 * ((v - TT["ret"]) ** 2).mean() - 0.01 * dist.entropy().mean()
        t_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(t_params, 0.5)
        t_opt.step()


# ---- DQN train step -------------------------------------------------------------------------------------
o = G.standard_normal((B, 4)).astype(np.float32)
o2 = G.standard_normal((B, 4)).astype(np.float32)
a = G.integers(0, 2, B)
r = G.standard_normal(B).astype(np.float32)
term = (G.random(B) < 0.05).astype(np.float32)
d_q, d_qt = rl.QNetwork(4, 2, (256, 256), "relu"), rl.QNetwork(4, 2, (256, 256), "relu")
d_qopt = dalam.optim.Adam(d_q.parameters(), lr=2.3e-3)
t_q, t_qt = tmlp([4, 256, 256, 2], torch.nn.ReLU), tmlp([4, 256, 256, 2], torch.nn.ReLU)
copy_into(t_q, d_q.q)
copy_into(t_qt, d_qt.q)
t_qopt = torch.optim.Adam(t_q.parameters(), lr=2.3e-3)
d_qparams = list(d_q.parameters())


def dqn_dalam():
    O, O2, A = Tensor._make(o, False, None), Tensor._make(o2, False, None), Tensor._make(a[:, None], False, None)
    for _ in range(ARGS.steps):
        with dalam.no_grad():
            qn = d_qt(O2).numpy()
            an = d_q(O2).numpy().argmax(1)
        y = r + 0.99 * (1 - term) * qn[np.arange(B), an]
        q = d_q(O).gather(1, A).squeeze(1)
        loss = huber_loss(q, Tensor._make(y.astype(np.float32), False, None))
        d_qopt.zero_grad()
        loss.backward()
        clip_grad_norm_(d_qparams, 10.0)
        d_qopt.step()


def dqn_torch():
    O, O2, A = torch.tensor(o), torch.tensor(o2), torch.tensor(a[:, None])
    R, TM = torch.tensor(r), torch.tensor(term)
    for _ in range(ARGS.steps):
        with torch.no_grad():
            qn = t_qt(O2)
            an = t_q(O2).argmax(1)
            y = R + 0.99 * (1 - TM) * qn.gather(1, an[:, None]).squeeze(1)
        q = t_q(O).gather(1, A).squeeze(1)
        loss = torch.nn.functional.huber_loss(q, y)
        t_qopt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(t_q.parameters(), 10.0)
        t_qopt.step()


# ---- rollout inference: batched forward + sampling for 16 environments --------------------------------------
O16 = G.standard_normal((16, 8)).astype(np.float32)


def infer_dalam():
    with dalam.no_grad():
        for _ in range(ARGS.steps):
            dist, v = d_ac(Tensor._make(O16, False, None))
            x = dist.sample()
            d_ac.log_prob(dist, x).numpy()


def infer_torch():
    with torch.no_grad():
        for _ in range(ARGS.steps):
            x = torch.tensor(O16)
            dist = torch.distributions.Categorical(logits=t_pi(x))
            t_vf(x)
            s = dist.sample()
            dist.log_prob(s).numpy()


def env_steps(env_id, n_envs, steps=300):
    vec = rl._gym.make_vec_env(env_id, n_envs)
    vec.reset(seed=0)
    rng = np.random.default_rng(0)
    n = vec.single_action_space.n
    t = time.perf_counter()
    for _ in range(steps):
        vec.step(rng.integers(0, n, n_envs))
    dt = time.perf_counter() - t
    vec.close()
    return steps * n_envs / dt


def main():
    print(f"threads: {ARGS.threads}, best of {ARGS.repeats} runs of {ARGS.steps} updates; torch {torch.__version__}")
    rows = []
    for name, fd, ft, per in [("PPO update (samples/s)", ppo_dalam, ppo_torch, B),
                              ("DQN train step (steps/s)", dqn_dalam, dqn_torch, 1),
                              ("rollout forward+sample, 16 envs (steps/s)", infer_dalam, infer_torch, 16)]:
        fd(), ft()  # warm up
        td, tt = best_pair(fd, ft, ARGS.repeats)
        rows.append((name, ARGS.steps * per / td, ARGS.steps * per / tt))
        print(f"  {name}: dalam {rows[-1][1]:.0f}, pytorch {rows[-1][2]:.0f}", flush=True)
    w = max(len(r[0]) for r in rows)
    print(f"{'workload':<{w}}  {'dalam':>10}  {'pytorch':>10}  {'dalam/pytorch':>13}")
    for name, d, t in rows:
        print(f"{name:<{w}}  {d:>10.0f}  {t:>10.0f}  {d / t:>13.2f}")
    print("environment stepping alone (gymnasium SyncVectorEnv, random actions; same for both):")
    for env_id, n in (("CartPole-v1", 8), ("LunarLander-v3", 16)):
        print(f"  {env_id} x{n}: {env_steps(env_id, n):.0f} env steps/s")


if __name__ == "__main__":
    main()
