"""tf.lite names over the qlite runtime: ``Interpreter``."""
from ._qlite import lite as _lite

Interpreter = _lite.Interpreter

__all__ = ["Interpreter"]
