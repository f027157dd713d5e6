"""Serialization: columnar Avro, JSON and Protobuf encoders, wire framing, keys, partitioning,
registry.

`formats` names the formats; `values.value_encoder` picks a topic's encoder (Avro `encoder`,
`jsonenc`, `protobuf`), all assembled from the columnar pieces of `pieces`. The hot path is
`encode` (columns in, framed records out) plus `KeySerializer.encode` and `partitions`;
everything in `registry` runs once at task start. Import the modules themselves: importing the
package does not pull in the registry's HTTP stack.
"""
