"""tfmot's default_8bit scheme: the registry quantize_model and quantize_annotate_layer(layer) use.

``Default8BitQuantizeRegistry().get_quantize_config(layer)`` returns a
Python view of qlite's built-in config for the layer (C++
default_quantize_config): Conv2D and DepthwiseConv2D kernels per output
channel, Dense kernels per tensor (8 bits, symmetric, narrow range), outputs
MovingAverage (8 bits, asymmetric); sigmoid / softmax / tanh outputs at
TFLite's fixed ranges; Reshape, Flatten, pooling, padding and Dropout keep
their input's quantization.
"""
import json as _json

from ..._qlite import quant as _q
from ...keras import layers as _layers
from .quantize_config import BuiltinQuantizeConfig


class Default8BitQuantizeConfig(BuiltinQuantizeConfig):
    """The default 8-bit registry's config for one layer (a view of the C++ config)."""


def _cpp_layer(layer, who):
    if not isinstance(layer, _layers.Layer):
        raise ValueError("%s: expected a keras layer, got %r" % (who, layer))
    return layer._layer


class Default8BitQuantizeRegistry:
    """tfmot's Default8BitQuantizeRegistry: which layers the default scheme quantizes, and how."""

    def supports(self, layer):
        """True when the default 8-bit scheme knows how to quantize ``layer``."""
        return _q.default_quantize_config(_cpp_layer(layer, "supports")) is not None

    def get_quantize_config(self, layer):
        """The layer's Default8BitQuantizeConfig (ValueError for a layer the registry does not support)."""
        text = _q.default_quantize_config(_cpp_layer(layer, "get_quantize_config"))
        if text is None:
            raise ValueError("`get_quantize_config()` called on an unsupported layer %s (%s). Check if the layer is "
                             "supported by calling `supports()`." % (layer.name, layer._layer.type))
        return Default8BitQuantizeConfig(_json.loads(text))


class Default8BitQuantizeScheme:
    """tfmot's Default8BitQuantizeScheme: the scheme quantize_apply uses (the only one qlite has)."""

    def get_quantize_registry(self):
        """The Default8BitQuantizeRegistry."""
        return Default8BitQuantizeRegistry()

    def get_layout_transformer(self):
        """The graph rewrite is qlite's C++ (batch-norm folding, activation fusion); not exposed in Python."""
        raise NotImplementedError("qlite's layout transforms run in C++ (include/qlite/train/rewrite.h)")


__all__ = ["Default8BitQuantizeRegistry", "Default8BitQuantizeScheme", "Default8BitQuantizeConfig"]
