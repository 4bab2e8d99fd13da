"""Keras names over qlite's C++ training library.

``Sequential``, ``Model`` and ``Input`` build models from ``layers``; models
train with ``compile`` / ``fit`` (the GIL released, Keras' progress bar on
stdout) and evaluate, predict, save and load as in Keras. Images are
converted to float32 as Keras converts them; sparse labels may be any
integer dtype.
"""
from . import layers, optimizers, losses, models, datasets, callbacks, utils
from .layers import Input
from .engine import Model, Sequential, History

__all__ = ["Model", "Sequential", "Input", "History", "layers", "optimizers", "losses", "models",
           "datasets", "callbacks", "utils"]
