"""``deskboard teams-package``: the app package a Teams admin uploads.

The zip holds ``manifest.json`` (from ``teams/manifest.json`` with the bot's Microsoft Entra
app id and Deskboard's version filled in; with a public https address, the personal tab and
its single sign-on too) and the two icons Teams requires: ``color.png`` 192×192 and
``outline.png`` 32×32, white on transparent.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

SOURCE = Path(__file__).resolve().parents[2] / "teams"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ICON_SIZES = {"color.png": (192, 192), "outline.png": (32, 32)}


class PackageError(Exception):
    """The package cannot be built; the message says what to fix."""


def _version() -> str:
    try:
        return version("deskboard")
    except PackageNotFoundError:
        return "0.1.0"


def personal_tab(public_url: str, bot_id: str) -> dict[str, Any]:
    """What the manifest adds for the personal tab (README "The wallboard", "In Teams"): a
    static tab showing ``/teams/tab``, and the single sign-on its script asks Teams for
    (``webApplicationInfo``: the bot's Entra app, exposed as ``api://<host>/<client id>``)."""
    host = urlsplit(public_url).netloc
    tab = f"{public_url.rstrip('/')}/teams/tab"
    return {
        "staticTabs": [
            {
                "entityId": "deskboard-my-numbers",
                "name": "My numbers",
                "contentUrl": tab,
                "websiteUrl": tab,
                "scopes": ["personal"],
            }
        ],
        "webApplicationInfo": {"id": bot_id, "resource": f"api://{host}/{bot_id}"},
        "validDomains": [host],
    }


def manifest(
    bot_id: str,
    *,
    app_id: str | None = None,
    public_url: str | None = None,
    source: Path = SOURCE,
) -> dict[str, Any]:
    """The manifest with ids and version filled in, checked for what Teams refuses; with
    ``public_url`` (where ``deskboard run`` is reached over https) the personal tab too."""
    for name, value in (("TEAMS_CLIENT_ID", bot_id), ("app id", app_id or bot_id)):
        if not GUID.match(value):
            raise PackageError(f"{name} must be a GUID (the Entra app's client id), got {value!r}")
    text = (source / "manifest.json").read_text(encoding="utf-8")
    text = (
        text.replace("{{TEAMS_CLIENT_ID}}", bot_id)
        .replace("{{TEAMS_APP_ID}}", app_id or bot_id)
        .replace("{{VERSION}}", _version())
    )
    data: dict[str, Any] = json.loads(text)
    if public_url is not None:
        if urlsplit(public_url).scheme != "https":
            raise PackageError(f"the personal tab needs an https public URL, got {public_url!r}")
        data.update(personal_tab(public_url, bot_id))
    left = re.findall(r"\{\{[A-Z_]+\}\}", json.dumps(data))
    if left:
        raise PackageError(f"teams/manifest.json: placeholders not filled: {', '.join(left)}")
    for bot in data.get("bots", []):
        for command_list in bot.get("commandLists", []):
            for command in command_list.get("commands", []):
                if len(command["title"]) > 32 or len(command["description"]) > 128:
                    raise PackageError(
                        f"command {command['title']!r}: title ≤ 32, description ≤ 128"
                    )
    return data


def _icon(source: Path, name: str) -> bytes:
    data = (source / name).read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        if image.size != ICON_SIZES[name]:
            raise PackageError(f"teams/{name} must be {ICON_SIZES[name]} pixels, is {image.size}")
        if name == "outline.png" and image.mode != "RGBA":
            raise PackageError("teams/outline.png must be white on a transparent background")
    return data


def build_package(
    output: Path,
    *,
    bot_id: str,
    app_id: str | None = None,
    public_url: str | None = None,
    source: Path = SOURCE,
) -> Path:
    data = manifest(bot_id, app_id=app_id, public_url=public_url, source=source)
    icons = {name: _icon(source, name) for name in ICON_SIZES}
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(data, indent=2, ensure_ascii=False))
        for name, content in icons.items():
            archive.writestr(name, content)
    return output
