"""Render report.html and audit.html of a real workflow run in headless Chromium (DevTools pipe).

Checks that every <img> loads (naturalWidth > 0) and that no console error or uncaught
exception occurs. Skipped when chromium is not installed (``make browser`` installs it).
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from test_report import build, ingest  # noqa: F401  (fixture)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (run `make browser` to install it)"
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--remote-debugging-pipe"]
IMAGES = ("JSON.stringify(Array.from(document.images).map("
          "i => ({src: i.src.slice(0, 40), complete: i.complete, width: i.naturalWidth})))")


class Browser:
    """Minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (fds 3 and 4)."""

    def __init__(self, profile: Path):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        os.set_inheritable(to_chrome_r, True)
        os.set_inheritable(from_chrome_w, True)

        def fds():  # in the child: the pipe ends become fds 3 (commands) and 4 (replies)
            high = [os.dup2(fd, 100 + i) for i, fd in enumerate((to_chrome_r, from_chrome_w))]
            for target, fd in zip((3, 4), high, strict=True):
                os.dup2(fd, target)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer, self.next_id, self.events = b"", 0, []

    def send(self, method: str, params=None, session=None, timeout=30.0) -> dict:
        """Send a command and wait for its reply (events seen meanwhile are kept)."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive(timeout)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def receive(self, timeout: float) -> dict:
        """Next message from the browser; events are appended to ``self.events``."""
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_chrome], [], [], left)[0]:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self.events.append(message)
        return message

    def wait_for(self, method: str, timeout=30.0) -> dict:
        """Block until event ``method`` arrives."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["method"] == method:
                    return event
            self.receive(max(0.1, deadline - time.monotonic()))

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self.to_chrome)
        os.close(self.from_chrome)


# A4 (210 mm) minus the report's 14 mm print margins each side, in CSS pixels (96 per inch)
A4_CONTENT_PX = round((210 - 2 * 14) / 25.4 * 96)
# Tables or figures wider than their page, or cells cut off (content wider than the cell)
CLIPPED = ("JSON.stringify(Array.from(document.querySelectorAll('table, figure img')).filter("
           "e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 "
           "|| e.scrollWidth > e.clientWidth + 1).map(e => e.id || e.alt || e.tagName))")


def render(page: Path, profile: Path, print_a4: bool = False) -> tuple[list[dict], list[str]]:
    """Load ``page``; return its images and the console errors / exceptions it produced.

    With ``print_a4`` the page is laid out with print CSS at the width of an A4 page's
    content, and ``render.clipped`` / ``render.pdf`` receive the clipped elements and the
    printed PDF bytes.
    """
    browser = Browser(profile)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=session)
        if print_a4:
            browser.send("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
            browser.send("Emulation.setDeviceMetricsOverride", {
                "width": A4_CONTENT_PX, "height": 1000, "deviceScaleFactor": 1,
                "mobile": False}, session=session)
        browser.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")
        result = browser.send("Runtime.evaluate", {"expression": IMAGES, "returnByValue": True},
                              session=session)
        images = json.loads(result["result"]["value"])
        if print_a4:
            clipped = browser.send("Runtime.evaluate", {"expression": CLIPPED,
                                                        "returnByValue": True}, session=session)
            render.clipped = json.loads(clipped["result"]["value"])
            pdf = browser.send("Page.printToPDF", {"preferCSSPageSize": True},
                               session=session, timeout=120)
            render.pdf = base64.b64decode(pdf["data"])
    finally:
        browser.close()
    errors = []
    for event in browser.events:
        params = event.get("params", {})
        if event["method"] == "Runtime.exceptionThrown":
            errors.append(params["exceptionDetails"].get("text", "exception"))
        elif event["method"] == "Runtime.consoleAPICalled" and params.get("type") == "error":
            errors.append(" ".join(str(a.get("value", a.get("description"))) for a in
                                   params.get("args", [])))
        elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
            errors.append(params["entry"].get("text", "log error"))
    return images, errors


def check(page: Path, profile: Path, min_images: int = 0):
    images, errors = render(page, profile)
    assert not errors, f"console errors in {page}: {errors}"
    assert len(images) >= min_images
    broken = [i["src"] for i in images if not i["complete"] or i["width"] <= 0]
    assert not broken, f"images that did not load in {page}: {broken}"


def test_synthetic_report_renders(tmp_path, ingest):  # noqa: F811
    build(tmp_path, *ingest)
    check(tmp_path / "report" / "report.html", tmp_path / "profile", min_images=1)


def print_check(page: Path, profile: Path) -> bytes:
    """Lay ``page`` out for A4 print: no table or figure clipped; returns the printed PDF."""
    render(page, profile, print_a4=True)
    assert not render.clipped, f"clipped at A4 print width in {page}: {render.clipped}"
    assert render.pdf.startswith(b"%PDF")
    return render.pdf


def test_synthetic_report_prints_to_a4_without_clipping(tmp_path, ingest):  # noqa: F811
    build(tmp_path, *ingest)
    pdf = print_check(tmp_path / "report" / "report.html", tmp_path / "profile")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") > 5  # sections break pages


def test_clipped_table_is_detected(tmp_path):
    page = tmp_path / "wide.html"
    cells = "".join(f"<td>{'x' * 60}{i}</td>" for i in range(8))
    page.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"><style>'
                    "td { white-space: nowrap; }</style></head><body><div style='overflow:hidden'>"
                    f"<table id='wide'><tr>{cells}</tr></table></div></body></html>")
    render(page, tmp_path / "profile", print_a4=True)
    assert render.clipped == ["wide"]


def test_workflow_report_prints_to_a4_without_clipping(workflow_run, tmp_path):
    print_check(workflow_run / "results/report/report.html", tmp_path / "profile")


def test_broken_image_is_detected(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head>'
                    '<body><img src="data:image/png;base64,AAAA"></body></html>')
    images, _ = render(page, tmp_path / "profile")
    assert images and images[0]["width"] == 0


@pytest.mark.parametrize("rel, min_images", [("results/report/report.html", 13),
                                             ("results/coding/audit.html", 0)])
def test_workflow_pages_render(workflow_run, tmp_path, rel, min_images):
    check(workflow_run / rel, tmp_path / "profile", min_images)


def test_console_error_is_detected(tmp_path):
    page = tmp_path / "err.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head>'
                    '<body><script>console.error("boom"); undefinedCall();</script></body></html>')
    _, errors = render(page, tmp_path / "profile")
    assert any("boom" in e for e in errors) and len(errors) >= 2
