"""The playground in a real browser: Debian's headless Chromium, driven by
Playwright, against a real `dalam playground` server.  A learner's paths:
build a network for the spiral and train it, run the XOR lessons, look inside
one backward pass, export the code and run it.

A missing Chromium is a failure, not a skip (.ci/run installs it)."""
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from playwright.sync_api import sync_playwright

import dalam
from dalam import nn
from dalam.playground.data import make_dataset
from dalam.playground.features import compute

from playground_helpers import ROOT, running_server

CHROMIUM = os.environ.get("DALAM_CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("DALAM_SCREENSHOTS")      # a folder to keep the screenshots in (docs/ images)


@pytest.fixture(scope="module")
def server():
    with running_server() as (url, proc):
        yield url


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium "
                    "(apt-get install -y chromium; .ci/run installs it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                    "--disable-background-networking", "--disable-extensions",
                                    "--disable-background-timer-throttling", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    # bypass_csp: Playwright's wait_for_function evaluates strings, which the page's CSP forbids
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
    pg.goto(server + "/")
    pg.wait_for_function("window.playground && window.playground.frame")
    yield pg
    context.close()
    assert errors == [], errors


def shot(page, tmp_path, name):
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        shutil.copy(path, os.path.join(SHOTS, name))


def cfg(page):
    return page.evaluate("window.playground.cfg")


def wait_cfg(page, js):
    page.wait_for_function(f"(c => {js})(window.playground.cfg)")


def frame(page):
    return page.evaluate("window.playground.frame")


def wait_step(page, n, timeout=30_000):
    page.wait_for_function(f"window.playground.frame && window.playground.frame.step >= {n}", timeout=timeout)


def test_spiral_reaches_95_percent_test_accuracy_after_play(page, tmp_path):
    page.click("#ds-spiral")
    wait_cfg(page, "c.dataset === 'spiral'")
    for f in ("sin(x1)", "sin(x2)"):
        page.click(f'[data-feature="{f}"]')
        wait_cfg(page, f"c.features.includes('{f}')")
    for layer in (0, 1):
        while cfg(page)["hidden"][layer] < 12:
            n = cfg(page)["hidden"][layer]
            page.click(f'.neuron-plus[data-layer="{layer}"]')
            wait_cfg(page, f"c.hidden[{layer}] === {n + 1}")
    page.select_option("#lr", "0.01")
    wait_cfg(page, "c.lr === 0.01")
    page.locator("#batch_size").fill("16")
    wait_cfg(page, "c.batch_size === 16")
    c = cfg(page)
    assert c["hidden"] == [12, 12] and c["features"] == ["x1", "x2", "sin(x1)", "sin(x2)"]
    t0 = time.time()
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('test-acc').dataset.value) >= 0.95", timeout=60_000)
    elapsed = time.time() - t0
    page.click("#play")                                  # pause
    page.wait_for_function("!window.playground.playing")
    assert elapsed < 60
    f = frame(page)
    assert f["test_acc"] >= 0.95 and f["step"] > 0
    assert float(page.inner_text("#test-acc").rstrip("%")) >= 95.0
    shot(page, tmp_path, "playground_spiral.png")


def test_xor_lessons_perceptron_fails_one_hidden_layer_succeeds(page):
    results = {}
    for lesson, steps in (("perceptron-xor", 1500), ("hidden-xor", 1500)):
        page.select_option("#lesson", lesson)
        wait_cfg(page, "c.dataset === 'xor' && c.hidden.length === %d" % (0 if lesson == "perceptron-xor" else 1))
        page.wait_for_function("window.playground.frame.step === 0")
        assert page.is_visible("#lesson-box")
        page.click("#play")
        wait_step(page, steps)
        page.click("#play")
        page.wait_for_function("!window.playground.playing")
        results[lesson] = frame(page)["test_acc"]
    assert results["perceptron-xor"] < 0.75, results      # a straight line cannot separate XOR
    assert results["hidden-xor"] >= 0.95, results         # one hidden layer can


