"""`deskboard demo`, as `make demo` runs it: the whole pipeline on the simulator, printed."""

from __future__ import annotations

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
