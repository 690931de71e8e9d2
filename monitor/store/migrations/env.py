"""Alembic environment: runs on the connection newsmonitor hands in, inside its transaction."""

from __future__ import annotations

from alembic import context

from monitor.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    # Our engine emits BEGIN itself, so a failed migration rolls back whole on SQLite too.
    transactional_ddl=True,
    compare_server_default=True,
)
context.run_migrations()
