"""Reinforcement learning: train agents on gymnasium environments, evaluate
them by the field's conventions, render them.

    dalam rl train configs/ppo_lunarlander.toml [--seed 1] [--run-dir DIR] [--fresh]
    dalam rl eval RUN_DIR --episodes 100 [--seed 0] [--best] [--json]
    dalam rl video RUN_DIR out.gif [--seed 0]
    dalam rl plot RUN_DIR [RUN_DIR ...] -o curve.png

A run directory holds the latest checkpoint (agent.safetensors); starting
'train' again on it resumes where it stopped.  Needs gymnasium
(pip install 'dalam[rl]')."""
import json
import pathlib

from .main import CLIError, _debug_parent


def add_arguments(p):
    sub = p.add_subparsers(dest="rl_command", metavar="ACTION", required=True)
    t = sub.add_parser("train", parents=[_debug_parent()], help="train (or resume) the run a TOML config describes")
    t.add_argument("config", help="TOML file (see configs/ppo_lunarlander.toml)")
    t.add_argument("--seed", type=int, default=None, help="override the config's seed")
    t.add_argument("--run-dir", default=None, help="override the config's run_dir")
    t.add_argument("--total-timesteps", type=int, default=None, help="override total_timesteps")
    t.add_argument("--fresh", action="store_true", help="start over even if RUN_DIR has a checkpoint")
    t.add_argument("--quiet", action="store_true", help="no progress lines")
    e = sub.add_parser("eval", parents=[_debug_parent()],
                       help="mean +- std return of the deterministic policy over seeded episodes")
    e.add_argument("run_dir", help="a run directory (or an agent .safetensors file)")
    e.add_argument("--episodes", type=int, default=100)
    e.add_argument("--seed", type=int, default=0, help="first episode seed (episodes use seed, seed+1, ...)")
    e.add_argument("--best", action="store_true", help="use best.safetensors (kept by eval_every)")
    e.add_argument("--stochastic", action="store_true", help="sample actions instead of the deterministic policy")
    e.add_argument("--json", action="store_true", help="print the result as JSON")
    v = sub.add_parser("video", parents=[_debug_parent()], help="a GIF of one episode of the agent")
    v.add_argument("run_dir")
    v.add_argument("out", help="output .gif")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--best", action="store_true")
    v.add_argument("--fps", type=int, default=30)
    v.add_argument("--frame-skip", type=int, default=2)
    v.add_argument("--max-steps", type=int, default=1000)
    pl = sub.add_parser("plot", parents=[_debug_parent()],
                        help="learning curves (return vs env steps) of run directories as a PNG")
    pl.add_argument("run_dirs", nargs="+")
    pl.add_argument("-o", "--out", required=True)
    pl.add_argument("--title", default="")
    pl.add_argument("--threshold", type=float, default=None)


def _agent_file(path, best=False):
    p = pathlib.Path(path)
    if p.is_file():
        return p
    f = p / ("best.safetensors" if best else "agent.safetensors")
    if not f.is_file():
        raise CLIError(f"{f}: no agent file there (expected a run directory written by 'dalam rl train'"
                       + (" with eval_every > 0" if best else "") + ")")
    return f


def run(args):
    from .. import rl
    cmd = args.rl_command
    if cmd == "train":
        agent = rl.config.train_from_config(args.config, seed=args.seed, run_dir=args.run_dir,
                                            total_timesteps=args.total_timesteps, fresh=args.fresh,
                                            verbose=not args.quiet)
        print(f"{agent.name} on {agent.config['env']}: {agent.num_timesteps} steps, "
              f"mean return of the last 100 episodes {agent.recent_return():.1f}")
    elif cmd == "eval":
        agent = rl.load(_agent_file(args.run_dir, args.best))
        r = rl.evaluate(agent, n_episodes=args.episodes, seed=args.seed, deterministic=not args.stochastic)
        if pathlib.Path(args.run_dir).is_dir():
            (pathlib.Path(args.run_dir) / f"eval{'_best' if args.best else ''}.json").write_text(json.dumps(r))
        if args.json:
            print(json.dumps({k: r[k] for k in ("mean", "std", "seeds")}))
        else:
            print(f"{agent.name} on {agent.config['env']} ({agent.num_timesteps} training steps): "
                  f"{r['mean']:.1f} +- {r['std']:.1f} over {args.episodes} episodes "
                  f"(seeds {args.seed}..{args.seed + args.episodes - 1}, "
                  f"{'stochastic' if args.stochastic else 'deterministic'} policy)")
    elif cmd == "video":
        agent = rl.load(_agent_file(args.run_dir, args.best))
        ret = rl.record_gif(agent, args.out, seed=args.seed, fps=args.fps, frame_skip=args.frame_skip,
                            max_steps=args.max_steps)
        print(f"wrote {args.out} (episode return {ret:.1f})")
    elif cmd == "plot":
        curves = {}
        for d in args.run_dirs:
            f = pathlib.Path(d) / "episodes.csv"
            if not f.is_file():
                raise CLIError(f"{f}: not found (a run directory written by 'dalam rl train')")
            curves[pathlib.Path(d).name] = rl.evaluation.read_episodes(f)
        rl.plot_learning_curve(curves, args.out, title=args.title, threshold=args.threshold)
        print(f"wrote {args.out}")
