"""tfmot.quantization.keras.quantizers: the built-in quantizers a QuantizeConfig may choose.

The classes carry tfmot's constructor arguments and ``get_config``; the
arithmetic (range tracking, fake quantization, the integer evaluation) is
qlite's C++ (include/qlite/quant/qparams.h). A user-defined ``Quantizer``
subclass cannot be translated to C++: quantize_apply refuses it with a
ValueError.
"""


class Quantizer:
    """Base class of tfmot's quantizers. Only the built-in subclasses below can be used with qlite."""

    def build(self, tensor_shape, name, layer):
        """tfmot creates the quantizer's variables here; qlite's C++ wrapper holds them instead."""
        return {}

    def __call__(self, inputs, training, weights, **kwargs):
        """tfmot applies the quantizer here; in qlite the arithmetic runs in C++ (use Model.fit/predict)."""
        raise NotImplementedError("qlite quantizers run in C++; they are not called from Python")

    def get_config(self):
        """The constructor arguments as a dict."""
        raise NotImplementedError("Quantizer.get_config must be implemented by the subclass")

    @classmethod
    def from_config(cls, config):
        """The quantizer ``cls(**config)``."""
        return cls(**config)


class _Builtin(Quantizer):
    # The C++ QuantizerKind name (QuantizerSpec::to_json's class_name).
    _cpp_name = None

    def __init__(self, num_bits, per_axis, symmetric, narrow_range):
        self.num_bits = num_bits
        self.per_axis = per_axis
        self.symmetric = symmetric
        self.narrow_range = narrow_range

    def get_config(self):
        """{'num_bits', 'per_axis', 'symmetric', 'narrow_range'}, as tfmot's."""
        return {"num_bits": self.num_bits, "per_axis": self.per_axis, "symmetric": self.symmetric,
                "narrow_range": self.narrow_range}

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((type(self).__name__,) + tuple(sorted(self.get_config().items())))

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in self.get_config().items()))


class LastValueQuantizer(_Builtin):
    """LastValueQuantizer(num_bits, per_axis, symmetric, narrow_range): the range of the current tensor (weights).

    qlite's integer kernels need weights with zero point 0: symmetric=True and
    narrow_range=True (TFLite's int8 weights); per_axis=True quantizes per
    output channel (the last axis of a Keras kernel).
    """

    _cpp_name = "LastValueQuantizer"


class MovingAverageQuantizer(_Builtin):
    """MovingAverageQuantizer(num_bits, per_axis, symmetric, narrow_range): EMA of batch ranges (decay 0.999, from [-6, 6]).

    tfmot's activation quantizer; per tensor only for activations and outputs.
    """

    _cpp_name = "MovingAverageQuantizer"


class AllValuesQuantizer(_Builtin):
    """AllValuesQuantizer(num_bits, per_axis, symmetric, narrow_range): the running min and max of everything seen."""

    _cpp_name = "AllValuesQuantizer"


class FixedQuantizer(_Builtin):
    """FixedQuantizer(num_bits=8, init_min=-6.0, init_max=6.0, narrow_range=False): a fixed range.

    The default 8-bit registry uses it for the outputs TFLite fixes (sigmoid,
    softmax, tanh).
    """

    _cpp_name = "FixedQuantizer"

    def __init__(self, num_bits=8, init_min=-6.0, init_max=6.0, narrow_range=False):
        super().__init__(num_bits, False, False, narrow_range)
        self.init_min = init_min
        self.init_max = init_max

    def get_config(self):
        """{'num_bits', 'init_min', 'init_max', 'narrow_range'}, as tfmot's."""
        return {"num_bits": self.num_bits, "init_min": self.init_min, "init_max": self.init_max,
                "narrow_range": self.narrow_range}


_BUILTIN = {c._cpp_name: c for c in (LastValueQuantizer, MovingAverageQuantizer, AllValuesQuantizer, FixedQuantizer)}


def _from_spec(spec):
    """The Python quantizer of a C++ QuantizerSpec's JSON."""
    cls = _BUILTIN[spec["class_name"]]
    if cls is FixedQuantizer:
        return FixedQuantizer(spec["num_bits"], spec["init_min"], spec["init_max"], spec["narrow_range"])
    return cls(spec["num_bits"], spec["per_axis"], spec["symmetric"], spec["narrow_range"])


__all__ = ["Quantizer", "LastValueQuantizer", "MovingAverageQuantizer", "AllValuesQuantizer", "FixedQuantizer"]
