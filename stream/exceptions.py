"""Errors raised by the stream package; the CLI prints them as one line."""


class StreamError(Exception):
    """Root of every stream error."""


class BrokerUnavailable(StreamError):
    """The Kafka bootstrap server could not be reached, or the embedded broker did not start."""


class InputUnreadable(StreamError):
    """A news-item file cannot be opened; the message names it and says why."""


class KafkaSecurityError(StreamError):
    """A Kafka TLS file that passed the settings check no longer loads when a client is built."""


class DeadLetterNotFound(StreamError):
    """`finsent dlq show` was given a position that holds no dead letter, or an ambiguous one."""


class RedriveFailed(StreamError):
    """`finsent dlq replay` could not send to the broker; running it again is safe."""
