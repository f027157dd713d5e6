"""Serialization: columnar Avro encoder, wire framing, keys, partitioning, registry.

The hot path is `RecordEncoder.encode` (columns in, framed records out) plus `KeySerializer.encode`
and `partitions`; everything in `registry` runs once at task start. Import the modules
themselves: importing the package does not pull in the registry's HTTP stack.
"""
