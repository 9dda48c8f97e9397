"""One session per browser tab: its own Playground (data, model, optimiser),
a training loop that runs in a worker thread so the event loop keeps serving
every page, and a reaper that frees sessions nobody uses any more."""
import asyncio
import logging
import secrets
import time

from .bridge import DEFAULT_CONFIG, Playground
from .presets import BY_ID, LESSONS
from .protocol import MAX_HIDDEN_LAYERS, MAX_NEURONS, ProtocolError

log = logging.getLogger("dalam.playground")

FRAME_INTERVAL = 1 / 20     # at most 20 frames a second per tab
TRAIN_BUDGET = 0.03         # seconds of training between two frames (shared among playing tabs)
MIN_BUDGET = 0.004          # ... but at least this much, so every tab keeps learning when many play


class Session:
    def __init__(self, manager, send):
        self.manager = manager
        self.id = secrets.token_urlsafe(18)
        self._send = send                  # async callable taking one dict
        self.config = dict(DEFAULT_CONFIG)
        self.pg = None
        self.playing = False
        self._task = None
        self._generation = 0               # which play loop is the current one
        self._busy = asyncio.Lock()        # one operation on self.pg at a time
        self.last_seen = time.monotonic()
        self.frames = 0
        self.closed = False
        self.on_expire = None              # the server's "close this tab's socket"

    # ---- lifecycle --------------------------------------------------------------------------
    async def start(self):
        self.pg = await asyncio.to_thread(Playground, self.config)
        await self.send({"type": "hello", "session": self.id, "config": self.config,
                         "lessons": [{k: v for k, v in l.items()} for l in LESSONS],
                         "limits": {"hidden_layers": MAX_HIDDEN_LAYERS, "neurons": MAX_NEURONS}})
        await self._send_model(reset=True)

    async def close(self):
        self.closed = True
        self.playing = False
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        self.pg = None

    async def send(self, msg):
        if not self.closed:
            await self._send(msg)

    async def _send_model(self, reset):
        pg = self.pg
        dataset, frame = await asyncio.to_thread(lambda: (pg.dataset_message(), pg.frame()))
        await self.send({"type": "config", "config": self.config, "playing": self.playing})
        await self.send(dataset)
        frame["reset"] = reset
        await self._send_frame(frame)

    async def _send_frame(self, frame):
        self.frames += 1
        await self.send(frame)

    # ---- training loop ----------------------------------------------------------------------
    def _train_then_frame(self, pg, budget):
        t0 = time.perf_counter()
        chunk, steps, per_step = 1, 0, 0.0
        while True:
            t = time.perf_counter()
            pg.train_steps(chunk)
            steps += chunk
            per_step = max(per_step, (time.perf_counter() - t) / chunk)   # the slowest seen: do not overshoot
            left = budget - (time.perf_counter() - t0)
            if left <= per_step:
                break
            chunk = max(1, min(200, int(0.5 * left / max(per_step, 1e-6))))
        t = time.perf_counter()
        fr = pg.frame()
        fr["steps_this_frame"] = steps
        fr["train_ms"] = round((t - t0) * 1e3, 2)
        fr["frame_ms"] = round((time.perf_counter() - t) * 1e3, 2)
        return fr

    async def _play_loop(self, generation):
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        try:
            # a quick Pause + Play starts a new loop: this one then ends at its next check
            while self.playing and not self.closed and generation == self._generation:
                t0 = loop.time()
                budget = max(MIN_BUDGET, TRAIN_BUDGET / max(1, self.manager.n_playing()))
                async with self._busy:
                    if not self.playing or generation != self._generation:
                        break
                    frame = await asyncio.to_thread(self._train_then_frame, self.pg, budget)
                await self._send_frame(frame)
                if frame["diverged"]:          # nothing more to learn: stop and say why
                    self.playing = False
                    await self.send({"type": "state", "playing": False, "step": frame["step"],
                                     "reason": "diverged"})
                    break
                await asyncio.sleep(max(0.0, FRAME_INTERVAL - (loop.time() - t0)))
        except Exception as e:
            self.playing = False
            if self.closed or isinstance(e, ConnectionError):      # the tab went away mid-send
                log.info("session %s: stopped streaming (%s)", self.id[:6], e)
            else:
                log.exception("session %s: training failed", self.id[:6])
                await self._safe_send({"type": "error", "error": "training stopped: internal error (see server log)"})
        finally:
            if self._task is me:
                self._task = None

    async def _safe_send(self, msg):
        try:
            await self.send(msg)
        except Exception:
            pass

    async def _pause(self):
        self.playing = False
        task = self._task
        if task is not None:
            async with self._busy:     # wait for the current chunk to end
                pass

    # ---- messages ---------------------------------------------------------------------------
    async def handle(self, kind, fields):
        """Act on one validated message; returns the reply (a dict) or None."""
        self.last_seen = time.monotonic()
        if kind == "ping":
            return {"type": "pong", "step": self.pg.step, "playing": self.playing}
        if kind == "play":
            if not self.playing:
                self.playing = True
                self._generation += 1
                self._task = asyncio.ensure_future(self._play_loop(self._generation))
            return {"type": "state", "playing": True}
        if kind == "pause":
            await self._pause()
            return {"type": "state", "playing": False, "step": self.pg.step}
        if kind in ("config", "preset", "reset"):
            if kind == "config":
                new = {**self.config, **fields["config"]}
            elif kind == "preset":
                new = {**DEFAULT_CONFIG, **BY_ID[fields["name"]]["config"]}
            else:
                new = self.config
            async with self._busy:
                self.pg = await asyncio.to_thread(Playground, new)
                self.config = new
            await self._send_model(reset=True)
            return {"type": "ok", "for": kind}
        if kind == "step":
            await self._pause()
            async with self._busy:
                pg = self.pg
                frame = await asyncio.to_thread(lambda: (pg.train_steps(fields.get("n", 1)), pg.frame())[1])
            await self._send_frame(frame)
            return {"type": "state", "playing": False, "step": pg.step}
        if kind == "inspect":
            async with self._busy:
                pg = self.pg
                try:
                    return await asyncio.to_thread(pg.inspect, fields["point"], fields.get("weight"))
                except ValueError as e:
                    raise ProtocolError(str(e)) from None
        if kind == "export":
            async with self._busy:
                code = self.pg.export_code()
                step = self.pg.step
            return {"type": "export", "code": code, "step": step,
                    "weights_url": f"/api/session/{self.id}/model.safetensors"}
        raise ProtocolError(f"type {kind!r} is not handled")   # unreachable: parse() knows the types

    async def weights(self):
        async with self._busy:
            pg = self.pg
            return await asyncio.to_thread(pg.export_weights)


