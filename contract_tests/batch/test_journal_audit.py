"""The journal's audit log, whatever two writers interleave (two runners on one journal whose
lock did not hold): no prediction id is lost, an attempt that got one is never called "not
created" (or "not found"), an input that has one is never queued again."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from replicate_typed.batch import Journal
from replicate_typed.batch.journal import StateConflict

KEY = "f" * 64
PAID = {"created", "reconciled"}
# each step: a writer and a choice among the transitions the runner could make at that moment
STEPS = st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 5)), max_size=10)
# the race of two runners without a lock, step by step (A's create overtaken by B's reconcile)
RACE = [("a", 0), ("b", 2), ("b", 0), ("a", 0), ("b", 1)]


def legal(journal: Journal) -> list[str]:
    """What the runner may do now with this journal object (see ``runner._Runner``)."""
    entry = journal.get(KEY)
    assert entry is not None
    if KEY in journal._mine:  # its own create was sent: the answer comes in
        moves = ["created", "not created", "unknown"]
    else:
        moves = ["create"]
    if entry.state == "creating":  # its own unknown create, or one another runner left
        moves += ["found", "not found", "requeue"]
    if entry.state == "created":
        moves.append("finish")
    return moves


@settings(max_examples=50, deadline=None)
@example(steps=RACE)
@example(steps=[("a", 0), ("b", 1), ("b", 0), ("a", 0), ("b", 0)])
@given(steps=STEPS)
def test_no_interleaving_of_two_writers_loses_or_mislabels_a_prediction(
    steps: list[tuple[str, int]],
) -> None:
    ids = (f"pred{i}" for i in itertools.count())
    paid: dict[str, str] = {}  # attempt marker -> the prediction that attempt created
    kept: str | None = None  # the input's prediction, once it has one
    with tempfile.TemporaryDirectory() as tmp:
        writers = {name: Journal.in_dir(Path(tmp)) for name in "ab"}
        writers["a"].add(KEY, 1, "owner/model")
        try:
            for name, choice in steps:
                journal = writers[name]
                moves = legal(journal)
                move = moves[choice % len(moves)]
                entry = journal.get(KEY)
                assert entry is not None
                if move == "create":
                    try:  # what the runner does before it sends a create
                        journal.mark_creating(KEY)
                    except StateConflict as conflict:
                        assert conflict.state not in ("queued", "creating")
                elif move in ("created", "found"):
                    # its own attempt, or (reconciling) the one the row names
                    marker = journal._mine.get(KEY) or entry.attempt
                    assert marker is not None
                    paid[marker] = pid = next(ids)
                    how = "created" if move == "created" else "reconciled"
                    journal.mark_created(KEY, pid, how=how)
                elif move == "not created":
                    journal.mark_not_created(KEY, "HTTP 503 before creating")
                elif move == "unknown":
                    journal.note_unknown(KEY, "read timeout after sending")
                elif move == "requeue":
                    journal.requeue_unknown(KEY, "no list; --recreate-unknown")
                elif move == "not found":
                    journal.mark_not_found(KEY, "not in the list")
                else:
                    journal.mark_finished(KEY, "succeeded", ["https://x/y.png"])
                kept = check(writers["a"], paid, kept)
        finally:
            for journal in writers.values():
                journal.close()


def check(journal: Journal, paid: dict[str, str], kept: str | None) -> str | None:
    assert set(paid.values()) <= journal.known_prediction_ids()  # none lost
    rows = {marker: (outcome, pid) for marker, _, outcome, pid in journal.attempts(KEY)}
    for marker, created in paid.items():  # each on the attempt that created it, called paid
        assert rows[marker][1] == created and rows[marker][0] in PAID, (rows[marker], created)
    for outcome, pid in rows.values():
        if pid is not None:
            assert outcome in PAID, (outcome, pid)
    entry = journal.get(KEY)
    assert entry is not None
    if entry.prediction_id is not None:
        assert entry.state not in ("queued", "creating", "rejected"), entry
    if kept is not None:  # the input keeps its first prediction (and never moves back)
        assert entry.prediction_id == kept, (entry.prediction_id, kept)
    return entry.prediction_id
