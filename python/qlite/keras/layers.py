"""Keras layers over qlite's C++ layers (include/qlite/train/layers.h).

Each class takes Keras' arguments and defaults and holds a C++ layer; a layer
called on a tensor from ``Input`` records a node of a functional model, as in
Keras. ``input_shape=`` on the first layer of a ``Sequential`` adds its
``InputLayer``.
"""
import json

import numpy as np

from .._qlite import keras as _k

_classes = {}


def _register(cls):
    _classes[cls.__name__] = cls
    return cls


def _name(name):
    return "" if name is None else str(name)


class KerasTensor:
    """A symbolic tensor: the output of ``Input`` or of a layer called on symbolic tensors."""

    dtype = np.float32

    def __init__(self, t, shape=None):
        self._t = t
        self._shape = shape

    @property
    def shape(self):
        """(None,) + the per-sample shape, when it is known."""
        if self._shape is not None:
            return self._shape
        s = self._t.shape
        return None if s is None else (None,) + tuple(s)

    @property
    def node_layer(self):
        """The layer that produced this tensor."""
        return wrap_layer(self._t.layer)


class Layer:
    """Base class of the Keras layers: a handle to a C++ layer."""

    _layer = None
    _input_shape = None

    def _set(self, cpp, input_shape=None, **kwargs):
        if kwargs:
            raise TypeError("%s: unsupported arguments %s" % (type(self).__name__, ", ".join(sorted(kwargs))))
        self._layer = cpp
        self._input_shape = None if input_shape is None else tuple(input_shape)

    def __call__(self, inputs):
        """Records this layer reading ``inputs`` (a KerasTensor, or a list of them) and returns its output."""
        as_list = isinstance(inputs, (list, tuple))
        xs = list(inputs) if as_list else [inputs]
        for x in xs:
            if not isinstance(x, KerasTensor):
                raise TypeError("%s: layers are called on tensors from keras.Input (eager calls on arrays are "
                                "not supported; use Model.predict)" % self.name)
        return KerasTensor(_k.call(self._layer, [x._t for x in xs], as_list))

    @property
    def name(self):
        """The layer's name (Keras-style unique default names are given when added to a model)."""
        return self._layer.name

    @property
    def built(self):
        """True once the model holding the layer is built."""
        return self._layer.built

    @property
    def output_shape(self):
        """(None,) + the per-sample output shape (built layers)."""
        return (None,) + tuple(self._layer.output_shape)

    def get_config(self):
        """Keras' config dict (everything but the weights)."""
        return self._layer.get_config()

    def get_weights(self):
        """The layer's weights and state as numpy arrays, in the C++ parameter order."""
        return self._layer.get_weights()

    def set_weights(self, weights):
        """Sets every weight from numpy arrays of the same shapes (ValueError otherwise; nothing changes then)."""
        self._layer.set_weights(list(weights))

    @property
    def weights(self):
        """The weight arrays (a copy), as get_weights()."""
        return self.get_weights()

    def count_params(self):
        """Number of scalars in the layer's weights and state."""
        return self._layer.count_params()

    def __repr__(self):
        return "<%s name=%s>" % (type(self).__name__, self.name)


class Variable:
    """A layer's weight as ``layer.kernel`` / ``layer.bias`` return it (Keras returns a tf.Variable).

    ``name`` is "<layer>/<weight>:0", ``shape`` the weight's shape (None
    before the layer is built), ``numpy()`` a copy of its values. A
    QuantizeConfig's get_weights_and_quantizers returns these to say which
    weight a quantizer is for.
    """

    def __init__(self, layer, param):
        self._cpp = layer
        self._param = param

    @property
    def name(self):
        """"<layer name>/<weight name>:0", as TensorFlow names a layer's variable."""
        return "%s/%s:0" % (self._cpp.name, self._param)

    def _index(self):
        names = [n.split("/")[-1] for n in self._cpp.weight_names()]
        return names.index(self._param) if self._param in names else None

    @property
    def shape(self):
        """The weight's shape, or None while the layer is not built."""
        i = self._index()
        return None if i is None or not self._cpp.built else tuple(self._cpp.get_weights()[i].shape)

    def numpy(self):
        """A copy of the weight's values (ValueError while the layer is not built)."""
        i = self._index()
        if i is None or not self._cpp.built:
            raise ValueError("%s: the layer is not built yet" % self.name)
        return self._cpp.get_weights()[i]

    def __repr__(self):
        return "<Variable '%s' shape=%s>" % (self.name, self.shape)


class ActivationFunction:
    """A layer's activation as ``layer.activation`` returns it: ``__name__`` is Keras' name ('relu', 'linear', ...)."""

    def __init__(self, name):
        self.__name__ = name

    def __repr__(self):
        return "<activation %s>" % self.__name__


