"""Errors raised by the stream package; the CLI prints them as one line."""


class StreamError(Exception):
    """Root of every stream error."""


class BrokerUnavailable(StreamError):
    """The Kafka bootstrap server could not be reached, or the embedded broker did not start."""


class InputUnreadable(StreamError):
    """A news-item file cannot be opened; the message names it and says why."""
