"""Dagster's SQLite storage, with the event log's engines kept for the storage's life.

Dagster's ``SqliteEventLogStorage`` builds a new SQLAlchemy engine for every connection it opens and disposes of it
afterwards, and opens a connection for every event it stores: about 1,400 events for a refresh of a small tenant,
each written to the run's file, and the asset and check events mirrored to the index file. Building the engine,
connecting, and closing the last connection to a file (SQLite then copies its write-ahead log into the file) took
about 12 of the 53 CPU-seconds of a demo refresh's process (py-spy, docs/testing.md).

This storage keeps what it can for the storage's life, and nothing that changes what other processes see:
- one engine per file, built once (the dialect is set up once, not per event), for the index file and the last runs'
  files used;
- the index file's connections stay open in the engine's pool: nobody watches that file, and each use is still its
  own committed transaction, so the daemon, the UI and other runs see every write as before (while a process keeps
  one open, ``index.db-wal`` stays beside the file; SQLite's automatic checkpoints keep it small);
- a run's file still closes its connection after each use. Dagster's UI follows a run's events by watching that
  file for changes (``SqliteEventLogStorageWatchdog``); in WAL mode the file changes at checkpoints, which closing
  the last connection makes and otherwise come only every 1,000 pages, so an open connection would hide a running
  run's events from the UI.

The files, their tables and their place (``<base_dir>/history/runs``) are Dagster's own: an instance configured with
``storage: sqlite`` reads them unchanged, and back.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from dagster._utils import mkdir_p
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, QueuePool


class KeptEnginesSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with one engine per file for the storage's life (the module says why)."""

    # Run files whose engines are kept, newest used last: a run writes its own file for the run's length, while the
    # daemon and the UI, which live long, read many runs' files once each.
    KEPT_RUN_ENGINES = 16

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # Dagster's returns its own class, not cls
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            if self._engines_pid != os.getpid():
                # A forked child never uses, nor closes, its parent's SQLite connections (SQLAlchemy's advice).
                for inherited in self._engines.values():
                    inherited.dispose(close=False)
                self._engines, self._engines_pid = OrderedDict(), os.getpid()
            engine = self._engines.get(shard)
            if engine is None:
                index = shard == INDEX_SHARD_NAME
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    poolclass=QueuePool if index else NullPool,
                    # The pool hands a connection to one thread at a time; SQLite's own check would refuse a
                    # connection opened on another thread (the event watcher's).
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": not index},
                )
                self._engines[shard] = engine
                # Only a new engine can take the kept run engines past their bound: not looked at on every event.
                run_shards = [name for name in self._engines if name != INDEX_SHARD_NAME]
                for oldest in run_shards[: -self.KEPT_RUN_ENGINES]:
                    self._engines.pop(oldest).dispose()  # holds no connection (NullPool): nothing in use is closed
            self._engines.move_to_end(shard)
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # Called inside index transactions too (Dagster's asset tags), so it takes a connection of its own from
        # the pool and not the storage's lock.
        engine = self._engine(INDEX_SHARD_NAME)
        with engine.connect() as conn:
            return bool(engine.dialect.has_table(conn, table_name))

    def dispose(self) -> None:
        super().dispose()  # first: it stops the watcher, whose callbacks could build an engine again
        with self._engines_lock:
            engines, self._engines = self._engines, OrderedDict()
            inherited = self._engines_pid != os.getpid()
        for engine in engines.values():
            engine.dispose(close=not inherited)  # a forked child never closes its parent's connections


class PimlensSqliteStorage(DagsterSqliteStorage):
    """Dagster's ``storage: sqlite`` (same folders, same files) with the event log above. dagster.yaml names it as
    ``storage: custom``."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self.base_dir = base_dir
        self._run_storage = SqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = KeptEnginesSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # Dagster's returns its own class, not cls
        mkdir_p(config_value["base_dir"])
        return cls(config_value["base_dir"], inst_data=inst_data)
