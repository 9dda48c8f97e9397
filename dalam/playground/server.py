"""The playground's web server (aiohttp): the page and its static files, one
WebSocket per tab (its session), and the weights download.  Binds to
127.0.0.1 unless told otherwise."""
import asyncio
import json
import logging
import math
import pathlib

from .protocol import MAX_MESSAGE_BYTES, ProtocolError, parse
from .sessions import SessionManager

log = logging.getLogger("dalam.playground")
STATIC = pathlib.Path(__file__).resolve().parent / "static"
# the page loads nothing from elsewhere; the browser enforces it
CSP = ("default-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; "
       "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _aiohttp():
    try:
        from aiohttp import web
        return web
    except ImportError:
        raise ImportError("the playground server needs aiohttp: pip install 'dalam[playground]'") from None


def _finite(v):
    """NaN and infinities (a diverged model) -> null: JSON has no such numbers."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def _dumps(msg):
    try:
        return json.dumps(msg, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite(msg), separators=(",", ":"), allow_nan=False)


def create_app(max_sessions=64, idle_timeout=1800.0, reap_every=None):
    web = _aiohttp()
    reap_every = min(30.0, idle_timeout / 2) if reap_every is None else reap_every
    manager = SessionManager(max_sessions=max_sessions, idle_timeout=idle_timeout)

    @web.middleware
    async def headers(request, handler):
        resp = await handler(request)
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.path.startswith("/static/") or request.path == "/":
            resp.headers.setdefault("Cache-Control", "no-cache")
        return resp

    async def index(request):
        return web.FileResponse(STATIC / "index.html")

    async def health(request):
        return web.json_response({"sessions": len(manager.sessions), "playing": manager.n_playing()})

    async def weights(request):
        s = manager.sessions.get(request.match_info["sid"])
        if s is None:
            raise web.HTTPNotFound(text="no such session (it may have been freed)")
        data = await s.weights()
        return web.Response(body=data, content_type="application/octet-stream",
                            headers={"Content-Disposition": 'attachment; filename="playground_model.safetensors"'})

    async def websocket(request):
        origin = request.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1] != request.host:
            # another web site must not drive this server through the learner's browser
            raise web.HTTPForbidden(text=f"WebSocket origin {origin!r} is not this server")
        ws = web.WebSocketResponse(max_msg_size=4 * MAX_MESSAGE_BYTES, heartbeat=30.0)
        await ws.prepare(request)
        send_lock = asyncio.Lock()

        async def send(msg):
            async with send_lock:
                await ws.send_str(_dumps(msg))

        try:
            session = await manager.open(send)
        except ProtocolError as e:
            await ws.send_str(_dumps({"type": "error", "error": str(e)}))
            await ws.close()
            return ws
        session.on_expire = ws.close
        try:
            async for m in ws:
                if m.type == web.WSMsgType.TEXT:
                    await _answer(session, send, m.data)
                elif m.type == web.WSMsgType.BINARY:
                    await send({"type": "error", "error": "messages must be JSON text, not binary"})
                elif m.type == web.WSMsgType.ERROR:
                    break
                if session.closed:
                    break
        finally:
            await manager.close(session.id)
        return ws

    async def reaper(app):
        async def loop():
            while True:
                await asyncio.sleep(reap_every)
                for sid in await manager.reap():
                    log.info("freed idle session %s", sid[:6])
        task = asyncio.ensure_future(loop())
        yield
        task.cancel()
        for sid in list(manager.sessions):
            await manager.close(sid)

    app = web.Application(middlewares=[headers], client_max_size=64 * 1024)
    app["manager"] = manager
    app.router.add_get("/", index)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/session/{sid}/model.safetensors", weights)
    app.router.add_static("/static/", STATIC, show_index=False, follow_symlinks=False)
    app.cleanup_ctx.append(reaper)
    return app


async def _answer(session, send, text):
    """Parse, act, reply: every message gets exactly one answer, an error
    included; nothing a page sends can stop the server."""
    mid = None
    try:
        kind, fields, mid = parse(text)
        reply = await session.handle(kind, fields)
    except ProtocolError as e:
        reply = {"type": "error", "error": str(e)}
    except (ConnectionError, asyncio.CancelledError):
        raise
    except Exception as e:
        log.exception("session %s: error answering a message", session.id[:6])
        reply = {"type": "error", "error": f"internal error: {type(e).__name__} (the server log has details)"}
    if reply is not None:
        if mid is not None:
            reply["id"] = mid
        await send(reply)


def serve(host="127.0.0.1", port=8765, open_browser=True, idle_timeout=1800.0, print_fn=print):
    """Run the server until interrupted (the ``dalam playground`` command)."""
    web = _aiohttp()
    app = create_app(idle_timeout=idle_timeout)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"

    async def announce(app):
        print_fn(f"dalam playground: serving on {url}  (Ctrl+C to stop)")
        if open_browser:
            import webbrowser
            asyncio.get_running_loop().call_later(0.3, lambda: webbrowser.open(url))

    app.on_startup.append(announce)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
