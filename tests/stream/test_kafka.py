"""The project's Kafka helpers against a real Tansu broker."""

from __future__ import annotations

import asyncio

import pytest

from stream.exceptions import BrokerUnavailable
from stream.kafka import ensure_topics, open_consumer, open_producer
from stream.settings import StreamSettings

pytestmark = pytest.mark.integration


async def test_produced_message_is_consumed_back(stream_settings: StreamSettings) -> None:
    await ensure_topics(stream_settings)
    await ensure_topics(stream_settings)  # a second call finds them and changes nothing

    async with open_producer(stream_settings) as producer:
        await producer.send_and_wait(stream_settings.topic_raw, b'{"headline": "hi"}', key=b"k1")

    async with open_consumer(
        stream_settings,
        stream_settings.topic_raw,
        group_id=stream_settings.consumer_group,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    ) as consumer:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)

    assert record.value == b'{"headline": "hi"}'
    assert record.key == b"k1"


async def test_unreachable_broker_names_the_setting() -> None:
    settings = StreamSettings(kafka_bootstrap="127.0.0.1:1")
    with pytest.raises(BrokerUnavailable, match="FINSENT_KAFKA_BOOTSTRAP"):
        await ensure_topics(settings)
