"""The chat-neutral message: what every platform renderer (Slack, Teams, console) draws.

Templates (``bot/chat/templates/*.html.j2``) are Jinja2 with HTML autoescaping, written in a small
HTML subset; ``parse_message`` turns the result into ``Message`` blocks. Because Jinja2
escapes every value it inserts, text from tickets (summaries, company names) can never become
markup here; each renderer then escapes text nodes for its own markup (Slack mrkdwn, Adaptive
Card markdown, Rich). The subset:

- ``<h1>``: a header; ``<p>``: a section of text; ``<small>``: a context line; ``<hr>``: a divider;
- ``<ul>``/``<ol>`` with ``<li>``: a list, one line per item (rendered inside one section);
- inline ``<b>``, ``<i>``, ``<code>``, ``<a href>``; ``<br>`` for a line break;
- ``<img src alt>``: an image (``src`` may be ``attachment:NAME`` for an uploaded file);
- ``<div class="actions">`` with ``<button action value style>`` and
  ``<select action placeholder>`` holding ``<option value>``: interactive elements.
  A ``<select>`` with ``data-source="external"`` loads its options on demand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal

# ---- inline text ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    link: str | None = None


Line = tuple[Span, ...]


def plain(line: Line) -> str:
    return "".join(span.text for span in line)


# ---- blocks ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class ListBlock:
    items: tuple[Line, ...]
    ordered: bool = False


@dataclass(frozen=True, slots=True)
class Context:
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Divider:
    pass


@dataclass(frozen=True, slots=True)
class Image:
    src: str
    alt: str


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    action: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None
    url: str | None = None  # a link button: opens this page (Slack still reports the click)


@dataclass(frozen=True, slots=True)
class Option:
    text: str
    value: str


@dataclass(frozen=True, slots=True)
class Select:
    action: str
    placeholder: str
    options: tuple[Option, ...] = ()
    initial: str | None = None
    external: bool = False


@dataclass(frozen=True, slots=True)
class Actions:
    elements: tuple[Button | Select, ...]
    block_id: str | None = None


Block = Header | Paragraph | ListBlock | Context | Divider | Image | Actions


@dataclass(frozen=True, slots=True)
class Message:
    text: str  # the plain-text fallback (notifications, screen readers)
    blocks: tuple[Block, ...] = field(default=())


# ---- the template subset parser -------------------------------------------------------------


class TemplateError(ValueError):
    """A template used markup outside the subset; a bug in the template, not in the data."""


_INLINE = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "code": "code"}


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._lines: list[list[Span]] = []
        self._block: str | None = None
        self._marks: list[str] = []
        self._link: list[str] = []
        self._list_ordered = False
        self._items: list[Line] = []
        self._actions: list[Button | Select] | None = None
        self._actions_id: str | None = None
        self._button: dict[str, str] | None = None
        self._select: dict[str, str] | None = None
        self._options: list[Option] = []
        self._option_value: str | None = None
        self._text: list[str] = []

    # text collection
    def _span(self, text: str) -> None:
        if not self._lines:
            self._lines.append([])
        marks = set(self._marks)
        self._lines[-1].append(
            Span(
                text,
                bold="bold" in marks,
                italic="italic" in marks,
                code="code" in marks,
                link=self._link[-1] if self._link else None,
            )
        )

    def handle_data(self, data: str) -> None:
        if self._button is not None or self._option_value is not None:
            self._text.append(data)
            return
        if not data.strip():
            line = self._lines[-1] if self._lines else []
            if self._block is not None and line and not line[-1].text.endswith(" "):
                self._span(" ")
            return
        text = " ".join(data.split())
        if data[:1].isspace():
            text = " " + text
        if data[-1:].isspace():
            text += " "
        if self._block is None:
            raise TemplateError(f"text outside a block: {data.strip()[:40]!r}")
        self._span(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("h1", "p", "small", "li"):
            self._block = tag
            self._lines = [[]]
        elif tag in ("ul", "ol"):
            self._list_ordered = tag == "ol"
            self._items = []
        elif tag in _INLINE:
            self._marks.append(_INLINE[tag])
        elif tag == "a":
            self._link.append(a.get("href", ""))
        elif tag == "br":
            self._lines.append([])
        elif tag == "hr":
            self.blocks.append(Divider())
        elif tag == "img":
            self.blocks.append(Image(a.get("src", ""), a.get("alt", "")))
        elif tag == "div" and a.get("class") == "actions":
            self._actions = []
            self._actions_id = a.get("id") or None
        elif tag == "button":
            self._button = a
            self._text = []
        elif tag == "select":
            self._select = a
            self._options = []
        elif tag == "option":
            self._option_value = a.get("value", "")
            self._text = []
            if "selected" in a and self._select is not None:
                self._select["selected"] = self._option_value
        else:
            raise TemplateError(f"<{tag}> is not in the template subset")

    def _finish_lines(self) -> tuple[Line, ...]:
        lines = []
        for spans in self._lines:
            merged = _strip(spans)
            if merged:
                lines.append(merged)
        self._lines = []
        self._block = None
        return tuple(lines)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self.blocks.append(Header(" ".join(plain(line) for line in self._finish_lines())))
        elif tag == "p":
            lines = self._finish_lines()
            if lines:
                self.blocks.append(Paragraph(lines))
        elif tag == "small":
            lines = self._finish_lines()
            if lines:
                self.blocks.append(Context(lines))
        elif tag == "li":
            lines = self._finish_lines()
            self._items.append(tuple(s for line in lines for s in line))
        elif tag in ("ul", "ol"):
            if self._items:
                self.blocks.append(ListBlock(tuple(self._items), self._list_ordered))
            self._items = []
        elif tag in _INLINE and self._marks:
            self._marks.pop()
        elif tag == "a" and self._link:
            self._link.pop()
        elif tag == "button" and self._button is not None:
            style = self._button.get("style") or None
            button = Button(
                " ".join("".join(self._text).split()),
                self._button.get("action", ""),
                self._button.get("value", ""),
                style if style in ("primary", "danger") else None,  # type: ignore[arg-type]
                self._button.get("url") or None,
            )
            self._add_element(button)
            self._button = None
        elif tag == "option" and self._option_value is not None:
            self._options.append(Option(" ".join("".join(self._text).split()), self._option_value))
            self._option_value = None
        elif tag == "select" and self._select is not None:
            select = Select(
                self._select.get("action", ""),
                self._select.get("placeholder", "Choose"),
                tuple(self._options),
                self._select.get("selected") or None,
                self._select.get("data-source") == "external",
            )
            self._add_element(select)
            self._select = None
        elif tag == "div" and self._actions is not None:
            if self._actions:
                self.blocks.append(Actions(tuple(self._actions), self._actions_id))
            self._actions = None

    def _add_element(self, element: Button | Select) -> None:
        if self._actions is None:
            raise TemplateError('buttons and selects belong in <div class="actions">')
        self._actions.append(element)


def _strip(spans: list[Span]) -> Line:
    """Trim the line's outer spaces and drop empty spans."""
    out = [s for s in spans if s.text]
    while out and not out[0].text.strip():
        out.pop(0)
    while out and not out[-1].text.strip():
        out.pop()
    if out:
        first, last = out[0], out[-1]
        out[0] = Span(first.text.lstrip(), first.bold, first.italic, first.code, first.link)
        last = out[-1]
        out[-1] = Span(last.text.rstrip(), last.bold, last.italic, last.code, last.link)
    return tuple(out)


