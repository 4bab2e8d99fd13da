"""tf.lite names over qlite: ``Interpreter`` (the qlite runtime) and ``TFLiteConverter`` (qlite's converter).

The converter follows TensorFlow's choice of conversion from the attributes
users set:

- no ``optimizations``: float32;
- ``optimizations = [Optimize.DEFAULT]``:
  - ``target_spec.supported_types = [float16]``: float16 weights;
  - a quantization-aware model, or a ``representative_dataset``: full
    integer (int8 ops; float32 I/O unless ``inference_input_type`` /
    ``inference_output_type`` are int8 or uint8);
  - otherwise dynamic range (int8 weights, float activations).
"""
import enum

import numpy as np

from ._qlite import lite as _lite
from ._qlite import quant as _quant

Interpreter = _lite.Interpreter


class Optimize(enum.Enum):
    """tf.lite.Optimize: DEFAULT (OPTIMIZE_FOR_SIZE and OPTIMIZE_FOR_LATENCY are its deprecated aliases)."""

    DEFAULT = "DEFAULT"
    OPTIMIZE_FOR_SIZE = "OPTIMIZE_FOR_SIZE"
    OPTIMIZE_FOR_LATENCY = "OPTIMIZE_FOR_LATENCY"


class OpsSet(enum.Enum):
    """tf.lite.OpsSet: TFLITE_BUILTINS (default) and TFLITE_BUILTINS_INT8 (integer-only ops)."""

    TFLITE_BUILTINS = "TFLITE_BUILTINS"
    TFLITE_BUILTINS_INT8 = "TFLITE_BUILTINS_INT8"
    SELECT_TF_OPS = "SELECT_TF_OPS"


class TargetSpec:
    """tf.lite.TargetSpec: ``supported_ops`` (a set of OpsSet) and ``supported_types`` (e.g. [tf.float16])."""

    def __init__(self, supported_ops=None, supported_types=None):
        self.supported_ops = set(supported_ops) if supported_ops else {OpsSet.TFLITE_BUILTINS}
        self.supported_types = list(supported_types) if supported_types else []


def _type_name(t, what):
    if t is None:
        return "float32"
    name = np.dtype(t).name
    if name not in ("float32", "int8", "uint8"):
        raise ValueError("%s must be tf.float32, tf.int8 or tf.uint8, got %s" % (what, name))
    return name


class TFLiteConverter:
    """tf.lite.TFLiteConverter: ``from_keras_model(model)`` or ``from_concrete_functions(...)``, then ``convert()``."""

    def __init__(self, model):
        from .keras.engine import Model
        if not isinstance(model, Model):
            raise ValueError("TFLiteConverter: expected a keras Model, got %r" % (model,))
        self._model = model
        self.optimizations = []
        self.representative_dataset = None
        self.target_spec = TargetSpec()
        self.inference_input_type = None
        self.inference_output_type = None
        self.allow_custom_ops = False
        self.experimental_new_converter = True

    @classmethod
    def from_keras_model(cls, model):
        """A converter for a keras Model (float or quantization-aware)."""
        return cls(model)

    @classmethod
    def from_concrete_functions(cls, funcs, trackable_obj=None):
        """A converter for ``[tf.function(lambda x: model(x)).get_concrete_function(tf.TensorSpec(...))]``.

        The function must call one keras model on its input; that model is converted.
        """
        funcs = list(funcs)
        if len(funcs) != 1:
            raise ValueError("from_concrete_functions: qlite converts exactly one function")
        model = getattr(funcs[0], "model", None)
        if model is None:
            raise ValueError("from_concrete_functions: the function did not call a keras model on its input")
        return cls(model)

    @classmethod
    def from_saved_model(cls, saved_model_dir, signature_keys=None, tags=None):
        """A converter for a model saved by Model.save (qlite's directory format)."""
        from .keras.models import load_model
        return cls(load_model(saved_model_dir))

    def _mode(self):
        optimized = any(o in (Optimize.DEFAULT, Optimize.OPTIMIZE_FOR_SIZE, Optimize.OPTIMIZE_FOR_LATENCY)
                        for o in self.optimizations)
        qat = _quant.is_quantization_aware(self._model._model)
        int8_only = OpsSet.TFLITE_BUILTINS_INT8 in set(self.target_spec.supported_ops)
        float16 = any(np.dtype(t).name == "float16" for t in self.target_spec.supported_types)
        if not optimized:
            if qat:
                raise ValueError("convert: a quantization-aware model converts with optimizations=[Optimize.DEFAULT]")
            if int8_only:
                raise ValueError("convert: TFLITE_BUILTINS_INT8 needs optimizations=[Optimize.DEFAULT] and a "
                                 "representative_dataset")
            return "float32"
        if float16 and not int8_only and not qat and self.representative_dataset is None:
            return "float16"
        if qat or self.representative_dataset is not None:
            return "int8"
        if int8_only:
            raise ValueError("For full integer quantization, a `representative_dataset` must be specified.")
        return "dynamic"

    def _representative(self):
        sample = tuple(self._model._model.input_shape)
        rows = []
        for item in self.representative_dataset():
            if isinstance(item, dict):
                item = list(item.values())
            if isinstance(item, (list, tuple)):
                if len(item) != 1:
                    raise ValueError("representative_dataset: each sample is a list with one array per model "
                                     "input (qlite models have one), got %d" % len(item))
                item = item[0]
            a = np.asarray(item, dtype=np.float32)
            if a.shape == sample:
                a = a[np.newaxis]
            if a.shape[1:] != sample:
                raise ValueError("representative_dataset: a sample has shape %s; the model input is (None, %s)"
                                 % (a.shape, ", ".join(str(d) for d in sample)))
            rows.append(a)
        if not rows:
            raise ValueError("representative_dataset: the generator gave no samples")
        return np.ascontiguousarray(np.concatenate(rows, axis=0))

    def convert(self):
        """Converts the model; returns the .tflite file as bytes (the GIL released while C++ converts)."""
        mode = self._mode()
        io_in = _type_name(self.inference_input_type, "inference_input_type")
        io_out = _type_name(self.inference_output_type, "inference_output_type")
        if io_in != io_out:
            raise ValueError("convert: qlite writes the same inference_input_type and inference_output_type "
                             "(got %s and %s)" % (io_in, io_out))
        if io_in != "float32" and mode != "int8":
            raise ValueError("The inference_input_type and inference_output_type must be tf.float32 unless the "
                             "model is fully quantized (optimizations=[Optimize.DEFAULT] with a "
                             "representative_dataset or a quantization-aware model)")
        if not self._model._model.built:  # a Keras model with an input shape is built from the start
            from .keras.utils import get_random_seed
            self._model._model.build(get_random_seed())
        rep = None
        if mode == "int8" and not _quant.is_quantization_aware(self._model._model):
            rep = self._representative()
        return _quant.convert(self._model._model, mode, io_in, rep)


__all__ = ["Interpreter", "TFLiteConverter", "Optimize", "OpsSet", "TargetSpec"]
