"""tfmot.quantization.keras over qlite's C++ QAT (include/qlite/quant/qat.h).

A quantized model is an ordinary model whose layers are wrapped: training
fake-quantizes weights and activations; evaluate and predict run the exact
int8 arithmetic the converted .tflite file runs, so the accuracy qlite
reports for a quantization-aware model is the deployed file's.
"""
import itertools
import json as _json

from ..._qlite import quant as _q
from ...keras import layers as _layers
from ...keras.engine import Model as _Model
from . import default_8bit
from . import quantizers
from .quantize_config import BuiltinQuantizeConfig as _BuiltinQuantizeConfig
from .quantize_config import QuantizeConfig
from .quantize_config import deserialize as _deserialize
from .quantize_config import serialize as _serialize
from .quantize_config import translate as _translate
from .quantize_config import unknown_class as _unknown_class


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


def quantize_model(to_quantize, freeze_bn_after=0):
    """A quantization-aware copy of the whole model (the input model is not changed); compile it before fit.

    Weights start from the model's; weight ranges from the weights, activation ranges at [-6, 6].
    freeze_bn_after (a qlite extension, a non-negative int): a Conv2D/DepthwiseConv2D/Dense followed by a
    BatchNormalization trains with batch statistics and the fold correction for the first N optimizer steps, then
    with the running statistics; 0 (the default) folds the moving statistics from the start.
    """
    if isinstance(freeze_bn_after, bool) or not isinstance(freeze_bn_after, int) or freeze_bn_after < 0:
        raise ValueError("quantize_model: freeze_bn_after must be a non-negative integer, got %r" % (freeze_bn_after,))
    return _Model._wrap(_q.quantize_model(_model_arg(to_quantize, "quantize_model"), freeze_bn_after))


def quantize_annotate_model(to_annotate):
    """A copy of the model with every layer marked for quantization; quantize_apply turns it into a QAT model."""
    return _Model._wrap(_q.quantize_annotate_model(_model_arg(to_annotate, "quantize_annotate_model")))


# Python QuantizeConfigs of annotated layers, by the token their C++
# annotation carries (python/src/quant.cpp, PythonQuantizeConfig). An
# annotation also carries the config's class name and get_config() JSON, which
# Model.save writes; a model loaded from a file has token 0 and is resolved
# from those, inside a quantize_scope naming the class, as tfmot does.
_configs = {}
_tokens = itertools.count(1)
# The custom objects of the enclosing quantize_scope blocks, innermost last.
_scopes = []


def quantize_annotate_layer(to_annotate, quantize_config=None):
    """Marks one layer for quantization (e.g. inside clone_model's clone_function).

    ``quantize_config=None`` uses the default 8-bit registry's config; a
    QuantizeConfig instance (a subclass of yours, or a
    default_8bit.Default8BitQuantizeRegistry config) is translated to qlite's
    C++ config when quantize_apply runs, inside ``quantize_scope`` naming
    your class, as in tfmot.
    """
    if not isinstance(to_annotate, _layers.Layer):
        raise ValueError("quantize_annotate_layer: `to_annotate` must be a keras layer, got %r" % (to_annotate,))
    if quantize_config is None:
        annotated = _layers.wrap_layer(_q.quantize_annotate_layer(to_annotate._layer))
    elif not isinstance(quantize_config, QuantizeConfig):
        raise ValueError("`quantize_config` can only be a `tfmot.quantization.keras.QuantizeConfig` instance. "
                         "You passed an instance of type: %s." % type(quantize_config).__name__)
    else:
        token = next(_tokens)
        _configs[token] = quantize_config
        try:
            text = _serialize(quantize_config)
        except Exception:  # noqa: BLE001 -- raised again by quantize_apply (get_config) or Model.save (JSON)
            text = None
        annotated = _layers.wrap_layer(_q.annotate_with_python_config(to_annotate._layer, token,
                                                                      type(quantize_config).__name__, text))
    annotated._input_shape = to_annotate._input_shape  # Sequential([annotate(Dense(..., input_shape=...))])
    return annotated


def _scope_objects():
    merged = {}
    for d in _scopes:
        merged.update(d)
    return merged


# Configs whose classes need no quantize_scope (views of qlite's C++ configs).
_BUILTIN_CONFIGS = {c.__name__: c for c in (_BuiltinQuantizeConfig, default_8bit.Default8BitQuantizeConfig)}


def _config_class(class_name, objects):
    return _BUILTIN_CONFIGS.get(class_name) or objects.get(class_name)


def _saved_without_config(class_name, layer_name, who):
    return ValueError("%s: layer '%s' carries a Python QuantizeConfig '%s' saved without its get_config() (a file "
                      "from an older qlite); annotate it again" % (who, layer_name, class_name))


