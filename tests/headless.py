"""A minimal headless-Chromium driver for tests: DevTools protocol over `--remote-debugging-pipe`.

No port, no websocket and no Python dependency: Chromium reads NUL-terminated JSON commands on
fd 3 and writes replies and events on fd 4. Enough to load a page, see what the console said,
read values from the DOM and take a screenshot.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
]
TIMEOUT_S = 60.0


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageRun:
    """What loading one page produced."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    screenshot: bytes = b""
    pdf: bytes = b""


class Browser:
    """One Chromium process; use as a context manager."""

    def __init__(self, exe: str, profile_dir: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def place_pipes() -> None:  # in the child: Chromium expects the pipe on fds 3 and 4
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._log = (profile_dir / "chromium.log").open("wb")
        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            preexec_fn=place_pipes,
            close_fds=False,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        while True:
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                with self._cond:
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self._replies[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    self._events.put(msg)

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        mid = self._next_id
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        with self._cond:
            while mid not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    msg = f"{method}: no reply from Chromium"
                    raise TimeoutError(msg)
                self._cond.wait(min(left, 1.0))
            reply = self._replies.pop(mid)
        if "error" in reply:
            msg = f"{method}: {reply['error']}"
            raise RuntimeError(msg)
        return reply.get("result", {})

    def events_until(self, method: str, session: str, sink: list[dict[str, Any]]) -> None:
        """Collect events into `sink` until `method` arrives for `session`."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                msg = f"waited {TIMEOUT_S:.0f} s for {method}"
                raise TimeoutError(msg)
            try:
                ev = self._events.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            sink.append(ev)
            if ev.get("method") == method and ev.get("sessionId") == session:
                return

    def drain(self, sink: list[dict[str, Any]], *, settle_s: float = 0.3) -> None:
        """Late events (a console message after load) get a moment to arrive."""
        end = time.monotonic() + settle_s
        while (left := end - time.monotonic()) > 0:
            try:
                sink.append(self._events.get(timeout=left))
            except queue.Empty:
                return

    def load(
        self,
        url: str,
        *,
        width: int = 1280,
        height: int = 900,
        screenshot: bool = True,
        pdf: bool = False,
    ) -> PageRun:
        """Open `url` in a new tab, wait for its load event, report what happened."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        events: list[dict[str, Any]] = []
        self.send("Page.navigate", {"url": url}, session=session)
        self.events_until("Page.loadEventFired", session, events)
        run = PageRun()
        found = self.send(
            "Runtime.evaluate",
            {
                "expression": "JSON.stringify(Array.from(document.images, i => "
                "({src: i.getAttribute('src').slice(0, 80), complete: i.complete, "
                "naturalWidth: i.naturalWidth, alt: i.getAttribute('alt')})))",
                "returnByValue": True,
            },
            session=session,
        )
        run.images = json.loads(found["result"]["value"])
        if screenshot:
            size = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
            shot = self.send(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {
                        "x": 0,
                        "y": 0,
                        "width": size["width"],
                        "height": size["height"],
                        "scale": 1,
                    },
                },
                session=session,
            )
            run.screenshot = base64.b64decode(shot["data"])
        if pdf:
            run.pdf = base64.b64decode(self.send("Page.printToPDF", session=session)["data"])
        self.drain(events)
        for ev in events:
            if ev.get("sessionId") != session:
                continue
            p = ev.get("params", {})
            method = ev.get("method")
            if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                run.console_errors.append(
                    " ".join(
                        str(a.get("value", a.get("description", ""))) for a in p.get("args", ())
                    )
                )
            elif method == "Runtime.exceptionThrown":
                run.console_errors.append(
                    str(p.get("exceptionDetails", {}).get("text", "exception"))
                )
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                entry = p["entry"]
                run.console_errors.append(f"{entry.get('text', '')} {entry.get('url', '')}".strip())
            elif method == "Network.requestWillBeSent":
                run.requests.append(p.get("request", {}).get("url", ""))
        self.send("Target.closeTarget", {"targetId": target})
        return run

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.send("Browser.close")
        except (TimeoutError, RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