def parse_message(html: str, *, text: str) -> Message:
    """The blocks of a rendered template; ``text`` is the notification fallback."""
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return Message(text=text, blocks=tuple(parser.blocks))


# ---- JSON, for the outbox -------------------------------------------------------------------

_BLOCK_TYPES: dict[str, type] = {
    cls.__name__: cls for cls in (Header, Paragraph, ListBlock, Context, Divider, Image, Actions)
}


def _line_json(line: Line) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in asdict(span).items() if v not in (False, None) or k == "text"}
        for span in line
    ]


def _line_from(data: list[dict[str, Any]]) -> Line:
    return tuple(Span(**span) for span in data)


def _element_json(element: Button | Select) -> dict[str, Any]:
    data = asdict(element)
    data["kind"] = type(element).__name__
    return data


def _element_from(data: dict[str, Any]) -> Button | Select:
    data = dict(data)
    kind = data.pop("kind")
    if kind == "Button":
        return Button(**data)
    data["options"] = tuple(Option(**o) for o in data.get("options", ()))
    return Select(**data)


def message_to_json(message: Message) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    for block in message.blocks:
        kind = type(block).__name__
        if isinstance(block, Paragraph | Context):
            blocks.append({"type": kind, "lines": [_line_json(line) for line in block.lines]})
        elif isinstance(block, ListBlock):
            items = [_line_json(item) for item in block.items]
            blocks.append({"type": kind, "items": items, "ordered": block.ordered})
        elif isinstance(block, Actions):
            elements = [_element_json(e) for e in block.elements]
            blocks.append({"type": kind, "elements": elements, "block_id": block.block_id})
        else:
            blocks.append({"type": kind, **asdict(block)})
    return {"text": message.text, "blocks": blocks}


def message_from_json(data: dict[str, Any]) -> Message:
    blocks: list[Block] = []
    for raw in data.get("blocks", []):
        raw = dict(raw)
        kind = raw.pop("type")
        if kind in ("Paragraph", "Context"):
            lines = tuple(_line_from(line) for line in raw["lines"])
            blocks.append(Paragraph(lines) if kind == "Paragraph" else Context(lines))
        elif kind == "ListBlock":
            blocks.append(ListBlock(tuple(_line_from(i) for i in raw["items"]), raw["ordered"]))
        elif kind == "Actions":
            elements = tuple(_element_from(e) for e in raw["elements"])
            blocks.append(Actions(elements, raw.get("block_id")))
        elif kind in _BLOCK_TYPES:
            blocks.append(_BLOCK_TYPES[kind](**raw))
        else:
            raise ValueError(f"unknown block type {kind!r} in a stored message")
    return Message(text=data["text"], blocks=tuple(blocks))


def message_plain_text(message: Message) -> str:
    """The words of a message, one block or list item per line (console, logs, tests)."""
    parts: list[str] = []
    for block in message.blocks:
        if isinstance(block, Header):
            parts.append(block.text)
        elif isinstance(block, Paragraph | Context):
            parts.extend(plain(line) for line in block.lines)
        elif isinstance(block, ListBlock):
            parts.extend(plain(item) for item in block.items)
        elif isinstance(block, Actions):
            parts.append(
                " | ".join(
                    f"[{e.text if isinstance(e, Button) else e.placeholder}]"
                    for e in block.elements
                )
            )
    return "\n".join(parts)
