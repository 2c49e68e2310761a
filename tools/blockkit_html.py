"""Block Kit as HTML, near enough to Slack's look for the README's screenshots: a modal
(title, inputs with labels, hints, selects and date pickers, Cancel / Save) and an App Home
(sections, buttons, context lines).

It draws exactly the JSON Deskboard sends Slack, so a screenshot shows what a manager sees
(Slack's own fonts and spacing aside). Our mrkdwn is already escaped for Slack (``&``, ``<``,
``>`` as entities), which is also safe HTML; only links, mentions, bold, italics and code are
turned into tags.
"""

from __future__ import annotations

import html
import re
from typing import Any

STYLE = """
body { font-family: 'Lato', 'Helvetica Neue', Arial, sans-serif; font-size: 15px;
       color: #1d1c1d; background: #f8f8f8; margin: 0; padding: 24px; }
.frame { background: #fff; border-radius: 8px; box-shadow: 0 4px 16px rgba(0,0,0,.18);
         overflow: hidden; }
.modal { width: 520px; }
.home { width: 860px; }
.bar { display: flex; align-items: center; padding: 18px 24px; border-bottom: 1px solid #ddd;
       font-size: 20px; font-weight: 900; }
.bar .x { margin-left: auto; color: #616061; font-weight: 400; }
.blocks { padding: 8px 24px 16px; }
.foot { display: flex; justify-content: flex-end; gap: 8px; padding: 16px 24px;
        border-top: 1px solid #ddd; }
.section { margin: 10px 0; line-height: 1.45; }
h2 { font-size: 18px; font-weight: 900; margin: 14px 0 6px; }
.context { color: #616061; font-size: 13px; margin: 6px 0; }
hr { border: 0; border-top: 1px solid #ddd; margin: 14px 0; }
.input { margin: 14px 0; }
.label { font-weight: 700; margin-bottom: 6px; }
.label .opt { font-weight: 400; color: #616061; }
.box { border: 1px solid #bbb; border-radius: 4px; padding: 8px 10px; min-height: 20px;
       background: #fff; }
.box.area { min-height: 52px; }
.box .ph { color: #868686; }
.box.select::after, .box.date::after { content: '▾'; float: right; color: #616061; }
.hint { color: #616061; font-size: 13px; margin-top: 4px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 12px; }
.btn { border: 1px solid #bbb; border-radius: 4px; padding: 5px 14px; font-weight: 700;
       font-size: 14px; background: #fff; }
.btn.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.btn.danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
code { background: #f3f3f3; border: 1px solid #ddd; border-radius: 3px; padding: 0 3px;
       color: #e01e5a; font-size: 13px; }
a { color: #1264a3; text-decoration: none; }
"""

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")


def mrkdwn(text: str) -> str:
    """Slack mrkdwn (escaped as Deskboard sends it) as HTML."""
    out = _LINK.sub(lambda m: f'<a href="{m.group(1)}">{m.group(2)}</a>', text)
    out = _MENTION.sub(lambda m: f'<a href="#">@{m.group(1)}</a>', out)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    out = _ITALIC.sub(r"<i>\1</i>", out)
    return out.replace("\n", "<br>")


def _text(obj: dict[str, Any] | None) -> str:
    if not obj:
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn(str(obj.get("text", "")))
    return html.escape(str(obj.get("text", "")))


def _button(element: dict[str, Any]) -> str:
    style = element.get("style", "")
    return f'<span class="btn {style}">{_text(element.get("text"))}</span>'


CHANNELS: dict[str, str] = {}
"""Channel names by id, for conversation selects (Slack shows the name; the JSON has the id)."""


def _element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "plain_text_input":
        value = element.get("initial_value")
        area = " area" if element.get("multiline") else ""
        shown = (
            html.escape(value)
            if value
            else f'<span class="ph">{_text(element.get("placeholder"))}</span>'
        )
        return f'<div class="box{area}">{shown}</div>'
    if kind == "static_select":
        chosen = element.get("initial_option")
        shown = (
            _text(chosen["text"])
            if chosen
            else f'<span class="ph">{_text(element.get("placeholder")) or "Select an item"}</span>'
        )
        return f'<div class="box select">{shown}</div>'
    if kind == "datepicker":
        date = element.get("initial_date")
        shown = html.escape(date) if date else '<span class="ph">Select a date</span>'
        return f'<div class="box date">{shown}</div>'
    if kind == "conversations_select":
        channel = element.get("initial_conversation")
        channel = CHANNELS.get(channel, channel) if channel else None
        shown = (
            f"# {html.escape(channel)}" if channel else '<span class="ph">Select a channel</span>'
        )
        return f'<div class="box select">{shown}</div>'
    if kind == "button":
        return _button(element)
    return f'<div class="box">{html.escape(str(kind))}</div>'


def block_html(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "header":
        return f"<h2>{_text(block.get('text'))}</h2>"
    if kind == "section":
        fields = "".join(f"<div>{_text(f)}</div>" for f in block.get("fields") or [])
        return f'<div class="section">{_text(block.get("text"))}{fields}</div>'
    if kind == "context":
        parts = " ".join(_text(e) for e in block.get("elements") or [] if e.get("type") != "image")
        return f'<div class="context">{parts}</div>'
    if kind == "divider":
        return "<hr>"
    if kind == "actions":
        buttons = "".join(_element(e) for e in block.get("elements") or [])
        return f'<div class="actions">{buttons}</div>'
    if kind == "image":
        return f'<img src="{html.escape(str(block.get("image_url", "")))}" alt="">'
    if kind == "input":
        optional = ' <span class="opt">(optional)</span>' if block.get("optional") else ""
        hint = f'<div class="hint">{_text(block.get("hint"))}</div>' if block.get("hint") else ""
        label = f'<div class="label">{_text(block.get("label"))}{optional}</div>'
        return f'<div class="input">{label}{_element(block["element"])}{hint}</div>'
    return ""


def page(body: str) -> str:
    head = f"<meta charset='utf-8'><style>{STYLE}</style>"
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


def modal_html(view: dict[str, Any]) -> str:
    """A ``views.open`` modal as a page."""
    blocks = "".join(block_html(b) for b in view.get("blocks") or [])
    return page(
        f'<div class="frame modal"><div class="bar">{_text(view.get("title"))}'
        f'<span class="x">✕</span></div><div class="blocks">{blocks}</div>'
        f'<div class="foot"><span class="btn">{_text(view.get("close"))}</span>'
        f'<span class="btn primary">{_text(view.get("submit"))}</span></div></div>'
    )


def home_html(view: dict[str, Any], *, app_name: str = "Deskboard") -> str:
    """A ``views.publish`` App Home as a page."""
    blocks = "".join(block_html(b) for b in view.get("blocks") or [])
    return page(
        f'<div class="frame home"><div class="bar">{html.escape(app_name)}'
        f'<span class="x">Home · Messages · About</span></div>'
        f'<div class="blocks">{blocks}</div></div>'
    )
