"""Fitting an Adaptive Card's parts into a size limit (bytes of compact UTF-8 JSON).

First the image goes, then choices beyond the first ``MIN_CHOICES`` of each select, then list
and paragraph lines from the end, then the remaining choices (the current one always stays),
then context lines; every cut says "…and N more". Headers, ActionSets with their inputs, and
the paragraph right above them (a nudge's ticket) are never dropped.
"""

from __future__ import annotations

from bot.teams.card_elements import PicturePart, TextPart, note
from bot.teams.card_inputs import ControlsPart
from bot.teams.card_validation import card_size

MIN_CHOICES = 5  # choices per select kept before any text is cut (the rest can be searched)

Part = TextPart | PicturePart | ControlsPart


class CardTooLarge(ValueError):
    """Even cut to its headers and controls, the card does not fit the size limit."""


class Fitter:
    def __init__(self, parts: list[Part], frame: int, limit: int) -> None:
        self.parts = parts
        self.frame = frame
        self.limit = limit

    def total(self) -> int:
        return self.frame + sum(p.size() for p in self.parts) + max(0, len(self.parts) - 1)

    def fits(self) -> bool:
        return self.total() <= self.limit

    def fit(self) -> None:
        steps = (
            self.drop_pictures,
            lambda: self.cut_choices(MIN_CHOICES),
            lambda: self.cut_lines("text"),
            lambda: self.cut_choices(0),
            lambda: self.cut_lines("context"),
        )
        for step in steps:
            if self.fits():
                return
            step()

    def drop_pictures(self) -> None:
        self.parts[:] = [p for p in self.parts if not isinstance(p, PicturePart)]

    def cut_choices(self, floor: int) -> None:
        """Keep the most choices per select (the same number for each) that fit, but not
        fewer than ``floor``; the current choice always stays."""
        controls = [p for p in self.parts if isinstance(p, ControlsPart)]
        most = max((c.most_choices() for c in controls), default=0)
        if most <= floor:
            return

        def keep(count: int) -> bool:
            for part in controls:
                part.keep = None if count >= most else count
            return self.fits()

        if not keep(floor):
            return  # cut to the floor; the next steps cut text
        low, high = floor, most
        while low < high:
            middle = (low + high + 1) // 2
            if keep(middle):
                low = middle
            else:
                high = middle - 1
        keep(low)

    def labels(self, index: int) -> bool:
        """Whether part ``index`` is the text right above an Actions block's controls (a
        nudge's ticket): it says what they change, so it stays."""
        following = self.parts[index + 1] if index + 1 < len(self.parts) else None
        return isinstance(following, ControlsPart)

    def cut_lines(self, kind: str) -> None:
        """Drop lines of ``kind`` parts from the end until the card fits with a note
        "…and N more" where the cut began."""
        note_room = card_size(note("…and 1000000 more")) + 1
        dropped = 0
        note_at = len(self.parts)
        index = len(self.parts) - 1
        while index >= 0 and self.total() + note_room > self.limit:
            part = self.parts[index]
            if not (isinstance(part, TextPart) and part.kind == kind) or self.labels(index):
                index -= 1
                continue
            part.pop()
            dropped += 1
            note_at = index + 1
            if not part.lines:
                del self.parts[index]
                note_at = index
                index -= 1
        if dropped:
            self.parts.insert(note_at, TextPart("more", [note(f"…and {dropped} more")]))
