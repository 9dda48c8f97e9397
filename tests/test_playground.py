"""The playground without a browser: the bridge trains on dalam and shows
autograd's numbers, exported code reproduces the page step for step, every
malformed message is refused with a clear error, and the server survives
1,000 of them with flat memory."""
import asyncio
import json
import random
import subprocess
import sys
import urllib.request

import aiohttp
import numpy as np
import pytest
import torch

import dalam
from dalam.cli.main import main
from dalam.playground import protocol
from dalam.playground.bridge import DEFAULT_CONFIG, Playground
from dalam.playground.data import DATASETS, make_dataset
from dalam.playground.presets import LESSONS
from dalam.playground.protocol import ProtocolError, parse

from playground_helpers import ROOT, free_port, rss_kib, running_server


def config(**kw):
    return {**DEFAULT_CONFIG, **kw}


# ---------------------------------------------------------------- data and bridge
@pytest.mark.parametrize("name", DATASETS)
def test_datasets_are_seeded_and_shaped(name):
    a = make_dataset(name, 200, 0.1, 0.5, seed=3)
    b = make_dataset(name, 200, 0.1, 0.5, seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    X_train, y_train, X_test, y_test = a
    assert X_train.dtype == np.float32
    if name == "digits":
        assert X_train.shape[1] == 196 and set(np.unique(y_train)) == set(range(10))
    else:
        assert X_train.shape == (100, 2) and X_test.shape == (100, 2)
        assert set(np.unique(y_train)) == {0.0, 1.0} and np.abs(X_train).max() <= 6.0


def test_training_learns_and_frames_describe_the_model():
    pg = Playground(config(dataset="circles", hidden=[4, 2]))
    first = pg.frame()
    pg.train_steps(300)
    fr = pg.frame()
    assert fr["test_loss"] < first["test_loss"] and fr["test_acc"] >= 0.9
    assert fr["step"] == 300 and len(pg.step_losses) == 300
    # one heat map, one picture per hidden neuron, weights and grads per layer from dalam
    assert len(fr["neurons"]) == 2 and [len(layer) for layer in fr["neurons"]] == [4, 2]
    W = pg.linears[1].weight
    assert np.allclose(fr["weights"][1], W.detach().numpy(), atol=1e-5)
    assert np.allclose(fr["grads"][1], W.grad.numpy(), atol=1e-5)
    assert len(fr["grad_norms"]) == 3 and all(g > 0 for g in fr["grad_norms"])


def test_inspect_shows_autograds_gradient_and_matches_torch():
    pg = Playground(config(dataset="xor", hidden=[3], activation="tanh", regularization="l2", reg_rate=0.01))
    pg.train_steps(50)
    r = pg.inspect(7, (0, 2, 1))
    c = r["chain"]
    # the shown chain-rule product is the autograd gradient (plus the L2 term)
    assert c["product"] + c["reg_term"] == pytest.approx(c["autograd_grad"], rel=1e-5, abs=1e-7)
    assert c["dL_da"] * c["act_derivative"] == pytest.approx(c["dL_dz"], rel=1e-5, abs=1e-8)
    # an independent oracle: the same point through torch
    sd = {k: torch.from_numpy(v.detach().numpy().copy()) for k, v in pg.model.state_dict().items()}
    W0, b0, W1, b1 = (sd[k].double().requires_grad_() for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    x = torch.from_numpy(pg.F_train[7:8]).double()
    z = torch.tanh(x @ W0.T + b0) @ W1.T + b1
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], torch.tensor([float(pg.y_train[7])]).double())
    loss = loss + 0.01 * ((W0 ** 2).sum() + (W1 ** 2).sum())
    loss.backward()
    assert c["autograd_grad"] == pytest.approx(W0.grad[2, 1].item(), rel=1e-4, abs=1e-6)
    assert r["loss"]["total"] == pytest.approx(loss.item(), rel=1e-5)
    # the optimiser update ran on a copy: training is untouched
    assert pg.linears[0].weight.detach().numpy()[2, 1] == pytest.approx(r["update"]["old"])
    assert r["update"]["new"] != r["update"]["old"]


