"""qlite: tf.lite names over the qlite C++ library.

- ``qlite.lite``: Interpreter (the qlite runtime, bit-exact with TensorFlow Lite 2.9).
"""
from . import _qlite
from . import lite

__version__ = _qlite.__version__
__all__ = ["lite", "__version__"]
