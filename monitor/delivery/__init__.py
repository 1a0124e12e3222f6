"""Delivery: the webhook payload and its signature, the outbox, and the HTTP and Kafka senders."""
