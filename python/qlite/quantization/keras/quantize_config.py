"""tfmot's QuantizeConfig, and its translation to qlite's C++ QuantizeConfig at quantize_apply.

A QuantizeConfig says which of a layer's weights get which quantizer, and
which quantizer its activation or output gets. qlite runs the quantizers in
C++ (QuantizeWrapper), so a Python config may only choose among the built-in
quantizers (quantizers.LastValueQuantizer, MovingAverageQuantizer,
AllValuesQuantizer, FixedQuantizer) and their parameters; quantize_apply
translates it into the C++ config (LayerQuantizeConfig) and raises a
ValueError naming the layer for a choice the C++ side cannot express.
"""
import json as _json

from ..._qlite import quant as _q
from ...keras import layers as _layers
from . import quantizers as _quantizers


class QuantizeConfig:
    """Base class of the per-layer quantization configs (tfmot.quantization.keras.QuantizeConfig).

    Subclass it and implement get_weights_and_quantizers,
    get_activations_and_quantizers, get_output_quantizers and get_config;
    pass an instance to quantize_annotate_layer(layer, quantize_config=...)
    and call quantize_apply inside ``quantize_scope({'MyConfig': MyConfig})``.
    qlite wires the quantized weights and activations itself, so
    set_quantize_weights and set_quantize_activations are not called.
    """

    def get_weights_and_quantizers(self, layer):
        """[(layer.kernel, quantizer), ...]: the weights to quantize and their quantizers."""
        raise NotImplementedError("QuantizeConfig.get_weights_and_quantizers must be implemented")

    def get_activations_and_quantizers(self, layer):
        """[(layer.activation, quantizer)] or []: the quantizer of the layer's activation output."""
        raise NotImplementedError("QuantizeConfig.get_activations_and_quantizers must be implemented")

    def set_quantize_weights(self, layer, quantize_weights):
        """tfmot swaps the quantized weights into the layer here; qlite's C++ wrapper does it (not called)."""
        raise NotImplementedError("QuantizeConfig.set_quantize_weights must be implemented")

    def set_quantize_activations(self, layer, quantize_activations):
        """tfmot swaps the quantized activation into the layer here; qlite's C++ wrapper does it (not called)."""
        raise NotImplementedError("QuantizeConfig.set_quantize_activations must be implemented")

    def get_output_quantizers(self, layer):
        """[quantizer] or []: the quantizer of the layer's output (for layers without an activation)."""
        raise NotImplementedError("QuantizeConfig.get_output_quantizers must be implemented")

    def get_config(self):
        """The constructor arguments as a dict (quantize_apply rebuilds the config with from_config, as tfmot)."""
        raise NotImplementedError("QuantizeConfig.get_config must be implemented")

    @classmethod
    def from_config(cls, config):
        """The config ``cls(**config)``."""
        return cls(**config)


def _label(layer):
    return "layer '%s' (%s)" % (layer.name, layer._layer.type)


def _spec(q, layer, role, is_weight):
    """The C++ QuantizerSpec JSON of a built-in quantizer; ValueError for what C++ cannot express."""
    who = "quantize_apply: %s: %s quantizer %r" % (_label(layer), role, q)
    if type(q) not in _quantizers._BUILTIN.values():
        raise ValueError("%s: a QuantizeConfig may only choose among qlite's built-in quantizers (LastValueQuantizer, "
                         "MovingAverageQuantizer, AllValuesQuantizer, FixedQuantizer); the arithmetic runs in C++"
                         % who)
    bits = q.num_bits
    if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 8:
        raise ValueError("%s: num_bits=%r is not supported (qlite quantizes with 2 to 8 bits)" % (who, bits))
    for flag in ("per_axis", "symmetric", "narrow_range"):
        if not isinstance(getattr(q, flag), bool):
            raise ValueError("%s: %s must be True or False, got %r" % (who, flag, getattr(q, flag)))
    if is_weight and not (q.symmetric and q.narrow_range):
        raise ValueError("%s: symmetric=%r, narrow_range=%r is not supported: qlite's integer kernels (as TFLite's "
                         "int8 ones) need weights with zero point 0 in [-(2^(b-1) - 1), 2^(b-1) - 1], i.e. "
                         "symmetric=True and narrow_range=True" % (who, q.symmetric, q.narrow_range))
    if not is_weight and q.per_axis:
        raise ValueError("%s: per_axis=True is not supported for an activation or output (per tensor only)" % who)
    if not is_weight and bits != 8:
        raise ValueError("%s: num_bits=%d is not supported for an activation or output: TFLite's int8 ops, which "
                         "the converted file runs, take 8-bit activations" % (who, bits))
    if is_weight:
        registry = _json.loads(_q.default_quantize_config(layer._layer) or "null") or {}
        default = {w["param"]: w["quantizer"]["per_axis"] for w in registry.get("weights", [])}
        if role in default and q.per_axis != default[role]:
            raise ValueError("%s: per_axis=%r is not supported for %s: %s" % (
                who, q.per_axis, layer._layer.type,
                "TFLite 2.9's FULLY_CONNECTED takes per-tensor weights" if not default[role] else
                "qlite writes its integer kernels per output channel (per_axis=True)"))
    spec = {"class_name": q._cpp_name, "num_bits": bits, "symmetric": q.symmetric, "narrow_range": q.narrow_range,
            "per_axis": q.per_axis, "axis": -1}
    if isinstance(q, _quantizers.FixedQuantizer):
        spec.update(symmetric=False, per_axis=False, init_min=float(q.init_min), init_max=float(q.init_max))
    return spec


