"""`deskboard teams-package`: the zip a Teams admin uploads."""

from __future__ import annotations

import io
import json
import zipfile

from PIL import Image
from typer.testing import CliRunner

from bot.cli import app
from bot.config import parse_config
from bot.core.commands import UsageError, parse_deskboard
from bot.teams.listeners.activity import route

BOT_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def test_the_package_holds_the_filled_manifest_and_both_icons(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "deskboard-teams.zip"
    result = CliRunner().invoke(
        app, ["teams-package", "--output", str(out)], env={"TEAMS_CLIENT_ID": BOT_ID}
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert manifest["id"] == BOT_ID
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["version"] == "0.1.0"
    commands = {c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]}
    assert commands == {"leaderboard", "mystats", "status", "contest list", "contest new",
                        "optout", "optin", "link", "sync", "help"}  # fmt: skip
    for title in commands - {"link"}:  # link needs its arguments
        command, args = route(title)
        if command == "deskboard":
            assert not isinstance(parse_deskboard(args, parse_config({})), UsageError), title
    assert color.size == (192, 192)
    assert outline.size == (32, 32)
    assert outline.mode == "RGBA"
    assert "{{" not in json.dumps(manifest)


def test_a_missing_or_malformed_client_id_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = CliRunner().invoke(app, ["teams-package"], env={"TEAMS_CLIENT_ID": ""})
    assert missing.exit_code == 2
    assert "set TEAMS_CLIENT_ID" in missing.output
    bad = CliRunner().invoke(app, ["teams-package"], env={"TEAMS_CLIENT_ID": "not-a-guid"})
    assert bad.exit_code == 2
    assert "TEAMS_CLIENT_ID must be a GUID" in bad.output
