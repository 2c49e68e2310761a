"""The program in the database (README "Running a contest"): what deskboard.toml's program
sections become once stored, how every process follows its changes, and moving it to and
from a file.

- **Items.** Each contest, score, category and alert rule is an item by name; kudos, nudges,
  members and admins are one item each. An item's body is its settings as the file writes
  them, so one set of rules (``bot.config``) validates the file, chat and imports alike.
- **Start.** ``adopt_file_program``: a database with no program takes the file's. While
  nobody has changed the program any other way, the file stays its source: a changed file
  is taken again at the next start (configuration as code). Once someone changes it from
  chat or with ``deskboard config import``, the database's program applies and a file that
  differs is reported, never silently applied.
- **Every process follows.** ``LiveConfig.current`` compares the program's revision (the
  latest audit id) at most once a second and rebuilds the configuration when it moved, so a
  change made in one process applies in every process sharing the database.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.config import PROGRAM_SECTIONS, ConfigError, DeskboardConfig
from storage import program as store
from storage.db import session_scope

log = logging.getLogger(__name__)

FILE_ACTOR = "deskboard.toml"
SEED_ACTOR = "deskboard.toml (first start)"
"""Who stored the program a database started with: the file's contests as they were when
Deskboard first ran (or was upgraded), which are not news (``bot.core.posting``)."""
_LISTS = {"contests": "contest", "scores": "score", "alerts": "alert"}
_KIND_SECTION = {kind: section for section, kind in _LISTS.items()}
_SINGLE = ("kudos", "nudges", "members", "admins")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who changes the program, and how: ``via`` is "file", "import", "cli", "slack" or
    "teams"; ``name`` what the audit list shows ("Jane Smith (slack U123)")."""

    name: str
    via: str


Item = tuple[str, str, dict[str, Any]]
"""(kind, name, body)."""


def items_of(doc: Mapping[str, Any]) -> list[Item]:
    """The program's items, in order."""
    items: list[Item] = []
    for name, body in (doc.get("categories") or {}).items():
        items.append(("category", str(name), dict(body)))
    for section, kind in _LISTS.items():
        for body in doc.get(section) or []:
            items.append((kind, str(body["name"]), dict(body)))
    for section in _SINGLE:
        if doc.get(section):
            items.append((section, "", dict(doc[section])))
    return items


def doc_of(items: Iterable[store.StoredItem]) -> dict[str, Any]:
    """The program document (``DeskboardConfig.program_doc``'s shape) of stored items."""
    doc: dict[str, Any] = {}
    for item in sorted(items, key=lambda i: (i.kind, i.position, i.name)):
        if item.kind == "category":
            doc.setdefault("categories", {})[item.name] = item.body
        elif item.kind in _KIND_SECTION:
            doc.setdefault(_KIND_SECTION[item.kind], []).append(item.body)
        elif item.kind in _SINGLE:
            doc[item.kind] = item.body
    return {k: doc[k] for k in PROGRAM_SECTIONS if k in doc}


def stored_config(session: Session, file_config: DeskboardConfig) -> tuple[DeskboardConfig, int]:
    """The configuration that applies now (the file's settings, the stored program) and the
    program's revision."""
    revision = store.program_revision(session)
    doc = doc_of(store.list_items(session))
    return file_config.with_program(doc, source="the stored program"), revision


