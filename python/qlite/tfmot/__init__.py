"""``import qlite.tfmot as tfmot``: tensorflow_model_optimization's names (``tfmot.quantization.keras``)."""
from . import quantization

__all__ = ["quantization"]
