"""Keras model functions: ``load_model``, ``clone_model``, plus ``Model`` and ``Sequential``."""
from .._qlite import keras as _k
from . import layers as _layers
from .engine import Model, Sequential


def load_model(filepath, custom_objects=None, compile=True):
    """Loads a model saved by Model.save (compiled again when it was saved compiled); predictions are bit-identical.

    An annotated model whose layers carry a Python QuantizeConfig needs its
    class, by name, in ``custom_objects`` or an enclosing
    ``quantize_scope({'MyConfig': MyConfig})`` (ValueError naming the class
    otherwise), as in Keras and tfmot.
    """
    from .. import quantization as _q  # noqa: F401  (registers the QAT layer classes)
    _q._register()
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError("load_model: custom_objects must be a dict of name -> class, got %r" % (custom_objects,))
    cpp = _k.load_model(str(filepath))
    _q.keras._check_loaded(cpp, custom_objects)
    return Model._wrap(cpp)


def clone_model(model, input_tensors=None, clone_function=None):
    """A copy of ``model`` (architecture and weights), passing each layer through clone_function.

    ``clone_function(layer)`` gets a copy of each layer but the InputLayer and
    returns the layer to use (it, or e.g. quantize_annotate_layer(it)).
    """
    if input_tensors is not None:
        raise ValueError("clone_model: input_tensors is not supported by qlite")
    if clone_function is None:
        return Model._wrap(_k.clone_model(model._model, None))

    def fn(cpp_layer):
        if cpp_layer.type == "InputLayer":  # Keras recreates inputs without calling clone_function
            return cpp_layer
        result = clone_function(_layers.wrap_layer(cpp_layer))
        if not isinstance(result, _layers.Layer):
            raise TypeError("clone_model: clone_function must return a keras layer, got %r" % (result,))
        return result._layer

    return Model._wrap(_k.clone_model(model._model, fn))


__all__ = ["Model", "Sequential", "load_model", "clone_model"]
