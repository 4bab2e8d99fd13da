"""``import qlite.tf as tf``: the few names of TensorFlow itself that the QAT and conversion guides use.

``tf.keras``, ``tf.lite``, ``tf.function``, ``tf.TensorSpec``, ``tf.float32``
/ ``tf.float16`` / ``tf.int8`` / ``tf.uint8`` (numpy's types),
``tf.data.Dataset.from_tensor_slices(...).batch(n).take(n)`` and
``tf.random.set_seed``. Nothing of TensorFlow is needed.
"""
import numpy as np

from .. import keras, lite
from . import data, random

float32 = np.float32
float16 = np.float16
int8 = np.int8
uint8 = np.uint8
int32 = np.int32
int64 = np.int64


class TensorSpec:
    """TensorSpec(shape, dtype=tf.float32, name=None): the input signature of a concrete function."""

    def __init__(self, shape, dtype=np.float32, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name


class _Trace:
    """The placeholder a function is traced with: calling a keras model on it records the model."""

    def __init__(self, spec):
        self.spec = spec
        self.model = None


class ConcreteFunction:
    """What ``tf.function(f).get_concrete_function(spec)`` returns: the traced keras model and its input spec."""

    def __init__(self, model, spec):
        self.model = model
        self.inputs = [spec]


class Function:
    """``tf.function(f)``: ``f`` called on a keras model's input, traced by get_concrete_function."""

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def get_concrete_function(self, *specs):
        """Traces the function with a placeholder for ``specs[0]``; it must call a keras model on it."""
        if len(specs) != 1 or not isinstance(specs[0], TensorSpec):
            raise ValueError("get_concrete_function: qlite traces one TensorSpec input")
        trace = _Trace(specs[0])
        self._fn(trace)
        if trace.model is None:
            raise ValueError("get_concrete_function: the function did not call a keras model on its input")
        return ConcreteFunction(trace.model, specs[0])


def function(func=None, input_signature=None, **kwargs):
    """tf.function, as a decorator or a call: wraps a Python function for get_concrete_function."""
    if func is None:
        return lambda f: Function(f)
    return Function(func)


__all__ = ["keras", "lite", "data", "random", "function", "Function", "ConcreteFunction", "TensorSpec",
           "float32", "float16", "int8", "uint8", "int32", "int64"]
