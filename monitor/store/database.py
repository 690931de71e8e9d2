"""Opening the database: engines with safe SQLite settings, migrations, the single-daemon lock."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from monitor.core.errors import StoreError, StoreLockedError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)
_MIGRATIONS = Path(__file__).with_name("migrations")
READ_ONLY = "newsmonitor_read_only"
# Prepared statements each pooled SQLite connection keeps (sqlite3's default: 128). Each length
# of an IN list or a multi-row insert is a statement of its own, 10-80 KB, and in a soak every
# connection of the pool went on adding them for half an hour: 12 x 128 of them is some 40 MB.
# A statement prepared again costs some 30 us.
STATEMENTS_KEPT = 32


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(url: str, *, for_migrations: bool = False) -> Engine:
    """An engine; on SQLite: WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for writes."""
    path = sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the database directory {path.parent}: {exc}") from exc
    kwargs: dict[str, Any] = {}
    if make_url(url).get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
    elif path is not None:
        # Room for every thread of the daemon's executor: a connection beyond the pool is
        # opened and closed per use, and starts with an empty page cache each time.
        kwargs["pool_size"] = 12
        kwargs["connect_args"] = {"cached_statements": STATEMENTS_KEPT}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _sqlite_hooks(engine, migrations=for_migrations)
        _TURNS[engine] = WriteTurns()
    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes; on SQLite it begins once this process's writers that asked
    first are done (see WriteTurns). PostgreSQL writers lock rows and need no turns."""
    turns = _TURNS.get(engine)
    turn: AbstractContextManager[None] = turns.turn() if turns else nullcontext()
    with turn, engine.begin() as conn:
        yield conn


def _sqlite_hooks(engine: Engine, *, migrations: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin hook emit BEGIN itself; pysqlite's implicit BEGIN is deferred.
        dbapi_conn.isolation_level = None
        pragmas = ["busy_timeout=10000"]
        if migrations:
            # auto_vacuum only takes on a new file (before its first table or the switch to
            # WAL), which migrations create; older files are converted once by retention
            # (store/retention.py), so deleted rows can give space back. Setting it takes the
            # write lock, which a connection opened while polls commit should not wait for.
            pragmas.append("auto_vacuum=INCREMENTAL")
        pragmas += ["journal_mode=WAL", "synchronous=FULL"]
        # A batch table rebuild with foreign keys on cascade-deletes child rows, so migrations
        # run with them off.
        pragmas.append(f"foreign_keys={'OFF' if migrations else 'ON'}")
        cursor = dbapi_conn.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that later writes fails at once with "database is locked";
        # IMMEDIATE waits for the write lock under busy_timeout instead.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class WriteTurns:
    """Hands a SQLite file's write lock to this process's writers in the order they asked.

    SQLite has no queue: a writer that finds the lock taken sleeps in its busy handler (1 ms
    at first, then up to 100 ms) and tries again. Poll commits follow one another with a gap
    far shorter than that, so a delivery marking an alert sent could wait for the whole stream
    of them. Other processes still meet the busy handler.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._owner: int | None = None
        self._depth = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the turn (a thread that holds it already goes on)."""
        me = threading.get_ident()
        with self._guard:
            if self._owner == me:
                self._depth += 1
                handoff = None
            elif self._owner is None:
                self._owner, self._depth = me, 1
                handoff = None
            else:
                handoff = threading.Lock()
                handoff.acquire()
                self._waiting.append(handoff)
        if handoff is not None:
            self._wait(handoff, me)
        try:
            yield
        finally:
            self._release()

    def _wait(self, handoff: threading.Lock, me: int) -> None:
        try:
            handoff.acquire()  # released by the holder that hands the turn over
        except BaseException:
            with self._guard:
                if handoff in self._waiting:
                    self._waiting.remove(handoff)
                    raise
                self._owner, self._depth = me, 1
            # Handed over just as the wait was interrupted: pass it on.
            self._release()
            raise
        with self._guard:
            self._owner, self._depth = me, 1

    def _release(self) -> None:
        with self._guard:
            self._depth -= 1
            if self._depth:
                return
            self._owner = None
            if self._waiting:
                # The next waiter becomes the owner before anyone else can take it.
                self._owner = -1
                self._waiting.popleft().release()


_TURNS: weakref.WeakKeyDictionary[Engine, WriteTurns] = weakref.WeakKeyDictionary()


def _alembic_config() -> Config:
    # Alembic and its templates take a fifth of a second to import: loaded only to upgrade or
    # to judge a revision other than the newest (see migrate).
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


# Fixed 64-bit numbers: daemons sharing one PostgreSQL database take these steps in turn.
MIGRATION_LOCK = 0x6E6577736D6F6E  # "newsmon"
SYNC_LOCK = MIGRATION_LOCK + 1


def in_turn(conn: Connection, key: int) -> None:
    """On PostgreSQL, wait until no other transaction holds `key`, and hold it until the end
    of this one; SQLite's write lock already serializes writers."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def migrate(url: str) -> None:
    """Bring the database to the newest schema; refuse one written by a newer newsmonitor.

    A database at the newest schema is told by one read, without the write lock or alembic.
    Otherwise the check and the upgrade run in one write transaction, on PostgreSQL under an
    advisory lock, so daemons started together upgrade one after the other: the first creates
    the tables, the others wait for it, then find the schema at its head.
    """
    engine = make_engine(url, for_migrations=True)
    try:
        with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            if stored_revision(conn) == head_revision():
                return
        with engine.begin() as conn:
            in_turn(conn, MIGRATION_LOCK)
            _upgrade(conn)
    except StoreError:
        raise
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"cannot migrate the database: {exc}") from exc
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest schema revision: each migration's file is named after its revision, and
    revisions count up."""
    return max(p.name.split("_", 1)[0] for p in _MIGRATIONS.glob("versions/[0-9]*_*.py"))


def stored_revision(conn: Connection) -> str | None:
    """The schema revision the database is at; None for one without a schema."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


def _current(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    current = MigrationContext.configure(conn).get_current_revision()
    if current is not None and not _known(_scripts(), current):
        raise StoreError(
            f"the database is at schema revision {current}, which this newsmonitor does "
            "not know: it was written by a newer version; upgrade newsmonitor"
        )
    return current


def _upgrade(conn: Connection) -> None:
    head = head_revision()
    if _current(conn) == head:
        return
    from alembic import command

    log.info("upgrading the database schema to %s", head)
    cfg = _alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    from alembic.util.exc import CommandError

    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


class DaemonLock:
    """An OS lock beside a SQLite file, so two daemons never share one database."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise StoreLockedError naming the holder."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+")  # noqa: SIM115 - held open for the life of the process
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {self.path}: {exc}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise StoreLockedError(
                f"another newsmonitor process (pid {holder}) is already using "
                f"{self.path.with_suffix('')}; stop it first, or give this one another database"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Drop the lock."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