def _resolve(cpp_model):
    """The annotated model with every Python QuantizeConfig translated to the C++ config (tfmot deserializes
    each config from its get_config() inside quantize_scope; so does this, for live and loaded configs)."""
    pending = _q.python_config_tokens(cpp_model)
    if not pending:
        return cpp_model
    objects = _scope_objects()
    configs = {}
    for token, class_name, layer_name, text in pending:
        live = _configs.get(token) if token else None
        if isinstance(live, _BuiltinQuantizeConfig):
            configs[layer_name] = live
            continue
        cls = _config_class(class_name, objects)
        if cls is None:
            raise ValueError("quantize_apply: unknown QuantizeConfig '%s' (layer '%s'). Call quantize_apply "
                             "inside `with quantize_scope({'%s': %s}):`, as tfmot needs."
                             % (class_name, layer_name, class_name, class_name))
        if live is not None:
            config = live.get_config()
        elif text is not None:
            config = _deserialize(text, objects, layer_name, "quantize_apply")
        else:
            raise _saved_without_config(class_name, layer_name, "quantize_apply")
        configs[layer_name] = cls.from_config(config)

    def resolver(token, cpp_layer):
        layer = _layers.wrap_layer(cpp_layer)
        return _json.dumps(_translate(configs[layer.name], layer))

    return _q.resolve_python_configs(cpp_model, resolver)


def _check_loaded(cpp_model, custom_objects):
    """load_model's check of an annotated model's Python configs: each class must be named in custom_objects or an
    enclosing quantize_scope, and is rebuilt with from_config (as Keras deserializes it at load)."""
    objects = dict(_scope_objects())
    objects.update(custom_objects or {})
    for _, class_name, layer_name, text in _q.python_config_tokens(cpp_model):
        cls = _config_class(class_name, objects)
        if cls is None:
            raise _unknown_class(class_name, layer_name, "load_model")
        if text is None:
            raise _saved_without_config(class_name, layer_name, "load_model")
        cls.from_config(_deserialize(text, objects, layer_name, "load_model"))


def _check_savable(cpp_model):
    """Model.save's check: every Python QuantizeConfig's get_config() can be written (TypeError as json's)."""
    for token, class_name, layer_name, text in _q.python_config_tokens(cpp_model):
        if text is not None:
            continue
        live = _configs.get(token) if token else None
        if live is None:
            raise _saved_without_config(class_name, layer_name, "save")
        try:
            _serialize(live)
        except Exception as e:  # noqa: BLE001 -- said with the layer and class, as one error
            raise TypeError("save: layer '%s': the QuantizeConfig '%s' cannot be saved: its get_config() %s: %s"
                            % (layer_name, class_name, "is not implemented" if isinstance(e, NotImplementedError)
                               else "cannot be written as JSON", e)) from e


def quantize_apply(model, scheme=None, quantize_registry=None):
    """Turns every annotated layer into a quantized one and inserts QuantizeLayers where a quantized region starts.

    Returns a new, built, uncompiled model with the weights of ``model``.
    Layers annotated with a QuantizeConfig get its quantizers (ValueError,
    naming the layer, for a choice qlite's C++ side cannot express); the
    others the default 8-bit registry's. ``scheme`` may be
    default_8bit.Default8BitQuantizeScheme() (the only scheme qlite has).
    """
    if scheme is not None and not isinstance(scheme, default_8bit.Default8BitQuantizeScheme):
        raise ValueError("quantize_apply: qlite applies the default 8-bit scheme only, got %r" % (scheme,))
    if quantize_registry is not None:
        raise ValueError("quantize_apply: qlite applies the default 8-bit registry only")
    return _Model._wrap(_q.quantize_apply(_resolve(_model_arg(model, "quantize_apply"))))


class _Scope:
    def __init__(self, objects):
        self._objects = objects

    def __enter__(self):
        _register()
        _scopes.append(self._objects)
        return self

    def __exit__(self, *exc):
        _scopes.remove(self._objects)
        return False


def quantize_scope(*args):
    """``with quantize_scope({'MyConfig': MyConfig}):``: the custom QuantizeConfig classes quantize_apply and
    load_model may rebuild by name, as tfmot's; qlite's own QAT classes are always known."""
    objects = {}
    for a in args:
        if not isinstance(a, dict):
            raise TypeError("quantize_scope: arguments must be dicts of name -> class, got %r" % (a,))
        objects.update(a)
    return _Scope(objects)


_register()

__all__ = ["quantize_model", "quantize_annotate_model", "quantize_annotate_layer", "quantize_apply",
           "quantize_scope", "QuantizeConfig", "quantizers", "default_8bit", "QuantizeWrapper", "QuantizeLayer",
           "QuantizeAnnotate"]
