"""What the demo prepares before it starts processes: the database, the rules, the environment."""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from pydantic import PostgresDsn
from sqlalchemy.engine import make_url

from finsent.postgres import PrivateCluster
from migrations import alembic_config
from monitor.exceptions import DatabaseUnavailable
from monitor.storage.db import ensure_database
from monitor.storage.settings import MonitorSettings
from stream.broker import free_port
from stream.settings import KAFKA_SECURITY_ENV

DATABASE = "finsent"

# One-minute windows judged every minute against the last half hour, so the scripted burst fires
# as soon as its first minute closes. The shipped rules (monitor/alerting/default_rules.toml) use
# three-minute windows and eight hours of history. The burst puts about 26r of r items/s on its
# ticker and topic, all negative, where a minute usually holds about 3.6r and 3r items with a
# fifth of them negative: overwhelming evidence, so the budget can be strict enough that the
# thirty series watched over a few minutes of noise never fire (a false alarm per 10,000
# series-days), and a negative share up by 0.3 is asked for besides.
DEMO_RULE = """
[[rules]]
name = "{scope}-negative-share"
scope = "{scope}"
window_minutes = 1
baseline_windows = 30
min_baseline_windows = 5
false_alarms_per_100_days = 0.01
min_delta = 0.3
min_volume = {min_volume}
cooldown_minutes = 10
resolve_threshold = 1.5
resolve_windows = 2
"""
DEMO_RULES_HEADER = (
    "# Written by `finsent demo` on each run; for real use copy "
    "monitor/alerting/default_rules.toml.\n"
)


@dataclass(frozen=True, slots=True)
class Database:
    """Where the demo's data lives; `cluster` is set when the demo started the server itself."""

    settings: MonitorSettings
    cluster: PrivateCluster | None


def configured_database() -> MonitorSettings | None:
    """The user's FINSENT_DATABASE_URL (environment or .env), or None when it is not set."""
    settings = MonitorSettings()
    return settings if "database_url" in settings.model_fields_set else None


def start_embedded_database(data_dir: Path) -> Database:
    """A private PostgreSQL cluster in `data_dir/pg`, created on first use and reused after."""
    pg_dir = data_dir.resolve() / "pg"
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        _check_reachable(pg_dir.parent)
    cluster = PrivateCluster(pg_dir, free_port())
    if (pg_dir / "postmaster.pid").exists():
        _stop_stale(cluster)
    cluster.start()
    url = make_url(cluster.url).set(database=DATABASE).render_as_string(hide_password=False)
    return Database(MonitorSettings(database_url=PostgresDsn(url)), cluster)


def _check_reachable(folder: Path) -> None:
    """As root the server runs as `postgres`, which must be able to enter every parent folder."""
    for parent in (folder, *folder.parents):
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise DatabaseUnavailable(
                f"the postgres user cannot enter {parent}: choose a --data-dir outside it "
                "(e.g. /var/tmp/finsent-demo) or set FINSENT_DATABASE_URL"
            )


def _stop_stale(cluster: PrivateCluster) -> None:
    """A server left running by a demo that was killed: stop it (or clear its stale pid file)."""
    try:
        cluster.stop()
    except DatabaseUnavailable:
        (cluster.data_dir / "postmaster.pid").unlink(missing_ok=True)


def migrate(settings: MonitorSettings) -> None:
    """Create the database if needed and bring its schema to the newest revision."""
    ensure_database(settings)
    command.upgrade(alembic_config(settings), "head")


def write_rules(data_dir: Path, rate: float) -> Path:
    """The demo's rules for a feed of `rate` items per second, in `data_dir/demo-rules.toml`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "demo-rules.toml"
    min_volume = max(10, round(10 * rate))
    rules = (DEMO_RULE.format(scope=scope, min_volume=min_volume) for scope in ("topic", "ticker"))
    path.write_text(DEMO_RULES_HEADER + "".join(rules), encoding="utf-8")
    return path


def new_webhook_secret() -> str:
    """A fresh Standard Webhooks secret for this run only (never printed)."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def child_env(
    *, bootstrap: str, database_url: str, webhook_url: str, secret: str, rules: Path
) -> dict[str, str]:
    """The environment every demo process shares: loopback services, fast alert evaluation."""
    env = dict(os.environ)
    env.update(
        FINSENT_KAFKA_BOOTSTRAP=bootstrap,
        FINSENT_DATABASE_URL=database_url,
        FINSENT_WEBHOOK_URLS=webhook_url,
        FINSENT_WEBHOOK_SECRET=secret,
        FINSENT_RULES=str(rules),
        FINSENT_ALERT_INTERVAL_S="2",
        # The watermark is the newest item anywhere; a worker partition running behind on a busy
        # machine must still land its items before their minute is judged (5 s was too little
        # once in 10 runs under load: the ticker's first burst minute was judged half full).
        FINSENT_ALERT_LATENESS_S="15",
        FINSENT_TOPIC_PARTITIONS="2",
        FINSENT_SESSION_TIMEOUT_MS="6000",
        FINSENT_METRICS_PORT="0",
        FINSENT_ALERTER_METRICS_PORT="0",
        PYTHONUNBUFFERED="1",
    )
    env.pop("FINSENT_DASHBOARD_DATABASE_URL", None)
    # The embedded broker speaks plain text: a managed cluster's TLS and SASL settings (from the
    # environment or .env, which empty values override) must not follow the demo to it.
    env.update(dict.fromkeys(KAFKA_SECURITY_ENV, ""), FINSENT_KAFKA_SECURITY_PROTOCOL="PLAINTEXT")
    return env
