"""The outbox: one row per key, what is due, sent and failed messages, and restarts."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, inspect, select

from storage import outbox, repo
from storage.db import MIGRATIONS_DIR, create_engine_for, migrate, session_scope
from storage.tables import OUTBOX
from tests.databases import Databases
from tests.storage.helpers import insert_bare_ticket, nov, ticket_rows

MESSAGE: dict[str, Any] = {
    "text": "Standings",
    "blocks": [{"type": "Header", "text": "November"}],
}


def enqueue(engine: Engine, key: str, **overrides: Any) -> bool:
    """One message in its own transaction, as a job queues it."""
    values: dict[str, Any] = {
        "kind": "post",
        "target": "#helpdesk",
        "message": MESSAGE,
        "now": nov(2, 10),
    }
    values.update(overrides)
    with session_scope(engine) as session:
        return outbox.enqueue(session, key=key, **values)


def due_keys(engine: Engine, now: Any, limit: int = 50) -> list[str]:
    with session_scope(engine) as session:
        return [item.key for item in outbox.due(session, now=now, limit=limit)]


def item(engine: Engine, key: str) -> outbox.OutboxItem:
    with session_scope(engine) as session:
        found = outbox.get_item(session, key=key)
    assert found is not None
    return found


def pending(engine: Engine) -> int:
    with session_scope(engine) as session:
        return outbox.pending_count(session)


def row_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(OUTBOX)).scalar_one()


def test_an_enqueued_message_comes_back_whole(engine: Engine):
    png = b"\x89PNG\r\n\x1a\n\x00binary"
    assert enqueue(engine, "post:month:2026-11", attachment=png, attachment_name="chart.png")
    stored = item(engine, "post:month:2026-11")
    assert stored == outbox.OutboxItem(
        id=stored.id,
        key="post:month:2026-11",
        platform="slack",
        kind="post",
        target="#helpdesk",
        message=MESSAGE,
        attachment=png,
        attachment_name="chart.png",
        created_at=nov(2, 10),
        attempts=0,
        next_attempt_at=nov(2, 10),  # no not_before: due at once
        sent_at=None,
        ref=None,
        last_error=None,
        dead=False,
    )
    assert stored.created_at.tzinfo is not None
    with session_scope(engine) as session:
        assert outbox.get_item(session, key="no-such-key") is None


def test_enqueueing_a_key_twice_keeps_the_first_message_only(engine: Engine):
    assert enqueue(engine, "kudos:101") is True
    again = enqueue(engine, "kudos:101", kind="dm", target="jsmith", message={"text": "other"})
    assert again is False
    assert row_count(engine) == 1
    first = item(engine, "kudos:101")
    assert (first.kind, first.target, first.message) == ("post", "#helpdesk", MESSAGE)


def test_a_sent_key_is_not_queued_again(engine: Engine):
    enqueue(engine, "kudos:101")
    with session_scope(engine) as session:
        outbox.mark_sent(
            session, item_id=item(engine, "kudos:101").id, at=nov(2, 10, 1), ref="C1:1"
        )
    assert enqueue(engine, "kudos:101", now=nov(3)) is False
    assert due_keys(engine, nov(3)) == []


def test_the_same_key_twice_in_one_transaction_is_stored_once(engine: Engine):
    with session_scope(engine) as session:
        first = outbox.enqueue(
            session, key="k", kind="dm", target="jsmith", message=MESSAGE, now=nov(2)
        )
        second = outbox.enqueue(
            session, key="k", kind="dm", target="jsmith", message=MESSAGE, now=nov(2)
        )
    assert (first, second) == (True, False)
    assert row_count(engine) == 1


def test_a_concurrent_duplicate_waits_and_then_writes_nothing(engine: Engine):
    # Transaction A has stored the key and not committed yet; B enqueues the same key from
    # another thread. B waits for A's write lock; once A commits, B's insert conflicts and
    # does nothing, instead of failing or posting twice.
    results: list[bool] = []
    errors: list[BaseException] = []

    def second_job() -> None:
        try:
            results.append(enqueue(engine, "post:week:2026-W45", now=nov(2, 11)))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    with session_scope(engine) as session:
        assert outbox.enqueue(
            session, key="post:week:2026-W45", kind="post", target="C1", message=MESSAGE, now=nov(2)
        )
        session.flush()
        thread = threading.Thread(target=second_job)
        thread.start()
        thread.join(timeout=0.3)
        assert thread.is_alive()  # B is waiting for A
    thread.join(timeout=5)
    assert (results, errors) == ([False], [])
    assert row_count(engine) == 1
    assert item(engine, "post:week:2026-W45").created_at == nov(2)  # A's row


def test_unknown_kinds_are_refused(engine: Engine):
    with pytest.raises(ValueError, match="kind"):
        enqueue(engine, "x", kind="email")
    assert row_count(engine) == 0


def test_due_lists_unsent_live_messages_whose_time_came_oldest_first(engine: Engine):
    enqueue(engine, "newer", now=nov(2, 10))
    enqueue(engine, "older", now=nov(2, 9))  # queued second, created first
    enqueue(engine, "later", now=nov(2, 9), not_before=nov(2, 12))
    enqueue(engine, "sent", now=nov(2, 8))
    enqueue(engine, "dead", now=nov(2, 8))
    with session_scope(engine) as session:
        outbox.mark_sent(session, item_id=item(engine, "sent").id, at=nov(2, 8, 1), ref="C1:1")
        outbox.mark_failed(
            session, item_id=item(engine, "dead").id, at=nov(2, 8, 1), error="x", retry_at=None
        )

    # At 11:00: "later" waits for 12:00; "sent" and "dead" are done with.
    assert due_keys(engine, nov(2, 11)) == ["older", "newer"]
    assert due_keys(engine, nov(2, 11), limit=1) == ["older"]
    # next_attempt_at <= now: due exactly at its time.
    assert due_keys(engine, nov(2, 12)) == ["older", "later", "newer"]
    assert due_keys(engine, nov(2, 8)) == []
    # Pending: not sent and not dead, due or not.
    assert pending(engine) == 3


def test_a_sent_message_records_when_and_its_reference(engine: Engine):
    enqueue(engine, "a")
    item_id = item(engine, "a").id
    with session_scope(engine) as session:
        outbox.mark_sent(session, item_id=item_id, at=nov(2, 10, 5), ref="C123:1700000000.1")
    sent = item(engine, "a")
    assert (sent.sent_at, sent.ref, sent.attempts, sent.dead) == (
        nov(2, 10, 5),
        "C123:1700000000.1",
        1,
        False,
    )
    assert due_keys(engine, nov(3)) == []
    assert pending(engine) == 0


def test_a_failed_message_is_retried_then_given_up(engine: Engine):
    enqueue(engine, "a")
    item_id = item(engine, "a").id
    with session_scope(engine) as session:
        outbox.mark_failed(
            session, item_id=item_id, at=nov(2, 10), error="ratelimited", retry_at=nov(2, 10, 5)
        )
    failed = item(engine, "a")
    assert (failed.attempts, failed.last_error, failed.next_attempt_at, failed.dead) == (
        1,
        "ratelimited",
        nov(2, 10, 5),
        False,
    )
    assert due_keys(engine, nov(2, 10, 4)) == []
    assert due_keys(engine, nov(2, 10, 5)) == ["a"]

    # A permanent failure: no retry time, the message is dead and never due again.
    with session_scope(engine) as session:
        outbox.mark_failed(
            session, item_id=item_id, at=nov(2, 10, 5), error="channel_not_found", retry_at=None
        )
    dead = item(engine, "a")
    assert (dead.attempts, dead.last_error, dead.dead, dead.sent_at) == (
        2,
        "channel_not_found",
        True,
        None,
    )
    assert due_keys(engine, nov(30)) == []
    assert pending(engine) == 0


def test_a_retry_time_in_the_past_means_now(engine: Engine):
    enqueue(engine, "a")
    with session_scope(engine) as session:
        outbox.mark_failed(
            session, item_id=item(engine, "a").id, at=nov(2, 11), error="e", retry_at=nov(2, 9)
        )
    assert item(engine, "a").next_attempt_at == nov(2, 11)


def test_after_a_sent_attempt_the_last_error_is_kept(engine: Engine):
    enqueue(engine, "a")
    item_id = item(engine, "a").id
    with session_scope(engine) as session:
        outbox.mark_failed(
            session, item_id=item_id, at=nov(2, 10), error="503", retry_at=nov(2, 11)
        )
        outbox.mark_sent(session, item_id=item_id, at=nov(2, 11), ref=None)
    sent = item(engine, "a")
    # attempts: the failure and the success
    assert (sent.attempts, sent.last_error, sent.sent_at, sent.ref) == (2, "503", nov(2, 11), None)


def test_the_outbox_survives_a_restart_without_double_posts(database_url: str):
    url = database_url
    first = create_engine_for(url)
    migrate(first)
    enqueue(first, "post:a")
    enqueue(first, "post:b")
    with session_scope(first) as session:
        outbox.mark_sent(session, item_id=item(first, "post:a").id, at=nov(2, 10, 1), ref="C1:1")
    first.dispose()  # the process stops with "post:b" unsent

    second = create_engine_for(url)
    migrate(second)  # what a starting process does
    try:
        # The job runs again after the restart and queues the same events.
        assert enqueue(second, "post:a", now=nov(2, 12)) is False
        assert enqueue(second, "post:b", now=nov(2, 12)) is False
        assert due_keys(second, nov(2, 12)) == ["post:b"]
        assert item(second, "post:a").ref == "C1:1"
        assert row_count(second) == 2
    finally:
        second.dispose()


def test_a_database_at_the_first_revision_gains_the_chat_tables(databases: Databases, params):
    engine = create_engine_for(databases.empty_url())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")  # a database made before the chat tables existed
    insert_bare_ticket(engine, 1)
    try:
        migrate(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"outbox", "chat_users", "member_prefs", "nudges", "kudos"} <= tables
        assert [row["id"] for row in ticket_rows(engine)] == [1]
        assert enqueue(engine, "a") is True
        with session_scope(engine) as session:
            assert repo.count_tickets(session) == 1
    finally:
        engine.dispose()


def test_each_platform_delivers_only_its_own_messages(engine):
    now = nov(20, 15)
    with session_scope(engine) as session:
        for platform in ("slack", "teams"):
            assert outbox.enqueue(
                session,
                key=f"{platform}:kudos:41",
                kind="post",
                target="#kudos",
                message={"text": "k", "blocks": []},
                now=now,
                platform=platform,
            )
        teams = outbox.due(session, now=now, platform="teams")
        everything = outbox.due(session, now=now)
    assert [(i.key, i.platform) for i in teams] == [("teams:kudos:41", "teams")]
    assert {i.platform for i in everything} == {"slack", "teams"}


# ---- claims (exactly-once delivery, bot.core.delivery)


def claim(engine: Engine, key: str, token: str, at: Any) -> bool:
    with session_scope(engine) as session:
        return outbox.claim(session, item_id=item(engine, key).id, token=token, at=at)


def test_a_claimed_message_is_nobody_elses_until_its_lease_runs_out(engine: Engine):
    enqueue(engine, "kudos:1")
    assert claim(engine, "kudos:1", "first", nov(2, 10))
    assert not claim(engine, "kudos:1", "second", nov(2, 10))  # a second deliverer: refused
    assert due_keys(engine, nov(2, 10, 4)) == []  # in flight: not due for anyone
    after_lease = nov(2, 10) + outbox.CLAIM_LEASE
    assert due_keys(engine, after_lease) == ["kudos:1"]  # its deliverer died
    assert claim(engine, "kudos:1", "second", after_lease)
    claimed = item(engine, "kudos:1")
    assert (claimed.claim_token, claimed.claimed_at) == ("second", nov(2, 10))  # first try kept
    assert claimed.maybe_delivered


def test_a_sent_message_cannot_be_claimed(engine: Engine):
    enqueue(engine, "kudos:1")
    assert claim(engine, "kudos:1", "token", nov(2, 10))
    with session_scope(engine) as session:
        outbox.mark_sent(session, item_id=item(engine, "kudos:1").id, at=nov(2, 10), ref="C:1")
    assert item(engine, "kudos:1").claim_token is None
    assert not claim(engine, "kudos:1", "again", nov(3, 10))


def test_a_refusal_clears_the_claim_an_unknown_outcome_keeps_it(engine: Engine):
    enqueue(engine, "refused")
    enqueue(engine, "timed-out")
    for key, reached in (("refused", False), ("timed-out", True)):
        assert claim(engine, key, "token", nov(2, 10))
        with session_scope(engine) as session:
            outbox.mark_failed(
                session,
                item_id=item(engine, key).id,
                at=nov(2, 10),
                error="boom",
                retry_at=nov(2, 11),
                reached=reached,
            )
    assert not item(engine, "refused").maybe_delivered  # the platform said no: nothing posted
    assert item(engine, "timed-out").maybe_delivered  # it may be posted: look it up first
    assert due_keys(engine, nov(2, 11)) == ["refused", "timed-out"]  # neither is held


def test_delivery_health_counts_given_up_messages_and_shows_the_latest_error(engine: Engine):
    for key in ("a", "b", "c"):
        enqueue(engine, key)
    with session_scope(engine) as session:
        ids = {key: outbox.get_item(session, key=key).id for key in ("a", "b", "c")}  # type: ignore[union-attr]
        outbox.mark_failed(session, item_id=ids["a"], at=nov(2, 10), error="old", retry_at=None)
        outbox.mark_failed(
            session, item_id=ids["b"], at=nov(2, 11), error="newest", retry_at=nov(2, 12)
        )
        outbox.mark_failed(
            session, item_id=ids["c"], at=nov(2, 12), error="then sent", retry_at=nov(2, 12)
        )
        outbox.mark_sent(session, item_id=ids["c"], at=nov(2, 13), ref="C:1")
        health = outbox.delivery_health(session)
    assert (health.pending, health.dead) == (1, 1)
    assert (health.last_error, health.last_error_at, health.last_error_key) == (
        "newest",
        nov(2, 11),
        "b",
    )
