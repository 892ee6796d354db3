"""The rendered leaderboard in headless Chromium: loads offline with no console errors, shows every entry,
sorts and filters, and screenshots. Skipped, with the reason, where Chromium is not installed.

Chromium is driven through the DevTools protocol over --remote-debugging-pipe (standard library only).
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from causalbench.leaderboard.entries import is_ranked, is_reference
from causalbench.leaderboard.predictions import write_predictions
from causalbench.leaderboard.publish import load_entries, render
from causalbench.leaderboard.validate import publish

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install -y "
                                                          "chromium), so the leaderboard page is not browser-tested")

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")


class Chromium:
    """Headless Chromium driven through fds 3 (commands in) and 4 (replies out)."""

    def __init__(self, binary: str, user_data_dir: str, timeout: float = 30.0) -> None:
        to_r, self._to_w = os.pipe()
        self._from_r, from_w = os.pipe()
        child_r = fcntl.fcntl(to_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_r)
        os.close(from_w)

        def wire() -> None:  # in the child: the pipe ends become fds 3 and 4 (inheritable)
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={user_data_dir}", "--remote-debugging-pipe",
                                      "--window-size=1280,900", "about:blank"], preexec_fn=wire, close_fds=False,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(child_r)
        os.close(child_w)
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._buf = b""
        self._id = 0
        self.session: str | None = None

    def send(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_w, json.dumps(msg).encode() + b"\0")
        reply = self._wait(lambda m: m.get("id") == self._id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def _wait(self, match: Any, timeout: float | None = None) -> dict[str, Any]:
        end = time.monotonic() + (timeout or self.timeout)
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                msg = json.loads(raw)
                if match(msg):
                    return msg
                self.events.append(msg)
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from chromium")
            ready, _, _ = select.select([self._from_r], [], [], min(left, 0.5))
            if ready:
                data = os.read(self._from_r, 1 << 20)
                if not data:
                    raise RuntimeError(f"chromium exited: {self.proc.stderr.read().decode(errors='replace')[-400:]}")
                self._buf += data

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        attached = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)
        self.session = attached["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", {"url": url})
        self._wait(lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == self.session)

    def eval(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        return base64.b64decode(shot["data"])

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries seen so far."""
        out = []
        for m in self.events:
            method, params = m.get("method"), m.get("params", {})
            if method == "Runtime.exceptionThrown":
                d = params["exceptionDetails"]
                out.append(f"exception: {d.get('text')} {d.get('exception', {}).get('description', '')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                args = [a.get("value", a.get("description")) for a in params["args"]]
                out.append(f"console.{params['type']}: {args}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        return out

    def requests(self) -> list[str]:
        return [m["params"]["request"]["url"] for m in self.events if m.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_w)
        os.close(self._from_r)
        if self.proc.stderr:
            self.proc.stderr.close()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def board(valid_submission, tiny, tmp_path_factory) -> Path:
    """A leaderboard with baselines and references evaluated on hidden instances, an unverified prediction
    submission and a hostile one (markup in its fields)."""
    import importlib.util

    root = tmp_path_factory.mktemp("board")
    spec = importlib.util.spec_from_file_location("leaderboard_submit", Path(__file__).resolve().parents[2]
                                                  / "leaderboard" / "submit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    status = module.populate_baselines(["erm-linear", "offline-policy", "irm"], tiny, root, jobs=1, progress=False,
                                       log=lambda s: None)
    assert set(status.values()) == {"ok"}
    publish(valid_submission, root, tiny)
    hostile = write_predictions("erm-linear", tmp_path_factory.mktemp("hostile") / "xss-test.json", tiny,
                                name="xss-test", authors=["<script>window.pwned = 1</script>", 'Ada "Quote" | <b>pipe</b>'],
                                paper="https://example.org/p?a=1&b=2", description="</table><img src=x onerror=alert(1)>")
    publish(hostile, root, tiny)
    return root


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(CHROMIUM, str(tmp_path_factory.mktemp("chromium-profile")))
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def page(board, browser) -> Chromium:
    browser.open((board / "index.html").as_uri())
    return browser


# ---------------------------------------------------------------- tests


def test_page_loads_offline_without_console_errors(page, board):
    assert page.eval("document.documentElement.getAttribute('data-ready')") == "1"
    assert page.errors() == []
    assert all(url.startswith(("file:", "data:")) for url in page.requests()), page.requests()
    assert page.eval("typeof window.pwned") == "undefined"  # the hostile entry's markup stayed text
    assert page.eval("document.querySelectorAll('script').length") == 1


def test_page_shows_every_entry(page, board):
    entries = load_entries(board)
    assert len(entries) == 8   # 3 baselines, 3 references, 2 prediction submissions
    rows = page.eval("Array.from(document.querySelectorAll('#overall tbody tr')).map(r => r.dataset.method)")
    assert sorted(rows) == sorted(m for m, e in entries.items() if is_ranked(e) or is_reference(e))
    unverified = page.eval("Array.from(document.querySelectorAll('#unverified tbody tr')).map(r => r.dataset.method)")
    assert sorted(unverified) == sorted(m for m, e in entries.items() if e["kind"] == "predictions")
    for env_id in ("IRMLinear-v0", "TreatmentRecovery-v0"):
        shown = page.eval(f"Array.from(document.querySelectorAll('table[data-env=\"{env_id}\"] tbody tr'))"
                          ".map(r => r.dataset.method)")
        assert sorted(shown) == sorted(m for m, e in entries.items() if env_id in e["results"]
                                       and e["kind"] != "predictions")
    text = page.eval("document.body.innerText")
    assert "<script>window.pwned = 1</script>" in text and "2 hidden instances per environment" in text


def test_columns_sort_and_the_track_filter_filters(page):
    order = "Array.from(document.querySelectorAll('#overall tbody tr')).map(r => r.dataset.method)"
    page.eval("document.querySelectorAll('#overall thead th')[1].click()")
    names = page.eval(order)
    assert names == sorted(names)
    page.eval("document.querySelectorAll('#overall thead th')[1].click()")
    assert page.eval(order) == sorted(names, reverse=True)
    page.eval("document.querySelectorAll('#overall thead th')[3].click()")  # effect error, numeric ascending
    values = page.eval("Array.from(document.querySelectorAll('#overall tbody tr'))"
                       ".map(r => parseFloat(r.cells[3].dataset.value))")
    assert values == sorted(values)
    choose = ("(v => { const f = document.getElementById('track-filter'); f.value = v;"
              " f.dispatchEvent(new Event('change')); })")
    page.eval(f"{choose}('observational+domains')")
    visible = page.eval("Array.from(document.querySelectorAll('#overall tbody tr')).filter(r => !r.hidden)"
                        ".map(r => r.dataset.track)")
    assert visible == ["observational+domains"]
    page.eval(f"{choose}('')")
    assert page.eval("document.querySelectorAll('#overall tbody tr[hidden]').length") == 0
    assert page.errors() == []


def test_screenshot(page, tmp_path):
    from PIL import Image

    png = page.screenshot()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    (tmp_path / "leaderboard.png").write_bytes(png)
    assert image.width >= 800 and image.height >= 600
    colors = {color for _, color in image.getcolors(maxcolors=1 << 24)}
    assert len(colors) > 50                      # not a blank page
    assert (76, 114, 176) in colors              # the observational track's colour: the track dots drew


def test_an_empty_leaderboard_page_loads_cleanly(browser, tmp_path):
    (tmp_path / "entries").mkdir()
    render(tmp_path)
    browser.events.clear()
    browser.open((tmp_path / "index.html").as_uri())
    assert browser.eval("document.documentElement.getAttribute('data-ready')") == "1"
    assert "No entries yet" in browser.eval("document.body.innerText")
    assert browser.errors() == []
