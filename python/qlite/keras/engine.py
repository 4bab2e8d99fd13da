"""Keras models: ``Model`` (functional), ``Sequential`` and ``History``, over qlite::Model."""
import math
import sys

import numpy as np

from .._qlite import keras as _k
from . import callbacks as _callbacks
from . import layers as _layers
from . import losses as _losses
from . import optimizers as _optimizers
from . import utils as _utils

History = _callbacks.History


def _batch(batch_size, default=32):
    return default if batch_size is None else int(batch_size)


def _verbose(verbose):
    return 1 if verbose == "auto" else int(verbose)


def _one_input(x):
    """Keras takes a single-input model's x as the array or as a list / tuple holding it."""
    if isinstance(x, (list, tuple)) and len(x) == 1 and isinstance(x[0], np.ndarray):
        return x[0]
    return x


def _append_validation(x, y, validation_data):
    """fit's validation_data=(x_val, y_val) as qlite's C++ loop takes validation: the rows after the training
    rows, with the validation_split whose Keras split index, int(N * (1 - split)), falls exactly between them."""
    if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3) or \
            (len(validation_data) == 3 and validation_data[2] is not None):
        raise ValueError("fit: validation_data must be (x_val, y_val); validation sample weights are not supported "
                         "by qlite")
    xv, yv = _one_input(validation_data[0]), validation_data[1]
    x, xv = np.asarray(x), np.asarray(xv)
    y, yv = np.asarray(y), np.asarray(yv)
    if x.shape[1:] != xv.shape[1:] or len(xv) < 1 or y.ndim != yv.ndim:
        raise ValueError("fit: validation_data x_val has shape %s and y_val %s; x has shape %s and y %s"
                         % (xv.shape, yv.shape, x.shape, y.shape))
    if len(yv) != len(xv):
        raise ValueError("fit: validation_data has %d images and %d labels" % (len(xv), len(yv)))
    n, total = len(x), len(x) + len(xv)
    split = len(xv) / total
    for _ in range(8):  # the division may round the index one row off: step to the split that gives n exactly
        at = int(total * (1.0 - split))
        if at == n:
            break
        split = math.nextafter(split, 1.0 if at > n else 0.0)
    else:
        raise ValueError("fit: validation_data of %d rows after %d cannot be expressed as a split" % (len(xv), n))
    return np.concatenate([x, xv]), np.concatenate([y, yv]), split


