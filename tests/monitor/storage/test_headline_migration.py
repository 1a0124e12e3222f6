"""Migration 0006 on a populated table: indexes built concurrently, valid, used; and undone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from migrations import alembic_config
from monitor.storage.settings import MonitorSettings

pytestmark = pytest.mark.integration

BEFORE = "0004"  # the revision 0006 follows
ROWS = 500
_INSERT = text(
    """
    insert into documents (id, published_at, source, headline, tickers, topic_id, topic,
        topic_confidence, sentiment, p_negative, p_neutral, p_positive, score, model)
    select 'd' || g, timestamptz '2026-05-04 12:00+00' - g * interval '1 minute', 'wire',
        case when g % 10 = 0 then 'Bank cuts guidance' else 'Markets drift ' || g end,
        case when g % 25 = 0 then array['ACME'] else '{}'::text[] end,
        0, 'Markets', 0.9, 'neutral', 0.1, 0.8, 0.1, 0.0, 'm 1'
    from generate_series(1, :rows) g
    """
)
_INDEXES = text(
    """
    select c.relname, i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid
    where i.indrelid = 'documents'::regclass
    """
)
_SEARCH = text(
    "select count(*) from documents "
    "where documents_search_vector(headline, tickers) @@ websearch_to_tsquery('english', :q)"
)


def test_upgrade_and_downgrade_keep_rows_and_swap_indexes(
    make_database: Callable[..., MonitorSettings],
) -> None:
    settings = make_database(migrate=False)
    config = alembic_config(settings)
    command.upgrade(config, BEFORE)
    engine = create_engine(settings.sqlalchemy_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(_INSERT, {"rows": ROWS})

        command.upgrade(config, "0006")
        with engine.connect() as conn:
            indexes = {name: valid for name, valid in conn.execute(_INDEXES)}
            assert indexes["ix_documents_search"] and indexes["ix_documents_published_at_id"]
            assert "ix_documents_published_at" not in indexes
            assert conn.execute(_SEARCH, {"q": "cut guidance"}).scalar() == ROWS // 10
            assert conn.execute(_SEARCH, {"q": "$acme"}).scalar() == ROWS // 25

        command.downgrade(config, BEFORE)
        with engine.connect() as conn:
            indexes = {name: valid for name, valid in conn.execute(_INDEXES)}
            assert indexes["ix_documents_published_at"]
            assert not {"ix_documents_search", "ix_documents_published_at_id"} & set(indexes)
            exists = "select count(*) from pg_proc where proname = 'documents_search_vector'"
            assert conn.execute(text(exists)).scalar() == 0
            assert conn.execute(text("select count(*) from documents")).scalar() == ROWS

        command.upgrade(config, "0006")  # and again, as a rerun after a rollback would
        with engine.connect() as conn:
            assert conn.execute(_SEARCH, {"q": "guidance"}).scalar() == ROWS // 10
    finally:
        engine.dispose()
