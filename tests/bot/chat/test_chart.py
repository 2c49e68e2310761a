"""The standings chart: a real PNG, bars in rank order, and only the names ``people`` gives."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from matplotlib.text import Text
from PIL import Image

from bot.chat.chart import Bar, chart_alt_text, chart_bars, standings_chart, standings_figure
from bot.chat.views import Person
from metrics.contests import Contest
from metrics.definitions import parse_metric_ref
from metrics.standings import Standings, compute_standings
from metrics.values import MemberValues
from metrics.windows import Period, period_window

ROOT = Path(__file__).resolve().parents[3]
TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
WINDOW = period_window(Period.MONTHLY, now=NOW, tz=TZ)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def standings(table: dict[str, float], *, metric: str = "avg_response_minutes") -> Standings:
    contest = Contest(
        "Fast $response$", parse_metric_ref(metric, frozenset()), places=2, period=Period.MONTHLY
    )
    members = {
        key: MemberValues(key, {None: 10}, {contest.refs[0].key: value})
        for key, value in table.items()
    }
    return compute_standings(contest, members, window=WINDOW, data_as_of=NOW)


# avg response is lower-is-better: carol (5) 1st, alice and dave tie at 12 (2nd), bob 30 (4th)
TABLE = {"alice": 12.0, "bob": 30.0, "carol": 5.0, "dave": 12.0}
PEOPLE = {
    "alice": Person("alice", "Alice Jones", "U1"),
    "bob": Person("bob", "a teammate"),  # opted out: the caller hides the name
    "carol": Person("carol", "Carol $Money$ Lee"),
    "dave": Person("dave", "Dave Kim"),
}


def figure_texts(result: Standings) -> list[str]:
    figure = standings_figure(result, people=PEOPLE)
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


def test_bars_are_in_rank_order_with_units_and_winners():
    bars = chart_bars(standings(TABLE), people=PEOPLE)
    # places=2: carol (rank 1) and both members tied at rank 2 win
    assert bars == [
        Bar("1. Carol $Money$ Lee", 5.0, "5 min", True),
        Bar("2. Alice Jones", 12.0, "12 min", True),
        Bar("2. Dave Kim", 12.0, "12 min", True),
        Bar("4. a teammate", 30.0, "30 min", False),
    ]


def test_the_png_is_valid_and_opens():
    png = standings_chart(standings(TABLE), people=PEOPLE)
    assert png.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width > 400
        assert height > 200
        assert image.info["Title"] == "Fast $response$ — November 2026"


def test_opted_out_members_are_never_named():
    result = standings(TABLE)
    texts = figure_texts(result)
    # every text drawn, title and labels included, comes from people: never the member key
    assert not any("bob" in t for t in texts)
    assert r"4. a teammate" in texts
    assert texts.count(r"Fast \$response\$ — November 2026") == 1  # $ drawn literally
    assert r"1. Carol \$Money\$ Lee" in texts
    alt = chart_alt_text(result, people=PEOPLE)
    assert "bob" not in alt
    assert alt == (
        "Fast $response$ — November 2026: 1. Carol $Money$ Lee 5 min (winning); "
        "2. Alice Jones 12 min (winning); 2. Dave Kim 12 min (winning); 4. a teammate 30 min"
    )


def test_only_the_top_are_drawn():
    many = {f"m{i:03d}": float(i) for i in range(500)}
    result = standings(many, metric="resolved")
    bars = chart_bars(result, people={}, top=15)
    assert [b.label for b in bars][:2] == ["1. m499", "2. m498"]
    assert len(bars) == 15
    png = standings_chart(result, people={}, top=15)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size[1] < 1200  # 15 bars, not 500


def test_an_empty_board_still_draws():
    empty = standings({})
    assert chart_bars(empty, people={}) == []
    assert "Nobody qualifies yet" in figure_texts(empty)
    assert (
        chart_alt_text(empty, people={}) == "Fast $response$ — November 2026: nobody qualifies yet"
    )
    assert standings_chart(empty, people={}).startswith(PNG_MAGIC)


def test_drawing_a_chart_leaves_no_global_matplotlib_state():
    # in a fresh interpreter: pyplot (which holds the current figure and switches the
    # process's backend) is never imported
    script = textwrap.dedent(
        """
        import sys
        from bot.chat.chart import standings_chart
        from tests.bot.chat.test_chart import standings
        assert standings_chart(standings({"a": 1.0}), people={}).startswith(b"\\x89PNG")
        assert "matplotlib.pyplot" not in sys.modules
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr
