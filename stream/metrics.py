"""Prometheus metrics of the worker, in the default registry; `finsent worker` serves them with
/healthz and /readyz (finsent.observability) on FINSENT_METRICS_ADDRESS:FINSENT_METRICS_PORT."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ITEMS_IN = Counter("finsent_items_in_total", "Records consumed from news.raw")
ITEMS_SCORED = Counter("finsent_items_scored_total", "Valid items scored")
ITEMS_NEW = Counter("finsent_documents_new_total", "Documents stored for the first time")
ITEMS_REJECTED = Counter("finsent_items_rejected_total", "Records sent to news.dlq", ["reason"])
BATCH_SIZE = Histogram(
    "finsent_batch_size", "Records per batch", buckets=(1, 8, 32, 128, 512, 2048, 8192)
)
SCORING_SECONDS = Histogram("finsent_scoring_seconds", "Model time per batch")
DATABASE_SECONDS = Histogram("finsent_database_seconds", "Transaction time per batch")
DATABASE_RETRIES = Counter("finsent_database_retries_total", "Batch writes retried")
INGEST_TO_COMMIT = Histogram(
    "finsent_ingest_to_commit_seconds",
    "From a record's Kafka timestamp to its offset commit",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
PIPELINE_DEPTH = Gauge(
    "finsent_pipeline_depth",
    "Batches fetched and not yet committed (at most FINSENT_PIPELINE_DEPTH)",
)
PIPELINE_FULL_SECONDS = Counter(
    "finsent_pipeline_full_seconds_total",
    "Time fetching waited for a free pipeline slot: the stages, not the feed, set the pace",
)
STAGE_SECONDS = Histogram(
    "finsent_stage_seconds",
    "Time one batch spent in a pipeline stage (prepare, score, store, publish)",
    ["stage"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
COMMIT_LAG = Histogram(
    "finsent_commit_lag_seconds",
    "From a batch's fetch to its offset commit",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