def _pairs(items, layer, method):
    out = []
    for item in list(items or []):
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValueError("quantize_apply: %s: %s must return (tensor, quantizer) pairs, got %r"
                             % (_label(layer), method, item))
        out.append(tuple(item))
    return out


def translate(config, layer):
    """The C++ LayerQuantizeConfig JSON ({'weights': [...], 'output': ...}) of a Python config for ``layer``."""
    weights = []
    for w, q in _pairs(config.get_weights_and_quantizers(layer), layer, "get_weights_and_quantizers"):
        if not isinstance(w, _layers.Variable) or w._cpp is not layer._layer:
            raise ValueError("quantize_apply: %s: get_weights_and_quantizers must return the layer's own weights "
                             "(e.g. layer.kernel), got %r" % (_label(layer), w))
        weights.append({"param": w._param, "quantizer": _spec(q, layer, w._param, True)})
    activations = [q for _, q in _pairs(config.get_activations_and_quantizers(layer), layer,
                                        "get_activations_and_quantizers")]
    outputs = list(config.get_output_quantizers(layer) or [])
    if len(activations) + len(outputs) > 1:
        raise ValueError("quantize_apply: %s: qlite quantizes a layer's output once (its activation is fused into "
                         "the op), got %d activation and %d output quantizers"
                         % (_label(layer), len(activations), len(outputs)))
    output = None
    if activations:
        output = _spec(activations[0], layer, "activation", False)
    elif outputs:
        output = _spec(outputs[0], layer, "output", False)
    return {"weights": weights, "output": output}


def _encode(obj):
    """json.dumps' default=: a quantizer as Keras' serialize_keras_object writes it; numpy scalars as numbers."""
    if isinstance(obj, _quantizers.Quantizer):
        return {"class_name": type(obj).__name__, "config": obj.get_config(), "__passive_serialization__": True}
    if hasattr(obj, "item") and hasattr(obj, "dtype") and getattr(obj, "shape", None) == ():
        return obj.item()
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


def serialize(config):
    """The JSON text of ``config.get_config()`` as a saved model carries it (raises what get_config or json raise)."""
    cfg = config.get_config()
    if not isinstance(cfg, dict):
        raise TypeError("%s.get_config() must return a dict, got %r" % (type(config).__name__, cfg))
    return _json.dumps(cfg, default=_encode, allow_nan=False)


def unknown_class(class_name, layer_name, who):
    """The ValueError of a QuantizeConfig class that no quantize_scope / custom_objects names (as Keras')."""
    return ValueError("%s: unknown QuantizeConfig '%s' (layer '%s'): Unknown object: '%s'. Pass it in "
                      "custom_objects= or call %s inside `with quantize_scope({'%s': %s}):`, as tfmot needs."
                      % (who, class_name, layer_name, class_name, who, class_name, class_name))


def deserialize(text, objects, layer_name, who):
    """The get_config() dict of a saved config, quantizers rebuilt (built-in ones, or classes named in objects)."""
    def decode(value):
        if isinstance(value, dict):
            if value.get("__passive_serialization__") is True and isinstance(value.get("class_name"), str):
                name = value["class_name"]
                cls = objects.get(name) or _quantizers._BUILTIN.get(name)
                if cls is None:
                    raise ValueError("%s: layer '%s': unknown object '%s' in the saved QuantizeConfig: Unknown "
                                     "object: '%s'. Name it in quantize_scope or custom_objects=."
                                     % (who, layer_name, name, name))
                return cls.from_config(decode(value.get("config", {})))
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value
    return decode(_json.loads(text))


class BuiltinQuantizeConfig(QuantizeConfig):
    """A Python view of a C++ QuantizeConfig (the default 8-bit registry's, or a quantized layer's).

    Its methods return the built-in quantizers the C++ config uses; passed to
    quantize_annotate_layer it quantizes exactly as the C++ config does, and
    needs no quantize_scope.
    """

    def __init__(self, config):
        self._config = {"weights": list(config.get("weights", [])), "output": config.get("output")}

    def get_weights_and_quantizers(self, layer):
        """[(the layer's weight, its quantizer)] for each weight the config quantizes."""
        return [(_layers.Variable(layer._layer, w["param"]), _quantizers._from_spec(w["quantizer"]))
                for w in self._config["weights"]]

    def get_activations_and_quantizers(self, layer):
        """[]: qlite's configs quantize the output (the activation is fused into it)."""
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        """Not needed by qlite (the C++ wrapper holds the quantized weights)."""

    def set_quantize_activations(self, layer, quantize_activations):
        """Not needed by qlite."""

    def get_output_quantizers(self, layer):
        """[the output quantizer], or [] for a layer that keeps its input's quantization."""
        out = self._config["output"]
        return [] if out is None else [_quantizers._from_spec(out)]

    def get_config(self):
        """{'config': the C++ config's JSON}."""
        return {"config": self._config}

    def __eq__(self, other):
        return type(self) is type(other) and self._config == other._config

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self._config)
