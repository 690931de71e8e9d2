"""Writers of one daemon take the database's write lock in turn.

While polls commit batch after batch, a delivery that wants to mark an alert sent must get in
after the batch that holds the lock, not whenever SQLite's busy handler happens to wake in the
gap between two batches: that gap is shorter than its shortest sleep.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection

from monitor.store.database import WriteTurns, write_transaction
from monitor.store.repository import Store

BATCH_SECONDS = 0.02
MAX_BATCHES = 250  # five seconds of back-to-back batches, far below the 10 s busy timeout


# SQLite only: write turns share SQLite's single write lock; PostgreSQL writers lock rows.
@pytest.mark.parametrize("stream", ["poll batches", "retention or indexing batches"])
def test_a_write_waits_for_the_batch_in_hand_not_for_the_stream_to_end(
    sqlite_url: str, stream: str
) -> None:
    store = Store.open(sqlite_url)

    @contextmanager
    def begin() -> Iterator[Connection]:
        if stream == "poll batches":
            with store.batch() as tx:
                yield tx.conn
        else:  # what retention and the search index use
            with write_transaction(store.engine) as conn:
                yield conn

    batches = 0
    started, stop = threading.Event(), threading.Event()

    def commit_stream() -> None:
        nonlocal batches
        while not stop.is_set() and batches < MAX_BATCHES:
            with begin() as conn:
                conn.exec_driver_sql("UPDATE sources SET title = title")
                started.set()
                time.sleep(BATCH_SECONDS)
            batches += 1

    stream = threading.Thread(target=commit_stream)
    stream.start()
    try:
        assert started.wait(5)
        passed = []
        for _ in range(5):
            before = batches
            store.release_leases()
            passed.append(batches - before)
        # The batch in hand, and at most one more begun before this write asked.
        assert max(passed) <= 2, passed
    finally:
        stop.set()
        stream.join()
        store.close()


class Interrupted(Exception):
    pass


def test_a_writer_interrupted_while_waiting_leaves_the_turns_working() -> None:
    """Ctrl-C on a command waiting for its turn must not leave a turn nobody takes."""
    turns = WriteTurns()
    holding, done = threading.Event(), threading.Event()

    def holder() -> None:
        with turns.turn():
            holding.set()
            done.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(5)

    def interrupt(_signum: int, _frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with pytest.raises(Interrupted), turns.turn():
            pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    done.set()
    thread.join()
    taken = threading.Event()

    def taker() -> None:
        with turns.turn():
            taken.set()

    late = threading.Thread(target=taker, daemon=True)
    late.start()
    assert taken.wait(5)