class SessionManager:
    """All live sessions; at most ``max_sessions``; idle ones freed by ``reap``."""

    def __init__(self, max_sessions=64, idle_timeout=1800.0):
        self.sessions = {}
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout

    def n_playing(self):
        return sum(1 for s in self.sessions.values() if s.playing)

    async def open(self, send):
        if len(self.sessions) >= self.max_sessions:
            raise ProtocolError(f"the server already has {self.max_sessions} sessions open; "
                                "close a tab or try again later")
        s = Session(self, send)
        self.sessions[s.id] = s
        try:
            await s.start()
        except BaseException:
            await self.close(s.id)
            raise
        return s

    async def close(self, sid):
        s = self.sessions.pop(sid, None)
        if s is not None:
            await s.close()

    async def reap(self):
        """Free sessions with no message for ``idle_timeout`` seconds; returns their ids."""
        now = time.monotonic()
        idle = [sid for sid, s in self.sessions.items() if now - s.last_seen > self.idle_timeout]
        for sid in idle:
            s = self.sessions.get(sid)
            closer = None
            if s is not None:
                await s._safe_send({"type": "expired", "error": "this session was idle too long and was "
                                    "freed; reload the page to start again"})
                closer = s.on_expire
            await self.close(sid)
            if closer is not None:
                try:
                    await closer()
                except Exception:
                    pass
        return idle