def test_backward_step_shows_the_gradient_dalam_computes(page, server, tmp_path):
    for k in range(1, 6):
        page.click("#step")
        wait_step(page, k)
    page.locator('path.edge[data-w="1,1,2"]').first.dispatch_event("click")   # W1[1, 2]: hidden-1 #2 -> hidden-2 #1
    x, y, _ = page.evaluate("window.playground.dataset.train[5]")
    box = page.locator("#heat").bounding_box()
    page.mouse.click(box["x"] + (x + 6) / 12 * box["width"], box["y"] + (6 - y) / 12 * box["height"])
    page.wait_for_function("window.playground.point !== null && document.getElementById('inspect-what')"
                           ".textContent.includes('#' + window.playground.point + ' ')")
    page.click("[data-stage=backward]")
    shown = float(page.get_attribute("#chain-autograd", "data-value"))
    product = float(page.get_attribute("#chain-product", "data-value"))
    point = page.evaluate("window.playground.point")
    assert page.evaluate("window.playground.weight") == [1, 1, 2]
    shot(page, tmp_path, "playground_inspect.png")

    # dalam, independently of the page: the same weights, the same point, one backward pass
    sid = page.evaluate("window.playground.session")
    raw = urllib.request.urlopen(f"{server}/api/session/{sid}/model.safetensors").read()
    (tmp_path / "w.safetensors").write_bytes(raw)
    c = cfg(page)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2), nn.Tanh(), nn.Linear(2, 1))
    model.load_state_dict(dalam.load(str(tmp_path / "w.safetensors")))
    X, yv, _, _ = make_dataset(c["dataset"], c["n_points"], c["noise"], c["train_ratio"], c["seed"])
    out = model(dalam.tensor(compute(X[point:point + 1], c["features"])))
    loss = nn.BCEWithLogitsLoss()(out[:, 0], dalam.tensor(yv[point:point + 1]))
    loss.backward()
    expected = float(model[2].weight.grad.numpy()[1, 2])
    assert shown == pytest.approx(expected, rel=1e-5, abs=1e-9)
    assert product == pytest.approx(expected, rel=1e-4, abs=1e-9)
    assert "the same" in page.inner_text("#inspect-body")


def test_exported_code_runs_and_reproduces_the_loss_curve(page, server, tmp_path):
    page.select_option("#optimizer", "momentum")
    wait_cfg(page, "c.optimizer === 'momentum'")
    page.select_option("#dropout", "0.1")
    wait_cfg(page, "c.dropout === 0.1")
    for k in range(1, 13):
        page.click("#step")
        wait_step(page, k)
    page.click("#export")
    page.wait_for_selector("#export-dialog[open]")
    code = page.inner_text("#export-code")
    curve = {int(s): (tr, te) for s, tr, te in page.evaluate("window.playground.output.curve")}
    (tmp_path / "playground_export.py").write_text(code)
    r = subprocess.run([sys.executable, "playground_export.py"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120, env={"PYTHONPATH": ROOT, "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    lines = re.findall(r"step\s+(\d+)\s+train loss ([\d.]+)\s+test loss ([\d.]+)", r.stdout)
    assert [int(s) for s, _, _ in lines] == list(range(1, 13))
    for s, tr, te in lines:
        page_tr, page_te = curve[int(s)]
        assert float(tr) == pytest.approx(page_tr, abs=6e-5) and float(te) == pytest.approx(page_te, abs=6e-5)
    # and the very same weights as the page's download
    sid = page.evaluate("window.playground.session")
    href = page.get_attribute("#download-weights", "href")
    assert href == f"/api/session/{sid}/model.safetensors"
    (tmp_path / "page.safetensors").write_bytes(urllib.request.urlopen(server + href).read())
    ours, theirs = dalam.load(str(tmp_path / "page.safetensors")), dalam.load(str(tmp_path / "playground_model.safetensors"))
    for k in ours:
        np.testing.assert_allclose(theirs[k].numpy(), ours[k].numpy(), rtol=1e-6, atol=1e-7)
