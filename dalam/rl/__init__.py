"""Reinforcement learning on gymnasium environments.

    from dalam.rl import PPO, evaluate
    agent = PPO("CartPole-v1", n_envs=8, seed=0).learn(100_000)
    print(evaluate(agent, n_episodes=100))      # mean/std over 100 seeded episodes
    agent.save("ppo_cartpole.safetensors")

The package's shape: ``buffers`` (replay, prioritised replay, rollouts),
``schedules``, ``returns`` (discounted returns, GAE), ``normalize``
(running obs/reward scaling), ``policies`` (MLP actor-critic, Q-network),
one file per algorithm (``dqn``, ``reinforce``, ``a2c``, ``ppo``) on the
shared ``base`` / ``on_policy`` loops, ``callbacks`` (CSV, TensorBoard,
checkpoints, evaluation), ``evaluation`` (100-episode evaluation, curves,
GIFs) and ``config`` (training from a TOML file).  gymnasium is needed only
when an environment is made (pip install 'dalam[rl]')."""
from .a2c import A2C
from .base import Algorithm, load
from .buffers import PrioritizedReplayBuffer, ReplayBuffer, RolloutBuffer
from .callbacks import (Callback, CheckpointCallback, CSVLogger, EvalCallback, ProgressPrinter, StopOnReward,
                        TensorBoardLogger)
from .dqn import DQN
from .evaluation import evaluate, plot_learning_curve, record_gif
from .normalize import ObsNormalizer, RewardNormalizer, RunningMeanStd
from .policies import ActorCritic, QNetwork, mlp
from .ppo import PPO, clipped_surrogate_loss, value_loss
from .reinforce import REINFORCE
from .returns import discounted_returns, gae
from .schedules import Constant, Exponential, Linear, make_schedule
from . import config, evaluation  # noqa: E402,F401  (submodules the CLI uses)

ALGORITHMS = {"DQN": DQN, "REINFORCE": REINFORCE, "A2C": A2C, "PPO": PPO}
