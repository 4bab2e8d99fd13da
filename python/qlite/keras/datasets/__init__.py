"""Keras datasets from the locally installed data: ``mnist`` and ``fashion_mnist``."""
from . import mnist, fashion_mnist

__all__ = ["mnist", "fashion_mnist"]