class _Weighted:
    """Keras' weight and activation attributes for layers with a kernel."""

    _kernel_name = "kernel"

    @property
    def bias(self):
        """The bias Variable, or None when use_bias=False."""
        return Variable(self._layer, "bias") if self.get_config().get("use_bias", True) else None

    @property
    def activation(self):
        """The activation, with Keras' name in ``__name__``."""
        return ActivationFunction(self.get_config().get("activation") or "linear")


def wrap_layer(cpp):
    """The Python class for a C++ layer (by its Keras class name), sharing the C++ object."""
    cls = _classes.get(cpp.type, Layer)
    obj = cls.__new__(cls)
    obj._layer = cpp
    obj._input_shape = None
    return obj


@_register
class InputLayer(Layer):
    """InputLayer(input_shape=None, name=None, shape=None): the model input, per-sample shape."""

    def __init__(self, input_shape=None, batch_size=None, dtype=None, name=None, shape=None, **kwargs):
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("InputLayer needs input_shape= (the per-sample shape)")
        _check_dtype(dtype)
        self._set(_k.InputLayer(list(shape), _name(name)), **kwargs)


def Input(shape=None, batch_size=None, name=None, dtype=None, **kwargs):
    """Input(shape): the symbolic input of a functional model (per-sample shape)."""
    if shape is None:
        raise ValueError("Input needs shape= (the per-sample shape)")
    if kwargs:
        raise TypeError("Input: unsupported arguments %s" % ", ".join(sorted(kwargs)))
    _check_dtype(dtype)
    return KerasTensor(_k.Input(list(shape), _name(name)), shape=(None,) + tuple(shape))


def _initializer(init):
    """Keras' ways to name an initializer, as the JSON text the C++ layer parses:
    a name ('he_normal'), Keras' serialized dict ({'class_name': 'VarianceScaling',
    'config': {...}}), or an object with get_config() whose class name is Keras'
    (a keras.initializers instance). None: the layer's default."""
    if init is None:
        return ""
    if isinstance(init, (str, dict)):
        return json.dumps(init)
    if hasattr(init, "get_config"):
        return json.dumps({"class_name": type(init).__name__, "config": init.get_config()})
    raise TypeError("initializer must be a name, a Keras config dict or an initializer object, got %r" % (init,))


def _check_dtype(dtype):
    if dtype not in (None, "float32") and getattr(dtype, "__name__", None) != "float32":
        raise ValueError("qlite models take float32 inputs, got dtype %r" % (dtype,))


@_register
class Reshape(Layer):
    """Reshape(target_shape): per-sample reshape; one dimension may be -1."""

    def __init__(self, target_shape, name=None, **kwargs):
        self._set(_k.Reshape(list(target_shape), _name(name)), **kwargs)


@_register
class Flatten(Layer):
    """Flatten(): per-sample flatten to one dimension."""

    def __init__(self, data_format=None, name=None, **kwargs):
        self._set(_k.Flatten(_name(name)), **kwargs)


@_register
class Conv2D(_Weighted, Layer):
    """Conv2D(filters, kernel_size, strides=(1, 1), padding='valid', activation=None, use_bias=True,
    kernel_initializer='glorot_uniform', bias_initializer='zeros'): NHWC, HWIO kernel."""

    @property
    def kernel(self):
        """The kernel Variable [kh, kw, in, filters]."""
        return Variable(self._layer, "kernel")

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None, **kwargs):
        if dilation_rate not in ((1, 1), [1, 1], 1):
            raise ValueError("Conv2D: dilation_rate other than 1 is not supported by qlite")
        self._set(_k.Conv2D(int(filters), kernel_size, strides, padding, activation, bool(use_bias), _name(name),
                            _initializer(kernel_initializer), _initializer(bias_initializer)), **kwargs)


@_register
class DepthwiseConv2D(_Weighted, Layer):
    """DepthwiseConv2D(kernel_size, strides=(1, 1), padding='valid', depth_multiplier=1, activation=None, use_bias=True,
    depthwise_initializer='glorot_uniform', bias_initializer='zeros')."""

    @property
    def depthwise_kernel(self):
        """The depthwise kernel Variable [kh, kw, in, depth_multiplier]."""
        return Variable(self._layer, "depthwise_kernel")

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None, **kwargs):
        if dilation_rate not in ((1, 1), [1, 1], 1):
            raise ValueError("DepthwiseConv2D: dilation_rate other than 1 is not supported by qlite")
        self._set(_k.DepthwiseConv2D(kernel_size, strides, padding, int(depth_multiplier), activation,
                                     bool(use_bias), _name(name), _initializer(depthwise_initializer),
                                     _initializer(bias_initializer)), **kwargs)


