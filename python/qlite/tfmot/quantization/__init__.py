"""tfmot.quantization: ``keras`` re-exports ``qlite.quantization.keras``."""
from . import keras

__all__ = ["keras"]
