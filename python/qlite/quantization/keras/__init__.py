"""tfmot.quantization.keras over qlite's C++ QAT (include/qlite/quant/qat.h).

A quantized model is an ordinary model whose layers are wrapped: training
fake-quantizes weights and activations; evaluate and predict run the exact
int8 arithmetic the converted .tflite file runs, so the accuracy qlite
reports for a quantization-aware model is the deployed file's.
"""
import contextlib

from ..._qlite import quant as _q
from ...keras import layers as _layers
from ...keras.engine import Model as _Model


class QuantizeWrapper(_layers.Layer):
    """A layer quantized by quantize_apply (tfmot's QuantizeWrapperV2): name quant_<inner name>."""


class QuantizeLayer(_layers.Layer):
    """The model-input quantizer quantize_apply inserts (tfmot's QuantizeLayer)."""


class QuantizeAnnotate(_layers.Layer):
    """A layer marked for quantization by quantize_annotate_layer; behaves as the inner layer."""


_layers._classes.update({"QuantizeWrapper": QuantizeWrapper, "QuantizeLayer": QuantizeLayer,
                         "QuantizeAnnotate": QuantizeAnnotate})


def _register():
    _q.register_qat_layers()


def _model_arg(model, who):
    if not isinstance(model, _Model):
        raise ValueError("%s: `to_annotate`/`model` must be a keras Model (Sequential or functional), got %r"
                         % (who, model))
    return model._model


def quantize_model(to_quantize):
    """A quantization-aware copy of the whole model (the input model is not changed); compile it before fit.

    Weights start from the model's; weight ranges from the weights, activation ranges at [-6, 6].
    """
    return _Model._wrap(_q.quantize_model(_model_arg(to_quantize, "quantize_model")))


def quantize_annotate_model(to_annotate):
    """A copy of the model with every layer marked for quantization; quantize_apply turns it into a QAT model."""
    return _Model._wrap(_q.quantize_annotate_model(_model_arg(to_annotate, "quantize_annotate_model")))


def quantize_annotate_layer(to_annotate, quantize_config=None):
    """Marks one layer for quantization (e.g. inside clone_model's clone_function).

    Only the default 8-bit registry's configuration is supported
    (quantize_config=None); a custom QuantizeConfig is a ValueError.
    """
    if not isinstance(to_annotate, _layers.Layer):
        raise ValueError("quantize_annotate_layer: `to_annotate` must be a keras layer, got %r" % (to_annotate,))
    if quantize_config is not None:
        raise ValueError("quantize_annotate_layer: custom QuantizeConfig objects are not supported by qlite's "
                         "Python package yet (the default 8-bit registry is used with quantize_config=None)")
    return _layers.wrap_layer(_q.quantize_annotate_layer(to_annotate._layer))


def quantize_apply(model, scheme=None, quantize_registry=None):
    """Turns every annotated layer into a quantized one and inserts QuantizeLayers where a quantized region starts.

    Returns a new, built, uncompiled model with the weights of ``model``.
    """
    if scheme is not None or quantize_registry is not None:
        raise ValueError("quantize_apply: qlite applies the default 8-bit scheme only")
    return _Model._wrap(_q.quantize_apply(_model_arg(model, "quantize_apply")))


@contextlib.contextmanager
def quantize_scope(*args):
    """Context manager of tfmot for loading models with custom objects; qlite's QAT classes are always known."""
    _register()
    yield


_register()

__all__ = ["quantize_model", "quantize_annotate_model", "quantize_annotate_layer", "quantize_apply",
           "quantize_scope", "QuantizeWrapper", "QuantizeLayer", "QuantizeAnnotate"]
