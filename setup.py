"""Build hook for the one C extension; everything else about the package is in setup.cfg.

`connector.kafka._produce` is optional: where it cannot be compiled (no C compiler) the Kafka
destination produces record by record through confluent-kafka, as before (same records)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("connector.kafka._produce", ["connector/kafka/_produce.c"],
                             optional=True, extra_compile_args=["-O2"])])
