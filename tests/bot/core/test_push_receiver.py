"""``bot.core.push.PushReceiver`` as a plain object over a fake ``PushVerifier``: what the
PSA's verifier refuses is answered with its status; a verified ticket change is checked for
freshness and replays, queued once however often it comes, and synced on the worker thread;
a sync that fails is logged, never raised."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.push import MAX_BODY, STALE_AFTER, Outcome, PushReceiver
from psa.port import PsaError, Push, PushRejected

NOW = datetime(2026, 11, 13, 23, 0, tzinfo=UTC)


class FakeVerifier:
    """Reads ``action kind id minutes-ago`` from the body; ``bad`` is refused with 401."""

    def __init__(self) -> None:
        self.calls = 0

    def verify(self, headers: Mapping[str, str], body: bytes) -> Push:
        self.calls += 1
        if headers.get("signature") != "good":
            raise PushRejected(401, "the signature does not match")
        action, kind, record_id, ago = body.decode().split()
        changed_at = None if ago == "-" else NOW - timedelta(minutes=int(ago))
        return Push(int(record_id), action, kind, changed_at)


class Receiver:
    def __init__(self) -> None:
        self.verifier = FakeVerifier()
        self.synced: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail_with: Exception | None = None

        def sync(ticket_id: int) -> str:
            self.gate.wait(5)
            if self.fail_with is not None:
                raise self.fail_with
            self.synced.append(ticket_id)
            return f"ticket {ticket_id}: stored"

        self.receiver = PushReceiver(
            verifier=self.verifier, sync_ticket=sync, clock=lambda: NOW, source="Fake PSA"
        )

    def post(self, body: str, signature: str = "good") -> Outcome:
        return self.receiver.handle({"signature": signature}, body.encode())


@pytest.fixture
def fake() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.receiver.close()


def test_refusals_answer_with_the_verifiers_status_and_sync_nothing(fake, caplog):
    caplog.set_level(logging.WARNING)
    assert fake.post("updated ticket 5 1", signature="bad") == Outcome(
        401, "the signature does not match"
    )
    assert "Fake PSA callback refused (401): the signature does not match" in caplog.text
    too_large = fake.receiver.handle({"signature": "good"}, b"x" * (MAX_BODY + 1))
    assert too_large == Outcome(413, "the body is too large")
    assert fake.verifier.calls == 1  # a body too large never reaches the verifier
    minutes = int(STALE_AFTER.total_seconds() // 60) + 1
    assert fake.post(f"updated ticket 5 {minutes}") == Outcome(
        403, "stale: the change is not recent"
    )
    assert fake.post(f"updated ticket 5 -{minutes}").status == 403  # from the future
    assert fake.post("updated ticket 5 -").status == 400  # no time of change
    fake.receiver.join()
    assert fake.synced == []


def test_deleted_and_other_kinds_are_acknowledged_and_ignored(fake):
    assert fake.post("deleted ticket 5 1") == Outcome(200, "ignored")
    assert fake.post("updated company 9 -") == Outcome(200, "ignored")
    fake.receiver.join()
    assert fake.synced == []


def test_a_change_is_queued_once_and_a_replay_refused(fake):
    fake.gate.clear()  # the worker holds the first ticket while more arrive
    assert fake.post("updated ticket 5 1") == Outcome(200, "queued")
    assert fake.post("added ticket 6 1").ok
    assert fake.post("updated ticket 6 2").ok  # another body, the same ticket: queued once
    replay = fake.post("updated ticket 5 1")
    assert replay == Outcome(403, "replayed: this callback was already accepted")
    fake.gate.set()
    fake.receiver.join()
    assert sorted(fake.synced) == [5, 6]
    assert len(fake.synced) == 2


def test_a_failed_sync_is_logged_and_the_worker_goes_on(fake, caplog):
    caplog.set_level(logging.WARNING)
    fake.fail_with = PsaError("the PSA is down")
    assert fake.post("updated ticket 5 1").ok
    fake.receiver.join()
    assert "callback sync of ticket 5 failed, the poll catches up: the PSA is down" in caplog.text
    fake.fail_with = None
    assert fake.post("updated ticket 7 1").ok
    fake.receiver.join()
    assert fake.synced == [7]
