"""Group commit: the polls that finish while one commit runs go together in the next one.

A commit waits for the disk (SQLite syncs its log on each), and a tick of thousands of
sources, most answering 304, would otherwise spend its time there. Each poll hands over its
writes as a function of the batch; the queue runs them in order in one transaction, one batch at
a time, so no two polls' writes interleave. When a batch fails, every poll in it is retried in a
transaction of its own, so one source's bad write fails that source only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from monitor.store.polls import PollBatch
    from monitor.store.repository import Store

T = TypeVar("T")
# A batch holds the database's write lock while it runs, and other writers (a CLI command, a
# second daemon on PostgreSQL) wait for it: about this many articles, or polls, at most.
MAX_BATCH = 200
_Work = Callable[["PollBatch"], Any]
_Item = tuple[_Work, "asyncio.Future[Any]", int]


class CommitQueue:
    """Runs the writes handed to `commit` in shared transactions of at most `max_batch`
    weight each (a poll weighs one plus the articles it writes), and at least one poll.

    `begin` is called in the writing thread before each transaction and returns what undoes the
    in-memory effects of the writes (the story index) if it rolls back.
    """

    def __init__(
        self,
        store: Store,
        *,
        begin: Callable[[], Callable[[], None]] = lambda: lambda: None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.store = store
        self.begin = begin
        self.max_batch = max_batch
        self.transactions = 0
        self._pending: list[_Item] = []
        self._runner: asyncio.Task[None] | None = None

    async def commit(self, work: Callable[[PollBatch], T], *, weight: int = 1) -> T:
        """What `work` returned once its transaction committed; raises what it raised."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((work, future, weight))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        # The writes go on if the poll is cancelled: a half-done poll is committed or not at all.
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while self._pending:
            size, total = 0, 0
            while size < len(self._pending) and (
                size == 0 or total + self._pending[size][2] <= self.max_batch
            ):
                total += self._pending[size][2]
                size += 1
            batch = self._pending[:size]
            del self._pending[:size]
            try:
                results = await asyncio.to_thread(self._write, batch)
            except Exception as exc:  # the queue must answer every poll, whatever failed
                results = [(False, exc)] * len(batch)
            for (_, future, _), (ok, value) in zip(batch, results, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def _write(self, batch: list[_Item]) -> list[tuple[bool, Any]]:
        undo = self.begin()
        try:
            with self.store.batch() as tx:
                results = [(True, work(tx)) for work, _, _ in batch]
            self.transactions += 1
            return results
        except Exception as exc:
            undo()
            if len(batch) == 1:
                return [(False, exc)]
        return [self._write([item])[0] for item in batch]

    async def aclose(self) -> None:
        """Wait for the writes handed over so far."""
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await self._runner
