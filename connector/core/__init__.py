"""The vocabulary every layer shares: value types, the engine's output batches, checkpoints.

The lowest layer: it imports nothing else of the package (import-linter enforces it).
"""