def test_exported_script_reproduces_the_run_step_for_step(tmp_path):
    pg = Playground(config(dataset="moons", noise=0.1, hidden=[5, 3], activation="relu", dropout=0.2,
                           regularization="l1", reg_rate=0.001, optimizer="momentum", lr=0.05, batch_size=7))
    pg.train_steps(120)
    r = pg.inspect(4, (1, 2, 3))             # looking inside works with dropout too, and changes nothing
    assert r["chain"]["product"] + r["chain"]["reg_term"] == pytest.approx(r["chain"]["autograd_grad"], rel=1e-4)
    (tmp_path / "playground_export.py").write_text(pg.export_code())
    r = subprocess.run([sys.executable, "playground_export.py"], cwd=tmp_path, capture_output=True, text=True,
                       env={"PYTHONPATH": ROOT, "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "test accuracy" in r.stdout
    losses = np.load(tmp_path / "playground_losses.npy")
    np.testing.assert_allclose(losses, pg.step_losses, rtol=1e-6)
    weights = dalam.load(str(tmp_path / "playground_model.safetensors"))
    for k, v in pg.model.state_dict().items():
        np.testing.assert_allclose(weights[k].numpy(), v.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_exported_weights_are_safetensors(tmp_path):
    pg = Playground(config())
    pg.train_steps(5)
    path = tmp_path / "w.safetensors"
    path.write_bytes(pg.export_weights())
    back = dalam.load(str(path))
    assert sorted(back) == sorted(pg.model.state_dict())


def test_lessons_are_valid_and_teach_what_they_say():
    for lesson in LESSONS:
        protocol.validate_config(lesson["config"])
    perceptron = Playground(config(**LESSONS[0]["config"]))
    hidden = Playground(config(**LESSONS[1]["config"]))
    perceptron.train_steps(600)
    hidden.train_steps(600)
    assert perceptron.evaluate()["test_acc"] < 0.75      # a line cannot split XOR
    assert hidden.evaluate()["test_acc"] > 0.95          # four tanh neurons can


def test_digits_mode_trains_on_the_embedded_subset():
    pg = Playground(config(dataset="digits", hidden=[16], activation="relu", lr=0.003, batch_size=32))
    pg.train_steps(150)
    fr = pg.frame()
    assert fr["test_acc"] > 0.7
    assert len(fr["neurons"][0]) == 16 and len(fr["digits_pred"]) == 24


# ---------------------------------------------------------------- protocol
@pytest.mark.parametrize("text, needle", [
    ("not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"type": "fly"}', "type: expected one of"),
    ('{"type": "play", "speed": 3}', "unknown field 'speed'"),
    ('{"type": "config"}', "missing field 'config'"),
    ('{"type": "config", "config": {"hidden": [4, 99]}}', "hidden[1]: expected a value in [1, 16], got 99"),
    ('{"type": "config", "config": {"hidden": [1,1,1,1,1,1,1,1,1]}}', "at most 8 hidden layers"),
    ('{"type": "config", "config": {"lr": NaN}}', "not valid JSON"),
    ('{"type": "config", "config": {"lr": 1e400}}', "finite"),
    ('{"type": "config", "config": {"lr": "fast"}}', "lr: expected a number, got str"),
    ('{"type": "config", "config": {"batch_size": 2.5}}', "batch_size: expected an integer"),
    ('{"type": "config", "config": {"activation": "swish"}}', "activation: expected one of relu"),
    ('{"type": "config", "config": {"features": []}}', "non-empty list"),
    ('{"type": "config", "config": {"features": ["x1", "x1"]}}', "each feature may appear once"),
    ('{"type": "config", "config": {"wings": 2}}', "unknown field 'wings'"),
    ('{"type": "inspect", "point": -1}', "point: expected a value in"),
    ('{"type": "inspect", "point": 1, "weight": [0, 1]}', "weight: expected [layer, to, from]"),
    ('{"type": "step", "n": true}', "n: expected an integer, got bool"),
    ('{"type": "ping", "id": "x"}', "id: expected a non-negative integer"),
    ('{"type": "preset", "name": "nope"}', "name: expected one of"),
    ("[" * 5000 + "]" * 5000, "not valid JSON"),
    ("x" * 20000, "message too long"),
])
def test_protocol_refuses_with_a_clear_error(text, needle):
    with pytest.raises(ProtocolError) as e:
        parse(text)
    assert needle in str(e.value)


def test_protocol_accepts_and_normalises():
    kind, fields, mid = parse('{"type": "config", "id": 4, "config": {"features": ["x2", "x1"], "hidden": []}}')
    assert (kind, mid) == ("config", 4)
    assert fields == {"config": {"features": ["x1", "x2"], "hidden": []}}


# ---------------------------------------------------------------- server
async def _next_reply(ws, timeout=30):
    """The next message that answers a request (frames and model updates skipped)."""
    while True:
        m = await asyncio.wait_for(ws.receive(), timeout)
        if m.type != aiohttp.WSMsgType.TEXT:
            return {"type": "closed", "code": ws.close_code}
        msg = json.loads(m.data)
        if msg["type"] not in ("frame", "config", "dataset", "hello"):
            return msg


def _fuzz_messages(n, seed=0):
    """Random and malformed messages, none of them valid."""
    rng = random.Random(seed)
    types = list(protocol.MESSAGES) + ["", "PLAY", "hello", None, 3]
    fields = list(protocol.CONFIG_FIELDS) + ["x", "__proto__", "constructor", "a" * 300]
    junk = [None, True, -1, 1e308, -1e-308, 2 ** 70, "", "🙂" * 50, [], {}, [1] * 50, {"a": {"b": [None]}},
            "x" * 3000, 77.5, -0.25]

    def value():
        return rng.choice(junk)

    out = []
    for i in range(n):
        k = rng.randrange(10)
        if k == 0:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))).decode("latin-1"))
        elif k == 1:
            out.append(json.dumps(value()))
        elif k == 2:
            out.append('{"type": "play"' + "," * rng.randrange(1, 4))
        elif k == 3:
            out.append(json.dumps({"type": rng.choice(types), "junk": value()}))
        elif k == 4:
            out.append(json.dumps({"type": "config", "config": {rng.choice(fields): value()}}))
        elif k == 5:
            if rng.random() < 0.5:     # a width out of bounds
                hidden = [rng.choice([rng.randrange(-5, 1), rng.randrange(17, 40)])] * rng.randrange(1, 8)
            else:                      # too many layers
                hidden = [3] * rng.randrange(9, 20)
            out.append(json.dumps({"type": "config", "config": {"hidden": hidden}}))
        elif k == 6:
            out.append(json.dumps({"type": "inspect", "point": rng.choice([-3, 1e9, "1", None, 10 ** 6]),
                                   "weight": rng.choice([[0], [0, 0, -1], "w", [0, 0, 0, 0]])}))
        elif k == 7:
            out.append(json.dumps({"type": "step", "n": rng.choice([0, -1, 10 ** 9, 2.5, "3", None])}))
        elif k == 8:
            out.append("[" * rng.randrange(100, 3000))
        else:
            out.append(json.dumps({"type": rng.choice(list(protocol.MESSAGES)), "id": value(), "extra": 1}))
    return out


