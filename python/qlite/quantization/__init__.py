"""tfmot's quantization package: ``qlite.quantization.keras`` (also ``qlite.tfmot.quantization.keras``)."""
from . import keras


def _register():
    keras._register()


__all__ = ["keras"]
