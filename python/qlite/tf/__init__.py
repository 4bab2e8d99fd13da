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
        self.shape = tuple(None if d is None else int(d) for d in shape)
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

    def __init__(self, fn, input_signature=None):
        self._fn = fn
        self.input_signature = None if input_signature is None else list(input_signature)

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def get_concrete_function(self, *specs):
        """Traces the function with a placeholder for ``specs[0]`` (or the ``input_signature`` given to
        tf.function); it must call a keras model on it, whose input the spec must fit (ValueError otherwise)."""
        if not specs and self.input_signature is not None:
            specs = tuple(self.input_signature)
        if len(specs) != 1 or not isinstance(specs[0], TensorSpec):
            raise ValueError("get_concrete_function: qlite traces one TensorSpec input")
        spec = specs[0]
        trace = _Trace(spec)
        self._fn(trace)
        if trace.model is None:
            raise ValueError("get_concrete_function: the function did not call a keras model on its input")
        _check_spec(spec, trace.model)
        return ConcreteFunction(trace.model, spec)


def _check_spec(spec, model):
    """As Keras' input check when TensorFlow traces model(x): the spec's shape must be (batch,) + the model's
    per-sample input shape (None for unknown dimensions), and its dtype a float (Keras casts floats to float32)."""
    want = tuple(model._model.input_shape)
    got = spec.shape
    fits = len(got) == len(want) + 1 and all(g is None or g == w for g, w in zip(got[1:], want))
    if not fits or (got[0] is not None and (not isinstance(got[0], int) or got[0] < 1)):
        raise ValueError("Input 0 of layer \"%s\" is incompatible with the layer: expected shape=(None, %s), found "
                         "shape=%s" % (model.name, ", ".join(str(d) for d in want), tuple(got)))
    if np.dtype(spec.dtype).kind != "f":
        raise ValueError("get_concrete_function: TensorSpec dtype %s: model \"%s\" takes float32 input"
                         % (np.dtype(spec.dtype).name, model.name))


def function(func=None, input_signature=None, **kwargs):
    """tf.function, as a decorator or a call: wraps a Python function for get_concrete_function.

    ``input_signature=[tf.TensorSpec(...)]`` is the spec get_concrete_function() traces with when given none.
    """
    if func is None:
        return lambda f: Function(f, input_signature)
    return Function(func, input_signature)


__all__ = ["keras", "lite", "data", "random", "function", "Function", "ConcreteFunction", "TensorSpec",
           "float32", "float16", "int8", "uint8", "int32", "int64"]
