"""Build hook for the C extensions; everything else about the package is in setup.cfg.

Both are optional: where one cannot be compiled (no C compiler, no numpy at build time) the
package falls back to the pure Python path, with the same output:
- `connector.kafka._produce`: without it the Kafka destination produces record by record
  through confluent-kafka (same records);
- `connector.engine._draws`: without it the mover sampling runs as numpy calls (same draws); it
  links numpy's own distribution functions (libnpyrandom), so it needs numpy's headers and
  static library, found through the numpy installed for the build (pyproject.toml).
"""

from pathlib import Path

from setuptools import Extension, setup

extensions = [Extension("connector.kafka._produce", ["connector/kafka/_produce.c"],
                        optional=True, extra_compile_args=["-O2"])]
try:
    import numpy
except ImportError:  # the engine then draws through numpy alone
    numpy = None
if numpy is not None:
    random_lib = Path(numpy.__file__).parent / "random" / "lib"
    extensions.append(Extension("connector.engine._draws", ["connector/engine/_draws.c"],
                                include_dirs=[numpy.get_include()],
                                library_dirs=[str(random_lib)], libraries=["npyrandom", "m"],
                                optional=True, extra_compile_args=["-O2"]))

setup(ext_modules=extensions)
