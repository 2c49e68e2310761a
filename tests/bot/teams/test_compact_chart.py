"""The compact standings chart for Teams cards: a real PNG within its byte budget, or None."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PIL import Image

from bot.chat.chart import PNG_MAGIC, compact_chart, compact_png, standings_chart
from metrics.contests import Contest
from metrics.definitions import parse_metric_ref
from metrics.standings import Standings, compute_standings
from metrics.values import MemberValues
from metrics.windows import Period, period_window

TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def standings(count: int) -> Standings:
    contest = Contest(
        "Monthly stars", parse_metric_ref("resolved", frozenset()), period=Period.MONTHLY
    )
    window = period_window(Period.MONTHLY, now=NOW, tz=TZ)
    members = {
        f"member {i:03d} with a long name": MemberValues(
            f"member {i:03d} with a long name", {None: 10}, {contest.refs[0].key: float(i)}
        )
        for i in range(count)
    }
    return compute_standings(contest, members, window=window, data_as_of=NOW)


def opened(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_a_compact_chart_of_500_members_fits_16_kb_and_stays_readable():
    result = standings(500)
    full = standings_chart(result, people={})
    compact = compact_chart(result, people={}, top=10, budget=16_000)
    assert compact is not None
    assert compact.startswith(PNG_MAGIC)
    assert len(compact) <= 16_000 < len(full)
    image = opened(compact)
    assert image.mode == "P"  # a palette image
    assert 400 <= image.width <= 600  # 6 inches at 80 dpi = 480 px
    assert image.height < opened(full).height  # 10 bars, not 15


def test_a_tight_budget_gets_a_smaller_chart_or_none():
    result = standings(500)
    roomy = compact_chart(result, people={}, budget=16_000)
    tight = compact_chart(result, people={}, budget=5_000)
    assert roomy is not None
    assert tight is not None
    assert len(tight) <= 5_000
    assert opened(tight).width < opened(roomy).width or opened(tight).height < opened(roomy).height
    assert compact_chart(result, people={}, budget=500) is None


def test_compact_png_shrinks_a_drawn_chart_and_keeps_one_that_fits():
    full = standings_chart(standings(500), people={})
    shrunk = compact_png(full, budget=16_000)
    assert shrunk is not None
    assert len(shrunk) <= 16_000
    assert opened(shrunk).width >= 400
    small = standings_chart(standings(2), people={})
    assert compact_png(small, budget=len(small)) is small  # fits already: untouched
    assert compact_png(full, budget=300) is None
    assert compact_png(b"not an image", budget=16_000) is None