@_register
class MaxPooling2D(Layer):
    """MaxPooling2D(pool_size=(2, 2), strides=None, padding='valid'): strides default to pool_size."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        self._set(_k.MaxPooling2D(pool_size, strides, padding, _name(name)), **kwargs)


@_register
class AveragePooling2D(Layer):
    """AveragePooling2D(pool_size=(2, 2), strides=None, padding='valid')."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        self._set(_k.AveragePooling2D(pool_size, strides, padding, _name(name)), **kwargs)


@_register
class Dense(_Weighted, Layer):
    """Dense(units, activation=None, use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros'):
    kernel [in, out] as Keras stores it."""

    @property
    def kernel(self):
        """The kernel Variable [in, units]."""
        return Variable(self._layer, "kernel")

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None, **kwargs):
        self._set(_k.Dense(int(units), activation, bool(use_bias), _name(name), _initializer(kernel_initializer),
                           _initializer(bias_initializer)), **kwargs)


@_register
class BatchNormalization(Layer):
    """BatchNormalization(axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True): channels last."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True, name=None, **kwargs):
        self._set(_k.BatchNormalization(int(axis), float(momentum), float(epsilon), bool(center), bool(scale),
                                        _name(name)), **kwargs)


@_register
class Add(Layer):
    """Add()([a, b]): elementwise sum of two tensors of the same shape."""

    def __init__(self, name=None, **kwargs):
        self._set(_k.Add(_name(name)), **kwargs)


@_register
class GlobalAveragePooling2D(Layer):
    """GlobalAveragePooling2D(keepdims=False): mean over height and width."""

    def __init__(self, data_format=None, keepdims=False, name=None, **kwargs):
        self._set(_k.GlobalAveragePooling2D(bool(keepdims), _name(name)), **kwargs)


@_register
class ZeroPadding2D(Layer):
    """ZeroPadding2D(padding=(1, 1)): an int, (rows, cols) or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, name=None, **kwargs):
        self._set(_k.ZeroPadding2D(padding if isinstance(padding, int) else tuple(padding), _name(name)), **kwargs)


@_register
class Dropout(Layer):
    """Dropout(rate, seed=None): zeroes elements with probability rate in training; identity in inference."""

    def __init__(self, rate, noise_shape=None, seed=None, name=None, **kwargs):
        if noise_shape is not None:
            raise ValueError("Dropout: noise_shape is not supported by qlite")
        self._set(_k.Dropout(float(rate), 0 if seed is None else int(seed), _name(name)), **kwargs)


@_register
class Rescaling(Layer):
    """Rescaling(scale, offset=0.0): inputs * scale + offset, e.g. Rescaling(1 / 255) in front of a network."""

    def __init__(self, scale, offset=0.0, name=None, **kwargs):
        if not all(isinstance(v, (int, float, np.floating, np.integer)) for v in (scale, offset)):
            raise ValueError("Rescaling: scale and offset must be numbers (qlite takes no per-channel lists)")
        self._set(_k.Rescaling(float(scale), float(offset), _name(name)), **kwargs)


@_register
class Concatenate(Layer):
    """Concatenate(axis=-1)([a, b, ...]): joins tensors along an axis."""

    def __init__(self, axis=-1, name=None, **kwargs):
        self._set(_k.Concatenate(int(axis), _name(name)), **kwargs)


@_register
class ReLU(Layer):
    """ReLU(max_value=None): min(max(x, 0), max_value); ReLU(6.0) is ReLU6."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, name=None, **kwargs):
        if negative_slope != 0.0 or threshold != 0.0:
            raise ValueError("ReLU: negative_slope and threshold other than 0 are not supported by qlite")
        self._set(_k.ReLU(None if max_value is None else float(max_value), _name(name)), **kwargs)


@_register
class Activation(Layer):
    """Activation(activation): 'linear', 'relu', 'relu6', 'sigmoid', 'softmax', 'tanh' or 'hard_swish' as a layer."""

    @property
    def activation(self):
        """The activation, with Keras' name in ``__name__``."""
        return ActivationFunction(self.get_config().get("activation") or "linear")

    def __init__(self, activation, name=None, **kwargs):
        self._set(_k.Activation(activation, _name(name)), **kwargs)


__all__ = ["Layer", "KerasTensor", "Input", "InputLayer", "Reshape", "Flatten", "Conv2D", "DepthwiseConv2D",
           "MaxPooling2D", "AveragePooling2D", "Dense", "BatchNormalization", "Add", "GlobalAveragePooling2D",
           "ZeroPadding2D", "Dropout", "Rescaling", "Concatenate", "ReLU", "Activation", "Variable", "ActivationFunction",
           "wrap_layer"]
