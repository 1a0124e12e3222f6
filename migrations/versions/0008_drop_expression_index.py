"""Drop 0006's search expression index once every row has its stored search vector (0007): from
then on searches read `documents.search_vector` only, and every insert computed the words twice,
once for each index.

Where the `rollup_state` row `search_vector` is not there yet (a database that had rows before
0007), the index stays until `finsent db backfill-rollups` has filled the older rows and drops it.
Safe on a populated table: the drop is CONCURRENT, so writes go on.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_documents_search"  # 0006's


def upgrade() -> None:
    stored = op.get_bind().scalar(
        sa.text("select count(*) from rollup_state where name = 'search_vector'")
    )
    if stored:
        with op.get_context().autocommit_block():
            op.drop_index(INDEX, "documents", postgresql_concurrently=True, if_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        # A failed CONCURRENTLY build leaves an invalid index; drop it so a rerun builds anew.
        valid = op.get_bind().scalar(
            sa.text("select indisvalid from pg_index where indexrelid = to_regclass(:name)"),
            {"name": INDEX},
        )
        if valid is False:
            op.drop_index(INDEX, "documents", postgresql_concurrently=True)
        op.execute(
            f"create index concurrently if not exists {INDEX} on documents "
            "using gin (documents_search_vector(headline, tickers))"
        )
