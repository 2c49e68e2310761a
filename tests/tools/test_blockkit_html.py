"""The README's screenshot renderer (``tools.blockkit_html``): it draws what Deskboard sends
Slack, untrusted text stays text, and the README shows the pictures it made."""

from __future__ import annotations

import re
from pathlib import Path

from bot.chat.views.program import contest_announcement_message
from bot.config import parse_config
from bot.core.contest_form import FormState, contest_form
from bot.slack.blocks import to_slack
from bot.slack.forms import form_view
from tools.blockkit_html import home_html, modal_html

ROOT = Path(__file__).resolve().parents[2]


def test_a_modal_shows_every_field_its_values_and_hints():
    config = parse_config({"timezone": "America/Chicago"})
    values = {"name": "December sprint", "metric": "resolved", "post": "Mondays at 9:00"}
    page = modal_html(
        form_view(contest_form(config, platform="slack", values=values, state=FormState("new")))
    )
    for text in (
        "New contest",
        "December sprint",
        "Ranks on",
        "Resolved (#)",
        "Mondays at 9:00",
        "Save",
        "Cancel",
    ):
        assert text in page
    assert "Tickets resolved (higher is better)" in page


def test_untrusted_text_stays_text():
    message = contest_announcement_message(
        name="<script>alert(1)</script> & *cup*",
        label="Resolved",
        rules="Top 3 win",
        when="monthly",
        prize="<img src=x onerror=alert(1)>",
        posts=None,
    )
    page = home_html({"type": "home", "blocks": to_slack(message)[1]})
    assert "<script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_the_readme_shows_the_screenshots():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]+\]\((docs/images/[^)]+\.png)\)", readme)
    assert {
        "docs/images/contest-modal.png",
        "docs/images/admin-tab.png",
        "docs/images/board-dark.png",
        "docs/images/board-light.png",
    } <= set(images)
    for image in images:
        assert (ROOT / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
