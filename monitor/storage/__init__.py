"""Storage: the schema, engines and sessions, idempotent ingest, rollups, and the read-only
query API (`queries`, `alert_queries`, `records`) that the dashboard and the CLI read through."""
