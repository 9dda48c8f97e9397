"""Open the playground: a page in your browser where you build a small
network, train it on dalam and look inside it (decision boundary, each
neuron's output, the gradients of one backward pass, exported code).

    dalam playground                 # http://127.0.0.1:8765/ opens in your browser
    dalam playground --no-browser --port 9000

It listens on 127.0.0.1 only; --host 0.0.0.0 makes it reachable from other
machines (anyone who can reach the port can use your CPU)."""
import sys

from .main import CLIError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_arguments(p):
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.add_argument("--idle-timeout", type=float, default=1800.0, metavar="SECONDS",
                   help="free a tab's session after this long without a message (default 1800)")


def run(args):
    if not 0 < args.port < 65536:
        raise CLIError(f"--port must be between 1 and 65535, got {args.port}")
    if args.idle_timeout <= 0:
        raise CLIError(f"--idle-timeout must be positive, got {args.idle_timeout}")
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        raise CLIError("the playground needs aiohttp: pip install 'dalam[playground]'") from None
    if args.host not in LOOPBACK:
        print(f"dalam playground: warning: listening on {args.host}, not only on this machine: "
              "anyone who can reach this port can open sessions and use your CPU", file=sys.stderr)
    from ..playground.server import serve
    try:
        serve(host=args.host, port=args.port, open_browser=not args.no_browser,
              idle_timeout=args.idle_timeout, print_fn=lambda s: print(s, file=sys.stderr, flush=True))
    except OSError as e:
        raise CLIError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None
    return 0
