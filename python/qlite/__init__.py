"""qlite: Keras, tfmot and tf.lite names over the qlite C++ library.

The arithmetic runs in C++ (training, quantization-aware training, the
.tflite converter and the int8 runtime, bit-exact with TensorFlow Lite 2.9);
these modules are thin wrappers with the names users know:

- ``qlite.keras``: Sequential, Model, Input, layers, optimizers, losses,
  models, datasets, callbacks, utils.
- ``qlite.quantization.keras`` (also ``qlite.tfmot.quantization.keras``):
  quantize_model, quantize_annotate_layer, quantize_annotate_model,
  quantize_apply, quantize_scope.
- ``qlite.lite``: Interpreter, TFLiteConverter, Optimize, OpsSet.
- ``qlite.tf``: ``import qlite.tf as tf`` for tf.keras, tf.lite,
  tf.function, tf.TensorSpec and the dtypes.
"""
from . import _qlite
from . import keras
from . import lite
from . import quantization
from . import tfmot

__version__ = _qlite.__version__
__all__ = ["keras", "lite", "quantization", "tfmot", "__version__"]