def test_server_survives_1000_malformed_messages_with_flat_memory():
    with running_server() as (url, proc):
        async def run():
            async with aiohttp.ClientSession() as http:
                async with http.ws_connect(url + "/ws", max_msg_size=0) as ws:
                    msgs = _fuzz_messages(1000)
                    for i, text in enumerate(msgs):
                        if i == 200:
                            rss_start = rss_kib(proc.pid)
                        if i % 97 == 0:
                            await ws.send_bytes(b"\x00\x01binary")
                            reply = await _next_reply(ws)
                            assert reply["type"] == "error" and "JSON text" in reply["error"]
                        await ws.send_str(text)
                        reply = await _next_reply(ws)
                        assert reply["type"] == "error", (text[:200], reply)
                        assert len(reply["error"]) > 10 and "internal error" not in reply["error"], reply
                    # still serving this session: a valid message works
                    await ws.send_str(json.dumps({"type": "step", "n": 3, "id": 9}))
                    reply = await _next_reply(ws)
                    assert reply == {"type": "state", "playing": False, "step": 3, "id": 9}
                    return rss_start, rss_kib(proc.pid)
        rss_start, rss_end = asyncio.run(run())
        assert rss_end - rss_start < 20 * 1024, f"RSS grew from {rss_start} to {rss_end} KiB"

        async def oversized():
            async with aiohttp.ClientSession() as http:
                async with http.ws_connect(url + "/ws") as ws:
                    await ws.send_str("[" + "1," * 100_000 + "1]")     # over the socket's limit
                    reply = await _next_reply(ws)
                    # the server drops the connection ("message too big"; the client may see 1009 or 1006)
                    assert reply["type"] == "closed" and reply["code"] in (1009, 1006)
                async with http.ws_connect(url + "/ws") as ws:          # the server is still fine
                    await ws.send_str(json.dumps({"type": "ping", "id": 1}))
                    assert (await _next_reply(ws))["type"] == "pong"
        asyncio.run(oversized())
        assert proc.poll() is None
        health = json.loads(urllib.request.urlopen(url + "/api/health").read())
        assert health["sessions"] == 0           # closed tabs' sessions are gone


def test_foreign_origin_is_refused_and_headers_forbid_outside_code():
    with running_server() as (url, proc):
        async def run():
            async with aiohttp.ClientSession() as http:
                with pytest.raises(aiohttp.WSServerHandshakeError) as e:
                    await http.ws_connect(url + "/ws", headers={"Origin": "http://evil.example"})
                assert e.value.status == 403
                async with http.get(url + "/") as r:
                    assert r.status == 200
                    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
                async with http.get(url + "/static/../bridge.py") as r:
                    assert r.status in (403, 404)
                async with http.get(url + "/api/session/nope/model.safetensors") as r:
                    assert r.status == 404
        asyncio.run(run())


