"""Dagster's SQLite event log, kept open between events.

Dagster's `SqliteEventLogStorage` creates an engine, opens the shard's file, commits with a full sync and closes
the file for every event it stores; closing the last connection of a WAL database checkpoints it (another
sync). A quarterly refresh stores a few hundred events (one per dbt model and test), so at province scale
that bookkeeping took longer than the dbt models themselves. This subclass keeps one engine per recently used
shard, so connections stay open between events, and commits with `synchronous=NORMAL`: in WAL mode a commit
is then atomic and consistent but not synced to disk at once (a power cut can lose the last events, never
corrupt the file). Everything else is Dagster's own storage, in the same files.

Home folders created by `Home.ensure` select it in `dagster.yaml`:

    event_log_storage:
      module: pipelines.dagster_storage
      class: LocalSqliteEventLogStorage
      config:
        base_dir: history/runs   # relative to DAGSTER_HOME (<home>/dagster)
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# Shards whose engines stay open: the index and the runs being written or read right now.
OPEN_SHARDS = 8


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("pragma synchronous = normal")
    cursor.close()


class LocalSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with engines reused across events and WAL commits without a sync each."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        # A relative base_dir is read against the instance's DAGSTER_HOME, so a copied or moved home keeps
        # its history inside itself and never writes into the original.
        if not os.path.isabs(base_dir) and os.environ.get("DAGSTER_HOME"):
            base_dir = os.path.join(os.environ["DAGSTER_HOME"], base_dir)
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,
                          config_value: Mapping[str, Any]) -> LocalSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=4,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            db.event.listen(engine, "connect", _pragmas)
            self._engines[shard] = engine
            while len(self._engines) > OPEN_SHARDS:
                _, oldest = self._engines.popitem(last=False)
                oldest.dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:  # type: ignore[override]
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _dispose_engines(self) -> None:
        with self._engines_lock:
            while self._engines:
                _, engine = self._engines.popitem()
                engine.dispose()

    def wipe(self) -> None:
        # Files are deleted: no engine may hold them open.
        self._dispose_engines()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