@dataclass(frozen=True, slots=True)
class ItemChange:
    action: str  # "created", "changed", "deleted"
    kind: str
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def plan_changes(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[ItemChange]:
    """What turns the program ``current`` into ``wanted``, item by item."""
    old = {(k, n): b for k, n, b in items_of(current)}
    new = {(k, n): b for k, n, b in items_of(wanted)}
    changes: list[ItemChange] = []
    for key, body in new.items():
        if key not in old:
            changes.append(ItemChange("created", key[0], key[1], None, body))
        elif old[key] != body:
            changes.append(ItemChange("changed", key[0], key[1], old[key], body))
    for key, body in old.items():
        if key not in new:
            changes.append(ItemChange("deleted", key[0], key[1], body, None))
    return changes


def apply_changes(
    session: Session,
    changes: Sequence[ItemChange],
    *,
    wanted: Mapping[str, Any],
    actor: Actor,
    now: datetime,
) -> None:
    """Store ``changes`` (``plan_changes``) and put every item in ``wanted``'s order."""
    order = {(k, n): i for i, (k, n, _) in enumerate(items_of(wanted))}
    for change in changes:
        if change.action == "created":
            store.create_item(
                session,
                kind=change.kind,
                name=change.name,
                body=change.after or {},
                actor=actor.name,
                via=actor.via,
                now=now,
                position=order[(change.kind, change.name)],
            )
        elif change.action == "changed":
            store.update_item(
                session,
                kind=change.kind,
                name=change.name,
                body=change.after or {},
                expected_revision=None,
                actor=actor.name,
                via=actor.via,
                now=now,
                position=order[(change.kind, change.name)],
            )
        else:
            store.delete_item(
                session,
                kind=change.kind,
                name=change.name,
                expected_revision=None,
                actor=actor.name,
                via=actor.via,
                now=now,
            )


def replace_program(
    engine: Engine, wanted: DeskboardConfig, *, actor: Actor, now: datetime
) -> list[ItemChange]:
    """Make the stored program ``wanted``'s (validated already), in one transaction."""
    doc = wanted.program_doc()
    with session_scope(engine) as session:
        current = doc_of(store.list_items(session))
        changes = plan_changes(current, doc)
        apply_changes(session, changes, wanted=doc, actor=actor, now=now)
    return changes


@dataclass(frozen=True, slots=True)
class Adoption:
    config: DeskboardConfig  # what applies now
    revision: int
    imported: bool  # the file's program was stored now
    file_differs: bool  # the file's program differs from the stored one, which applies


def adopt_file_program(engine: Engine, file_config: DeskboardConfig, *, now: datetime) -> Adoption:
    """At start: store the file's program when the database has none, or when nothing but
    the file ever changed it; otherwise the stored program applies (see the module doc).
    Processes starting together on one database: the one that stores second finds the
    items there (a unique key refuses its copy) and reads them again."""
    try:
        return _adopt(engine, file_config, now=now)
    except IntegrityError:
        return _adopt(engine, file_config, now=now)


def _adopt(engine: Engine, file_config: DeskboardConfig, *, now: datetime) -> Adoption:
    wanted = file_config.program_doc()
    with session_scope(engine) as session:
        via = store.latest_via(session)
        current = doc_of(store.list_items(session))
        imported = False
        if via in (None, "file") and current != wanted:
            changes = plan_changes(current, wanted)
            first = via is None
            actor = Actor(SEED_ACTOR if first else FILE_ACTOR, "file")
            apply_changes(session, changes, wanted=wanted, actor=actor, now=now)
            imported = True
        try:
            config, revision = stored_config(session, file_config)
        except ConfigError as exc:
            # a program stored under other settings (a category this file's boards...)
            raise ConfigError(
                f"{exc}\n(the stored program does not fit this deskboard.toml: "
                "fix the file, or `deskboard config import` a program that fits)"
            ) from None
    differs = not imported and config.program_doc() != wanted
    return Adoption(config, revision, imported, differs)


FILE_DIFFERS = (
    "deskboard.toml's program differs from the database's, which applies (it was changed "
    "from chat or by `deskboard config import`): `deskboard config export` writes it, "
    "`deskboard config import deskboard.toml` makes the file's apply"
)


class LiveConfig:
    """The configuration as it stands now, following the program's changes made by any
    process sharing the database (at most one revision check per ``min_interval`` s)."""

    def __init__(
        self,
        engine: Engine,
        file_config: DeskboardConfig,
        *,
        config: DeskboardConfig,
        revision: int,
        min_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.file_config = file_config
        self._config = config
        self._revision = revision
        self._min_interval = min_interval
        self._monotonic = monotonic
        self._checked = monotonic()
        self._lock = threading.Lock()

    @classmethod
    def adopt(cls, engine: Engine, file_config: DeskboardConfig, *, now: datetime) -> LiveConfig:
        adoption = adopt_file_program(engine, file_config, now=now)
        if adoption.file_differs:
            log.warning(FILE_DIFFERS)
        return cls(engine, file_config, config=adoption.config, revision=adoption.revision)

    @property
    def revision(self) -> int:
        return self._revision

    def current(self) -> DeskboardConfig:
        if self._monotonic() - self._checked >= self._min_interval:
            self.refresh()
        return self._config

    def refresh(self) -> bool:
        """Check the revision now; True when the configuration changed."""
        with self._lock:
            self._checked = self._monotonic()
            try:
                with session_scope(self.engine) as session:
                    revision = store.program_revision(session)
                    if revision == self._revision:
                        return False
                    config, revision = stored_config(session, self.file_config)
            except ConfigError as exc:
                log.error("the stored program cannot apply here; keeping the previous: %s", exc)
                return False
            except Exception:
                log.exception("reading the stored program failed; keeping the previous")
                return False
            self._config, self._revision = config, revision
            log.info("the program changed (revision %d); applying it", revision)
            return True


KIND_NAMES = {
    "contest": "contest",
    "score": "score",
    "category": "category",
    "alert": "alert rule",
    "kudos": "kudos settings",
    "nudges": "nudge settings",
    "members": "members settings",
    "admins": "admins",
}


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:59] + "…"


def describe_change(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    """What changed between two versions of an item, in one line: "goal 90 → 95; prize
    added: Lunch"; empty for a creation or a deletion."""
    if before is None or after is None:
        return ""
    parts = []
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            parts.append(f"{key} added: {_shown(new)}")
        elif new is None:
            parts.append(f"{key} removed (was {_shown(old)})")
        else:
            parts.append(f"{key} {_shown(old)} → {_shown(new)}")
    return "; ".join(parts)


def what(kind: str, name: str) -> str:
    """ "contest “Clean tickets”", "kudos settings"."""
    label = KIND_NAMES.get(kind, kind)
    return f"{label} “{name}”" if name else label


class FollowsProgram:
    """What ``Runtime`` and the adapters' deps share: ``current``, the configuration that
    applies now (``config`` for ever when there is no ``live``), and ``fresh``, the same
    after checking the program's revision now (what a change is validated against)."""

    if TYPE_CHECKING:
        config: DeskboardConfig
        live: LiveConfig | None

    @property
    def current(self) -> DeskboardConfig:
        return self.config if self.live is None else self.live.current()

    def fresh(self) -> DeskboardConfig:
        if self.live is not None:
            self.live.refresh()
        return self.current