def test_idle_sessions_are_freed():
    from dalam.playground.sessions import SessionManager

    async def run():
        sent = []

        async def send(msg):
            sent.append(msg["type"])

        mgr = SessionManager(max_sessions=2, idle_timeout=60)
        a = await mgr.open(send)
        b = await mgr.open(send)
        with pytest.raises(ProtocolError, match="already has 2 sessions"):
            await mgr.open(send)
        a.last_seen -= 120
        await b.handle("play", {})
        await asyncio.sleep(0.3)
        assert await mgr.reap() == [a.id]
        assert list(mgr.sessions) == [b.id] and a.pg is None and "expired" in sent
        await mgr.close(b.id)
        assert sent.count("frame") > 3        # b streamed frames while playing
    asyncio.run(run())


def test_cli_warns_for_a_public_host_and_validates(capsys):
    assert main(["playground", "--port", "0"]) == 1
    assert "--port must be between" in capsys.readouterr().err
    import socket
    port = free_port()
    with socket.socket() as taken:          # the port is busy: the command warns, then fails cleanly
        taken.bind(("0.0.0.0", port))
        taken.listen()
        proc = subprocess.run([sys.executable, "-m", "dalam.cli", "playground", "--host", "0.0.0.0",
                               "--port", str(port), "--no-browser"], capture_output=True, text=True, timeout=60,
                              env={"PYTHONPATH": ROOT, "PATH": "/usr/bin:/bin"})
    assert "warning: listening on 0.0.0.0" in proc.stderr
    assert proc.returncode == 1 and f"cannot listen on 0.0.0.0:{port}" in proc.stderr
    with pytest.raises(SystemExit):
        main(["playground", "--help"])
    assert "--no-browser" in capsys.readouterr().out


def test_server_frees_an_idle_tab_and_tells_it():
    with running_server("--idle-timeout", "1") as (url, proc):
        async def run():
            async with aiohttp.ClientSession() as http:
                async with http.ws_connect(url + "/ws") as ws:
                    t0 = asyncio.get_running_loop().time()
                    reply = await _next_reply(ws, timeout=20)        # nothing sent: the session idles
                    assert reply["type"] == "expired" and "reload the page" in reply["error"]
                    assert (await _next_reply(ws))["type"] == "closed"
                    assert asyncio.get_running_loop().time() - t0 < 10
        asyncio.run(run())
        health = json.loads(urllib.request.urlopen(url + "/api/health").read())
        assert health["sessions"] == 0


def test_page_is_self_contained_and_not_imported_by_dalam():
    import pathlib
    import re
    static = pathlib.Path(dalam.__file__).parent / "playground" / "static"
    files = sorted(p for p in static.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"index.html", "style.css", "main.js", "network.js", "inspect.js"}
    for p in files:                         # works offline: nothing fetched from elsewhere (SVG's namespace is a name)
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)[a-z]", p.read_text()), p.name
    r = subprocess.run([sys.executable, "-c", "import sys, dalam; print(sorted(m for m in sys.modules "
                        "if m.startswith(('dalam.playground', 'aiohttp'))))"],
                       capture_output=True, text=True, env={"PYTHONPATH": ROOT, "PATH": "/usr/bin:/bin"})
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_a_diverging_run_pauses_with_a_clear_reason():
    with running_server() as (url, proc):
        async def run():
            async with aiohttp.ClientSession() as http:
                async with http.ws_connect(url + "/ws", max_msg_size=0) as ws:
                    await ws.send_str(json.dumps({"type": "config", "id": 1, "config": {
                        "optimizer": "momentum", "lr": 30, "activation": "linear", "hidden": [8, 8]}}))
                    assert (await _next_reply(ws))["type"] == "ok"
                    await ws.send_str(json.dumps({"type": "play"}))
                    assert (await _next_reply(ws)) == {"type": "state", "playing": True}
                    reply = await _next_reply(ws, timeout=60)
                    assert reply["type"] == "state" and reply["playing"] is False and reply["reason"] == "diverged"
                    await ws.send_str(json.dumps({"type": "ping", "id": 2}))     # and the session still answers
                    assert (await _next_reply(ws))["type"] == "pong"
        asyncio.run(run())
        assert proc.poll() is None


def test_quick_pause_play_keeps_one_training_loop():
    from dalam.playground.sessions import SessionManager

    async def run():
        async def send(msg):
            pass
        mgr = SessionManager()
        s = await mgr.open(send)
        for _ in range(5):
            await s.handle("play", {})
            s.playing = False            # a pause that has not waited for the loop yet
            await s.handle("play", {})
        await asyncio.sleep(0.3)
        loops = [t for t in asyncio.all_tasks() if "_play_loop" in repr(t.get_coro())]
        assert len(loops) == 1
        await mgr.close(s.id)
    asyncio.run(run())
