"""doge-connect: a synthetic behavioural-event generator, run as a Kafka Connect-style source."""

__version__ = "0.1.0"
