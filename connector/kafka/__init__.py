"""Kafka plumbing: topics, error classification, fencing, the compacted-topic log and the
offset record formats. Below the destinations and the runtime; no simulation logic here."""
