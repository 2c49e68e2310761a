"""``python -m psa.connectwise.simulator`` prints where it serves and serves until interrupted."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx


def test_the_command_line_serves_until_interrupted():
    command = [sys.executable, "-m", "psa.connectwise.simulator", "--port", "0", "--days", "3"]
    command += ["--now", "2026-11-04T15:00:00+00:00", "--speed", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        url = next(line.split()[-1] for line in lines if "base URL" in line)
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/v4_6_release/apis/3.0")
        headers = {"clientId": "00000000-0000-4000-8000-000000000000"}
        auth = ("deskboard_demo+demo-public", "demo-private")
        answer = httpx.get(f"{url}/service/tickets/count", headers=headers, auth=auth)
        assert answer.status_code == 200
        assert answer.json()["count"] > 0
        process.send_signal(signal.SIGTERM)  # handled like Ctrl-C: a clean stop
        assert process.wait(timeout=10) == 0
        assert process.stdout.read().strip().endswith("stopped")
    finally:
        if process.poll() is None:
            process.kill()