class Model:
    """Model(inputs, outputs, name=None): the functional model from ``keras.Input`` to a layer's output.

    Layers are built, trained and evaluated in C++ (qlite::Model); ``fit``,
    ``evaluate`` and ``predict`` release the GIL.
    """

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if kwargs:
            raise TypeError("Model: unsupported arguments %s" % ", ".join(sorted(kwargs)))
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 1:
                raise ValueError("Model: qlite models have exactly one input")
            inputs = inputs[0]
        if isinstance(outputs, (list, tuple)):
            if len(outputs) != 1:
                raise ValueError("Model: qlite models have exactly one output")
            outputs = outputs[0]
        if not isinstance(inputs, _layers.KerasTensor) or not isinstance(outputs, _layers.KerasTensor):
            raise TypeError("Model(inputs, outputs): both must be tensors from keras.Input and layer calls")
        self._init(_k.Model(inputs._t, outputs._t, "model" if name is None else str(name)))

    def _init(self, cpp):
        self._model = cpp
        self._metrics = []
        self.stop_training = False
        self.history = None

    @classmethod
    def _wrap(cls, cpp):
        """A Python model sharing a C++ model (Sequential when the C++ model is one)."""
        target = Sequential if cpp.class_name == "Sequential" else Model
        obj = target.__new__(target)
        obj._init(cpp)
        return obj

    # ---- structure -------------------------------------------------------
    @property
    def name(self):
        """The model's name."""
        return self._model.name

    @property
    def layers(self):
        """The layers in graph order, a shared layer once (a Sequential omits its InputLayer, as Keras does)."""
        out = []
        for i in range(self._model.num_layers):
            layer = self._model.layer(i)
            if (i == 0 and self._model.class_name == "Sequential") or self._model.node_call(i) > 0:
                continue
            out.append(_layers.wrap_layer(layer))
        return out

    @property
    def inputs(self):
        """[the model's input tensor]: shape (None,) + per-sample shape, dtype float32."""
        return [_layers.KerasTensor(None, shape=self.input_shape)]

    @property
    def outputs(self):
        """[the model's output tensor]: shape (None,) + per-sample shape, dtype float32."""
        return [_layers.KerasTensor(None, shape=self.output_shape)]

    def __call__(self, inputs, training=False):
        """Called on a numpy array: predict(); called inside tf.function's tracing: records this model."""
        if type(inputs).__name__ == "_Trace":
            inputs.model = self
            return inputs
        if isinstance(inputs, _layers.KerasTensor):
            raise ValueError("calling a model on symbolic tensors (nesting models) is not supported by qlite")
        return self.predict(inputs)

    def get_layer(self, name=None, index=None):
        """The layer with this name, or at this index of ``layers``."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError("No such layer: %s" % name)

    @property
    def input_shape(self):
        """(None,) + the per-sample input shape."""
        return (None,) + tuple(self._model.input_shape)

    @property
    def output_shape(self):
        """(None,) + the per-sample output shape."""
        return (None,) + tuple(self._model.output_shape)

    def build(self, input_shape=None):
        """Creates the weights (seeded by keras.utils.set_random_seed); the input shape is the model's own."""
        if input_shape is not None and tuple(input_shape)[1:] != tuple(self._model.input_shape):
            raise ValueError("build: the model's input shape is %s, got %s" % (self.input_shape, input_shape))
        self._model.build(_utils.get_random_seed())

    @property
    def built(self):
        """True once the weights exist."""
        return self._model.built

    def count_params(self):
        """Number of scalars in every weight and state variable."""
        return self._model.count_params()

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Prints Keras' summary table (layer, output shape, params, totals) through print_fn (print)."""
        if not self._model.built:
            self._model.build(_utils.get_random_seed())
        (print_fn or print)(self._model.summary())

    # ---- training --------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=None, jit_compile=None, **kwargs):
        """compile(optimizer, loss, metrics): Adam or SGD, SparseCategoricalCrossentropy, ['accuracy'].

        qlite always computes accuracy; ``metrics`` decides whether evaluate()
        returns [loss, accuracy] (metrics given) or the loss alone, as in Keras.
        """
        if kwargs:
            raise TypeError("compile: unsupported arguments %s" % ", ".join(sorted(kwargs)))
        if optimizer == "rmsprop":
            raise ValueError("compile: qlite has the 'adam' and 'sgd' optimizers (Keras' default 'rmsprop' is not "
                             "implemented)")
        opt = _optimizers.get(optimizer)
        if loss is None:
            raise ValueError("compile: qlite needs loss=SparseCategoricalCrossentropy(...)")
        loss = _losses.get(loss)
        metrics = list(metrics or [])
        for m in metrics:
            if m not in ("accuracy", "acc", "sparse_categorical_accuracy"):
                raise ValueError("compile: qlite computes the 'accuracy' metric only, got %r" % (m,))
        self._model.compile(opt._config_json(), loss.from_logits)
        self._metrics = metrics
        self.optimizer = opt
        self.loss = loss

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            max_queue_size=10, workers=1, use_multiprocessing=False, seed=None):
        """Trains for ``epochs`` on (x, y) with Keras' progress bar on stdout; returns a History.

        ``validation_split`` holds out the last fraction, as Keras does;
        ``validation_data=(x_val, y_val)`` evaluates on those instead (the
        split is then ignored, as in Keras);
        shuffling and initial weights follow ``seed`` (default:
        keras.utils.set_random_seed's). The GIL is released while C++ trains.
        A float32 C-contiguous ``x`` is read in place (other dtypes and
        layouts are converted to a float32 copy first). ``verbose``: 0
        silent, 1 progress bar, 2 one line per epoch. ``callbacks``:
        keras.callbacks.Callback instances (TerminateOnNaN stops on a
        non-finite loss; without it that is a RuntimeError).
        """
        unsupported = {"class_weight": class_weight is not None,
                       "sample_weight": sample_weight is not None, "initial_epoch": initial_epoch != 0,
                       "steps_per_epoch": steps_per_epoch is not None}
        for arg, given in unsupported.items():
            if given:
                raise ValueError("fit: %s is not supported by qlite" % arg)
        if x is None or y is None:
            raise ValueError("fit: x and y are required (arrays)")
        x = _one_input(x)
        if validation_data is not None:
            x, y, validation_split = _append_validation(x, y, validation_data)
        history = History()
        cbs = [history] + list(callbacks or [])
        for cb in cbs:
            if not isinstance(cb, _callbacks.Callback):
                raise TypeError("fit: callbacks must be keras.callbacks.Callback instances, got %r" % (cb,))
        verbose = _verbose(verbose)
        epochs = int(epochs)
        for cb in cbs:
            cb.set_model(self)
            cb.set_params({"epochs": epochs, "verbose": verbose, "steps": None})
            cb.on_train_begin()
        self.stop_training = False
        terminate_on_nan = any(isinstance(cb, _callbacks.TerminateOnNaN) for cb in cbs)

        def overrides(cb, name):
            return getattr(type(cb), name) is not getattr(_callbacks.Callback, name)

        batch_cbs = [cb for cb in cbs if overrides(cb, "on_train_batch_end") or overrides(cb, "on_batch_end")]
        for cb in cbs:
            cb.on_epoch_begin(0)

        def on_epoch_end(epoch, logs):
            for cb in cbs:
                cb.on_epoch_end(epoch, dict(logs))
            if not self.stop_training and epoch + 1 < epochs:
                for cb in cbs:
                    cb.on_epoch_begin(epoch + 1)
            return bool(self.stop_training)

        def on_batch_end(batch, logs):
            for cb in batch_cbs:
                cb.on_train_batch_end(batch, dict(logs))
                cb.on_batch_end(batch, dict(logs))

        seed = _utils.get_random_seed() if seed is None else int(seed)
        result = self._model.fit(x, y, epochs, _batch(batch_size), float(validation_split), bool(shuffle), seed,
                                 verbose, on_epoch_end, on_batch_end if batch_cbs else None, terminate_on_nan)
        terminated = result["terminated"]
        if terminated is not None:
            # Keras' TerminateOnNaN: the message, stop_training, and the diverged epoch's logs.
            step = terminated["step"]
            print("Batch %d: Invalid loss, terminating training" % (step if step >= 0 else 0))
            self.stop_training = True
            for cb in cbs:
                cb.on_epoch_end(terminated["epoch"], dict(terminated["logs"]))
        history.images_per_second = result["images_per_second"]
        history.params = {"epochs": epochs, "samples": result["train_samples"],
                          "val_samples": result["val_samples"], "batch_size": _batch(batch_size), "verbose": verbose}
        for cb in cbs:
            cb.on_train_end()
        self.history = history
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Loss (and accuracy when compiled with metrics) on (x, y); [loss, accuracy] or a dict with return_dict.

        A quantization-aware model evaluates with exact integer arithmetic,
        so its accuracy is the converted .tflite file's.
        """
        loss, accuracy = self._model.evaluate(_one_input(x), y, _batch(batch_size))
        if return_dict:
            d = {"loss": loss}
            if self._metrics:
                d["accuracy"] = accuracy
            return d
        return [loss, accuracy] if self._metrics else loss

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, **kwargs):
        """The model's outputs for x as a float32 numpy array (the GIL released; a float32 C-contiguous x is read in place)."""
        return self._model.predict(_one_input(x), _batch(batch_size))

    # ---- weights and files -----------------------------------------------
    def get_weights(self):
        """Every weight and state array of every layer, in layer order."""
        return self._model.get_weights()

    def set_weights(self, weights):
        """Sets every weight from a list like get_weights()'s (ValueError on a count or shape mismatch)."""
        self._model.set_weights(list(weights))

    def save(self, filepath, overwrite=True, save_format=None, **kwargs):
        """Saves the model to the directory ``filepath`` (model.json + model.safetensors, atomically)."""
        import os
        if not overwrite and os.path.exists(filepath):
            raise ValueError("save: %s exists and overwrite=False" % filepath)
        from ..quantization import keras as _qk  # an annotated model's Python configs must be writable
        _qk._check_savable(self._model)
        self._model.save(str(filepath))

    def to_json(self):
        """The architecture as JSON text (qlite's model.json)."""
        return self._model.to_json()

    def __repr__(self):
        return "<%s name=%s>" % (type(self).__name__, self.name)


class Sequential(Model):
    """Sequential(layers=None, name=None): a stack of layers.

    The first layer is an ``InputLayer``, or any layer given ``input_shape=``
    (an InputLayer is added in front of it).
    """

    def __init__(self, layers=None, name=None):
        self._init(_k.Sequential("sequential" if name is None else str(name)))
        self._has_input = False
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Appends a layer (names are made unique as Keras does)."""
        if isinstance(layer, _layers.KerasTensor):  # keras.Input(...) in a layer list
            layer = _layers.wrap_layer(layer._t.layer)
        if not isinstance(layer, _layers.Layer):
            raise TypeError("Sequential.add: expected a keras layer, got %r" % (layer,))
        has_input = getattr(self, "_has_input", self._model.num_layers > 0)
        if not has_input:
            if layer._layer.type != "InputLayer":
                if layer._input_shape is None:
                    raise ValueError("Sequential: the first layer needs input_shape= (or start with keras.Input / "
                                     "InputLayer): qlite builds models from a known input shape")
                self._model.add(_k.InputLayer(list(layer._input_shape), ""))
            self._has_input = True
        self._model.add(layer._layer)


__all__ = ["Model", "Sequential", "History"]
