"""``psa.connectwise.simulator.bulk.generate_records``: the benchmarks' fast ticket generator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from psa.connectwise.simulator.bulk import generate_records

START = datetime(2025, 1, 1, 6, tzinfo=UTC)
END = datetime(2025, 7, 1, 5, tzinfo=UTC)


def _batches(seed: int = 3, tickets: int = 2000, **options: object) -> list[list]:
    return list(
        generate_records(seed=seed, tickets=tickets, start=START, end=END, batch=500, **options)
    )


def test_same_seed_same_records_and_another_seed_others():
    assert _batches() == _batches()
    assert _batches() != _batches(seed=4)


def test_exactly_the_tickets_asked_for_each_once_per_batch_entered_in_the_period():
    batches = _batches(members=20)
    records = [r for batch in batches for r in batch]
    assert len({r.id for r in records}) == 2000
    for batch in batches:
        assert len({r.id for r in batch}) == len(batch)  # one version per ticket per batch
    first_seen = {}
    for r in records:
        first_seen.setdefault(r.id, r)
    entered = [first_seen[i].entered_at for i in sorted(first_seen)]
    assert entered == sorted(entered)  # ids ascend with entry time
    assert entered[0] >= START
    assert entered[-1] < END
    # 20 members: the dispatcher and Tech001..Tech019, in any letter case.
    people = {k for r in records for k in (r.resolver_key, r.responder_key) if k is not None}
    assert people <= {"dispatch", *(f"tech{n:03d}" for n in range(1, 20))}


def test_a_reopened_ticket_comes_resolved_then_reopened_in_later_batches():
    versions: dict[int, list[tuple[int, str | None, bool]]] = {}
    for number, batch in enumerate(_batches(tickets=3000)):
        for r in batch:
            versions.setdefault(r.id, []).append((number, r.status, r.resolver is not None))
    reopened = [v for v in versions.values() if any(s == "Re-opened" for _, s, _ in v)]
    assert reopened  # 4.5% of non-alert tickets are reopened
    for seen in reopened:
        batch_numbers = [number for number, _, _ in seen]
        assert batch_numbers == sorted(set(batch_numbers))  # each version in a later batch
        assert seen[0][1:] == (">Resolved", True)  # first: resolved, with a resolver
        assert seen[1][1:] == ("Re-opened", False)  # then open again, no resolver


def test_shares_look_like_the_simulator():
    records = {r.id: r for batch in _batches(tickets=4000) for r in batch}.values()
    share = lambda test: sum(1 for r in records if test(r)) / len(records)  # noqa: E731
    assert 0.80 < share(lambda r: r.resolver is not None) < 0.99
    assert 0.78 < share(lambda r: bool(r.type and r.subtype and r.item)) < 0.90
    assert 0.02 < share(lambda r: r.company in (None, "Catchall")) < 0.08
    assert 0.10 < share(lambda r: r.board == "Alerts") < 0.40


@pytest.mark.parametrize(
    ("bad", "message"),
    [({"members": 1}, "members"), ({"batch": 0}, "batch"), ({"tickets": -1}, "tickets")],
)
def test_bad_arguments_are_refused(bad, message):
    options = {"tickets": 10, **bad}
    with pytest.raises(ValueError, match=message):
        list(generate_records(seed=1, start=START, end=END, **options))
