"""The text and image parts of an Adaptive Card, and what ``bot.chat.Message`` lines and images
become: one TextBlock per line (several in a Container, so that lines can be cut from the end)
and an Image (a chart as a ``data:`` URL, other sources only as https URLs)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from bot.chat.message import Image, Line, ListBlock
from bot.teams.card_text import Mentions, cut, markdown
from bot.teams.card_validation import card_size

MAX_ALT_TEXT = 300


def text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def note(text: str) -> dict[str, Any]:
    return text_block(text, isSubtle=True)


def separated(element: dict[str, Any], separator: bool) -> dict[str, Any]:
    if separator:
        element = {**element, "separator": True, "spacing": "Medium"}
    return element


@dataclass
class TextPart:
    """Lines of text (a header, a paragraph, a list, context lines or a "more" note): one
    TextBlock per line, several in a Container. Lines can be cut from the end."""

    kind: str  # "header" | "text" | "context" | "more"
    lines: list[dict[str, Any]]
    separator: bool = False
    _sizes: list[int] = field(init=False, default_factory=list)
    _size: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._sizes = [card_size(line) for line in self.lines]

    def element(self) -> dict[str, Any]:
        if len(self.lines) == 1:
            return separated(self.lines[0], self.separator)
        return separated({"type": "Container", "items": self.lines}, self.separator)

    def size(self) -> int:
        if self._size is None:
            if len(self.lines) == 1:
                self._size = card_size(self.element())
            else:
                empty = separated({"type": "Container", "items": []}, self.separator)
                commas = max(0, len(self.lines) - 1)
                self._size = card_size(empty) + sum(self._sizes) + commas
        return self._size

    def pop(self) -> None:
        self.lines.pop()
        self._sizes.pop()
        self._size = None

    def mark_separator(self) -> None:
        self.separator = True
        self._size = None


@dataclass
class PicturePart:
    image: dict[str, Any]
    separator: bool = False
    kind: str = "image"

    def element(self) -> dict[str, Any]:
        return separated(self.image, self.separator)

    def size(self) -> int:
        return card_size(self.element())

    def mark_separator(self) -> None:
        self.separator = True


# ---- lines and images -------------------------------------------------------------------------


def text_lines(lines: tuple[Line, ...], mentions: Mentions, **style: Any) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for line in lines:
        text = markdown(line, mentions)
        if text:
            blocks.append(text_block(text, **style, **({"spacing": "None"} if blocks else {})))
    return blocks


def list_lines(block: ListBlock, mentions: Mentions) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for number, item in enumerate(block.items, start=1):
        bullet = f"{number}\\. " if block.ordered else "- "
        text = markdown(item, mentions)
        if not text:
            continue
        items.append(text_block(bullet + text, **({"spacing": "None"} if items else {})))
    return items


def data_url(image: bytes) -> str | None:
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = "image/png"
    elif image.startswith(b"\xff\xd8\xff"):
        mime = "image/jpeg"
    elif image.startswith((b"GIF87a", b"GIF89a")):
        mime = "image/gif"
    else:
        return None
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


def picture(url: str, alt: str) -> PicturePart:
    return PicturePart({"type": "Image", "url": url, "altText": cut(alt or "image", MAX_ALT_TEXT)})


_IMAGE_URL = re.compile(r"https://\S+")


def image_part(block: Image, image: bytes | None) -> PicturePart | None:
    if block.src.startswith("attachment:"):
        url = data_url(image) if image else None
        return picture(url, block.alt) if url else None
    return picture(block.src, block.alt) if _IMAGE_URL.fullmatch(block.src) else None
