"""`deskboard demo`, as `make demo` runs it: the whole pipeline on the simulator, printed; and
`deskboard demo --serve`, the month on a wallboard until Ctrl-C."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
from typer.testing import CliRunner

from bot.cli import app


def test_the_demo_runs_the_pipeline_and_shows_its_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--database", str(tmp_path / "demo.db")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Syncing from ConnectWise" in out
    assert "Clean tickets" in out
    assert "Service Star" in out  # the two example contests
    assert "data as of" in out
    assert "kudos posts" in out
    assert "nudge digests" in out
    transcript = (tmp_path / "demo-messages.txt").read_text()
    assert transcript.count("post to #kudos") > 10
    assert "DM to " in transcript
    assert "post to #service-desk" in transcript
    charts = list(tmp_path.glob("clean-tickets-*.png"))
    assert charts
    assert charts[0].read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "demo.db").stat().st_size > 100_000
    assert "The month on a wallboard (this run was non-interactive):" in out
    assert ".venv/bin/deskboard demo --serve" in out


def test_demo_serve_keeps_a_wallboard_of_the_month_up_until_ctrl_c(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "bot", "demo", "--serve", "--port", str(port)]
    command += ["--database", str(tmp_path / "demo.db")]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        stdout = process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: [lines.put(x) for x in stdout], daemon=True).start()
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert process.poll() is None, "the demo stopped"
                continue
            found = re.search(r"http://127\.0\.0\.1:\d+/board/[A-Za-z0-9_\-]+", line)
            url = found.group(0) if found else None
        assert url is not None, "no board URL printed"
        page = None
        while time.monotonic() < deadline:
            try:
                page = httpx.get(url, timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.2)
        assert page is not None
        assert page.status_code == 200
        assert "Clean tickets" in page.text
        assert "Data as of" in page.text
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
