"""Every table finsent keeps, in one metadata: what Alembic compares and the grants enumerate."""

from __future__ import annotations

from sqlalchemy import MetaData

import monitor.storage.rollup_models  # noqa: F401 - defines the rollup tables on `Base`
from monitor.storage.models import Base

METADATA: MetaData = Base.metadata
