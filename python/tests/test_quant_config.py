"""Custom QuantizeConfig subclasses, the built-in quantizers and the default_8bit registry (tfmot's names).

The independent oracle is the C++ default registry: a Python config choosing exactly its quantizers must give the
same training and a byte-identical .tflite file; a config choosing differently must change the file as the
quantization arithmetic says; what qlite's C++ side cannot write is refused at quantize_apply, naming the layer.
"""
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import qlite.tf as tf
import qlite.tfmot as tfmot
from conftest import QLITE_BIN
from qlite import keras

qk = tfmot.quantization.keras
LastValueQuantizer = qk.quantizers.LastValueQuantizer
MovingAverageQuantizer = qk.quantizers.MovingAverageQuantizer
AllValuesQuantizer = qk.quantizers.AllValuesQuantizer


class DefaultDenseQuantizeConfig(qk.QuantizeConfig):
    """tfmot's documented example ("Modify parts of layer to quantize"), with the kernel's options as arguments."""

    def __init__(self, num_bits=8, narrow_range=True, per_axis=False, activation_quantizer="MovingAverageQuantizer"):
        self.num_bits = num_bits
        self.narrow_range = narrow_range
        self.per_axis = per_axis
        self.activation_quantizer = activation_quantizer

    def get_weights_and_quantizers(self, layer):
        return [(layer.kernel, LastValueQuantizer(num_bits=self.num_bits, symmetric=True,
                                                  narrow_range=self.narrow_range, per_axis=self.per_axis))]

    def get_activations_and_quantizers(self, layer):
        cls = getattr(qk.quantizers, self.activation_quantizer)
        return [(layer.activation, cls(num_bits=8, symmetric=False, narrow_range=False, per_axis=False))]

    def set_quantize_weights(self, layer, quantize_weights):
        layer.kernel = quantize_weights[0]

    def set_quantize_activations(self, layer, quantize_activations):
        layer.activation = quantize_activations[0]

    def get_output_quantizers(self, layer):
        return []

    def get_config(self):
        return {"num_bits": self.num_bits, "narrow_range": self.narrow_range, "per_axis": self.per_axis,
                "activation_quantizer": self.activation_quantizer}


SCOPE = {"DefaultDenseQuantizeConfig": DefaultDenseQuantizeConfig}


@pytest.fixture(autouse=True)
def restore_seed():
    """base_model() sets the global seed; later tests (in one pytest run) get the default back."""
    seed = keras.utils.get_random_seed()
    yield
    keras.utils.set_random_seed(seed)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    x = rng.random((600, 12, 12, 1))  # float64, as x / 255.0
    y = (rng.random(600) * 10).astype(np.uint8)
    return x, y


def base_model():
    keras.utils.set_random_seed(11)
    return keras.Sequential([keras.layers.Conv2D(4, 3, activation="relu", input_shape=(12, 12, 1)),
                             keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                             keras.layers.Dense(16, activation="relu"), keras.layers.Dense(10)])


def dense_annotated(config_for_dense):
    """The article's Dense-only clone_model, annotating Dense layers with config_for_dense() (None: registry)."""
    def fn(layer):
        if isinstance(layer, keras.layers.Dense):
            return qk.quantize_annotate_layer(layer, quantize_config=config_for_dense())
        return layer
    return keras.models.clone_model(base_model(), clone_function=fn)


def train_and_convert(model, data):
    x, y = data
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(x, y, batch_size=100, epochs=2, verbose=0, seed=5)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return history.history, converter.convert()


def tflite_argmax(content, x):
    it = tf.lite.Interpreter(model_content=content)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.resize_tensor_input(inp["index"], [len(x)] + list(inp["shape"][1:]))
    it.allocate_tensors()
    it.set_tensor(inp["index"], x.astype(np.float32))
    it.invoke()
    return np.argmax(it.get_tensor(out["index"]), axis=1)


def kernel_scales(content, tmp_path):
    """{tensor name: scale} of the per-tensor quantized constants, read by `qlite inspect` (the C++ reader)."""
    path = tmp_path / "m.tflite"
    path.write_bytes(content)
    text = subprocess.run([str(QLITE_BIN), "inspect", str(path)], capture_output=True, text=True, check=True).stdout
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"'([^']+)' INT8 \[[^\]]*\] const[^\n]*?scale=(\S+)", text)}


def test_documented_config_equals_the_registry_path(data):
    """tfmot's example config, choosing the registry's own quantizers, trains and converts to the same bytes."""
    with qk.quantize_scope(SCOPE):
        custom = qk.quantize_apply(dense_annotated(DefaultDenseQuantizeConfig))
    registry = qk.quantize_apply(dense_annotated(lambda: None))
    h_custom, f_custom = train_and_convert(custom, data)
    h_registry, f_registry = train_and_convert(registry, data)
    assert h_custom == h_registry
    assert f_custom == f_registry
    # The deployed file's predictions are the QAT model's (qlite's promise holds for Python configs too).
    x = data[0][:200]
    assert np.array_equal(tflite_argmax(f_custom, x), np.argmax(custom.predict(x), axis=1))


def test_a_config_changes_the_file(data, tmp_path):
    """4-bit kernels: scale max|w| / 7 instead of max|w| / 127, and the file still runs as QAT evaluates."""
    def annotate(bits):
        with qk.quantize_scope(SCOPE):
            return qk.quantize_apply(dense_annotated(lambda: DefaultDenseQuantizeConfig(num_bits=bits)))

    def convert(model):
        c = tf.lite.TFLiteConverter.from_keras_model(model)
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        return c.convert()

    s8, s4 = kernel_scales(convert(annotate(8)), tmp_path), kernel_scales(convert(annotate(4)), tmp_path)
    for name in ("dense/kernel", "dense_1/kernel"):
        assert s4[name] / s8[name] == pytest.approx(127.0 / 7.0, rel=1e-5)
    model = annotate(4)
    _, content = train_and_convert(model, data)
    x = data[0][:200]
    assert np.array_equal(tflite_argmax(content, x), np.argmax(model.predict(x), axis=1))
    # AllValuesQuantizer on the activation records another range than MovingAverage's EMA.
    with qk.quantize_scope(SCOPE):
        mav = qk.quantize_apply(dense_annotated(DefaultDenseQuantizeConfig))
        allv = qk.quantize_apply(dense_annotated(
            lambda: DefaultDenseQuantizeConfig(activation_quantizer="AllValuesQuantizer")))
    _, f_mav = train_and_convert(mav, data)
    _, f_allv = train_and_convert(allv, data)
    assert f_mav != f_allv


def test_quantize_apply_needs_the_scope():
    annotated = dense_annotated(DefaultDenseQuantizeConfig)
    with pytest.raises(ValueError, match=r"unknown QuantizeConfig 'DefaultDenseQuantizeConfig' \(layer 'dense"):
        qk.quantize_apply(annotated)
    with qk.quantize_scope({"Other": DefaultDenseQuantizeConfig}):
        with pytest.raises(ValueError, match="quantize_scope"):
            qk.quantize_apply(annotated)
    with qk.quantize_scope(SCOPE):
        assert [l.name for l in qk.quantize_apply(annotated).layers][-2:] == ["quant_dense", "quant_dense_1"]


def test_the_config_is_rebuilt_from_get_config():
    """As tfmot, quantize_apply uses cls.from_config(config.get_config()): state outside get_config is lost."""
    class Forgetful(DefaultDenseQuantizeConfig):
        def get_config(self):
            return {}

    cfg = Forgetful(narrow_range=False)  # would be refused if it were used as it is
    with qk.quantize_scope({"Forgetful": Forgetful}):
        qk.quantize_apply(dense_annotated(lambda: cfg))
    with qk.quantize_scope(SCOPE):
        with pytest.raises(ValueError, match="narrow_range"):
            qk.quantize_apply(dense_annotated(lambda: DefaultDenseQuantizeConfig(narrow_range=False)))


@pytest.mark.parametrize("kwargs, message", [
    ({"narrow_range": False}, r"layer 'dense' \(Dense\): kernel quantizer .*narrow_range=False is not supported"),
    ({"per_axis": True}, r"layer 'dense' \(Dense\): kernel quantizer .*per_axis=True is not supported for Dense"),
    ({"num_bits": 16}, r"layer 'dense' \(Dense\): kernel quantizer .*num_bits=16 is not supported"),
])
def test_what_cpp_cannot_express_is_a_value_error(kwargs, message):
    with qk.quantize_scope(SCOPE):
        with pytest.raises(ValueError, match=message):
            qk.quantize_apply(dense_annotated(lambda: DefaultDenseQuantizeConfig(**kwargs)))


def test_activation_choices_cpp_cannot_write_are_value_errors():
    class FourBitOutput(DefaultDenseQuantizeConfig):
        def get_activations_and_quantizers(self, layer):
            return [(layer.activation, MovingAverageQuantizer(4, False, False, False))]

    class TwoOutputs(DefaultDenseQuantizeConfig):
        def get_output_quantizers(self, layer):
            return [MovingAverageQuantizer(8, False, False, False)]

    class OwnQuantizer(qk.quantizers.Quantizer):
        def get_config(self):
            return {}

    class UsesOwnQuantizer(DefaultDenseQuantizeConfig):
        def get_weights_and_quantizers(self, layer):
            return [(layer.kernel, OwnQuantizer())]

    class QuantizesBias(DefaultDenseQuantizeConfig):
        def get_weights_and_quantizers(self, layer):
            return [(layer.bias, LastValueQuantizer(8, False, True, True))]

    cases = [(FourBitOutput, "num_bits=4 is not supported for an activation"),
             (TwoOutputs, "quantizes a layer's output once"),
             (UsesOwnQuantizer, "only choose among qlite's built-in quantizers"),
             (QuantizesBias, r"QuantizeWrapper\(Dense 'dense'\): the config must quantize exactly the \"kernel\"")]
    for cls, message in cases:
        with qk.quantize_scope({cls.__name__: cls}):
            with pytest.raises(ValueError, match=message):
                qk.quantize_apply(dense_annotated(cls))
    with pytest.raises(ValueError, match="can only be a `tfmot.quantization.keras.QuantizeConfig` instance"):
        qk.quantize_annotate_layer(keras.layers.Dense(3), quantize_config={"num_bits": 8})


def test_quantizers_have_tfmot_signatures():
    for cls in (LastValueQuantizer, MovingAverageQuantizer, AllValuesQuantizer):
        q = cls(8, True, True, False)  # positional: num_bits, per_axis, symmetric, narrow_range
        assert q.get_config() == {"num_bits": 8, "per_axis": True, "symmetric": True, "narrow_range": False}
        assert cls.from_config(q.get_config()) == q
        assert q != cls(num_bits=8, per_axis=False, symmetric=True, narrow_range=False)
        with pytest.raises(TypeError):
            cls(8)
    base = qk.QuantizeConfig()
    for method, args in (("get_weights_and_quantizers", (None,)), ("get_config", ())):
        with pytest.raises(NotImplementedError):
            getattr(base, method)(*args)


def test_default_8bit_registry():
    model = base_model()
    model.build()
    conv, pool, flatten, dense = model.layers[:4]
    registry = qk.default_8bit.Default8BitQuantizeRegistry()
    assert all(registry.supports(l) for l in (conv, pool, flatten, dense))
    c = registry.get_quantize_config(conv)
    [(w, q)] = c.get_weights_and_quantizers(conv)
    assert w.name == "conv2d/kernel:0" and w.shape == (3, 3, 1, 4)
    assert q == LastValueQuantizer(num_bits=8, per_axis=True, symmetric=True, narrow_range=True)
    assert c.get_output_quantizers(conv) == [MovingAverageQuantizer(8, False, False, False)]
    d = registry.get_quantize_config(dense)
    assert d.get_weights_and_quantizers(dense)[0][1] == LastValueQuantizer(8, False, True, True)
    p = registry.get_quantize_config(flatten)
    assert p.get_weights_and_quantizers(flatten) == [] and p.get_output_quantizers(flatten) == []
    s = registry.get_quantize_config(keras.layers.Activation("softmax"))
    assert type(s.get_output_quantizers(None)[0]).__name__ == "FixedQuantizer"
    inp = keras.layers.InputLayer(input_shape=(3,))
    assert not registry.supports(inp)
    with pytest.raises(ValueError, match="unsupported layer"):
        registry.get_quantize_config(inp)
    scheme = qk.default_8bit.Default8BitQuantizeScheme()
    assert isinstance(scheme.get_quantize_registry(), qk.default_8bit.Default8BitQuantizeRegistry)


def test_registry_config_passed_back_equals_the_default(data):
    """get_quantize_config(layer) handed to quantize_annotate_layer quantizes as quantize_config=None (no scope)."""
    registry = qk.default_8bit.Default8BitQuantizeRegistry()

    def fn(layer):
        if isinstance(layer, keras.layers.Dense):
            return qk.quantize_annotate_layer(layer, quantize_config=registry.get_quantize_config(layer))
        return layer
    via_view = qk.quantize_apply(keras.models.clone_model(base_model(), clone_function=fn),
                                 scheme=qk.default_8bit.Default8BitQuantizeScheme())
    default = qk.quantize_apply(dense_annotated(lambda: None))
    assert train_and_convert(via_view, data) == train_and_convert(default, data)


def test_a_custom_config_model_saves_and_loads(tmp_path, data):
    with qk.quantize_scope(SCOPE):
        model = qk.quantize_apply(dense_annotated(lambda: DefaultDenseQuantizeConfig(num_bits=4)))
    model.save(tmp_path / "m")
    loaded = keras.models.load_model(tmp_path / "m")  # the C++ config is saved: no Python class needed
    x = data[0][:50]
    assert np.array_equal(loaded.predict(x), model.predict(x))


def test_tfmot_documented_sequential_example():
    """tfmot's guide: a Sequential of annotated layers, the first with input_shape, then quantize_apply."""
    model = qk.quantize_annotate_model(keras.Sequential([
        qk.quantize_annotate_layer(keras.layers.Dense(20, input_shape=(20,)), DefaultDenseQuantizeConfig()),
        keras.layers.Flatten()]))
    with qk.quantize_scope(SCOPE):
        quant_aware_model = qk.quantize_apply(model)
    assert [l.name for l in quant_aware_model.layers] == ["quantize_layer", "quant_dense", "quant_flatten"]
    x = np.random.default_rng(0).random((8, 20))
    assert quant_aware_model.predict(x).shape == (8, 20)


# The other process of the save / reload tests: the test module (for DefaultDenseQuantizeConfig, the class the
# saved model names) and qlite, then MODE's steps on the model saved in DIR.
RELOAD_SCRIPT = r"""
import json, sys
import numpy as np
sys.path.insert(0, %(tests)r)
import qlite.tfmot as tfmot
from qlite import keras
import test_quant_config as t
qk = tfmot.quantization.keras
mode, model_dir, out = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "scope":
    with qk.quantize_scope(t.SCOPE):
        loaded = keras.models.load_model(model_dir)
        quantized = qk.quantize_apply(loaded)
    rng = np.random.default_rng(7)
    history, content = t.train_and_convert(quantized, (rng.random((600, 12, 12, 1)),
                                                       (rng.random(600) * 10).astype(np.uint8)))
    open(out, "wb").write(content)
    print(json.dumps(history))
elif mode == "no-scope":
    try:
        keras.models.load_model(model_dir)
    except ValueError as e:
        print("ValueError: %%s" %% e)
elif mode == "custom-objects":
    loaded = keras.models.load_model(model_dir, custom_objects=t.SCOPE)
    try:
        qk.quantize_apply(loaded)
    except ValueError as e:
        print("ValueError: %%s" %% e)
    with qk.quantize_scope(t.SCOPE):
        print([l.name for l in qk.quantize_apply(loaded).layers])
"""


def run_other_process(tmp_path, mode, model_dir):
    script = tmp_path / "reload.py"
    script.write_text(RELOAD_SCRIPT % {"tests": str(pathlib.Path(__file__).resolve().parent)})
    out = tmp_path / ("%s.tflite" % mode)
    p = subprocess.run([sys.executable, str(script), mode, str(model_dir), str(out)], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout, out


def test_an_annotated_model_with_a_python_config_reloads_in_another_process(tmp_path, data):
    """tfmot's save / load_model-in-quantize_scope / quantize_apply: the config is rebuilt from its class name and
    get_config() in the other process, and trains and converts exactly as quantize_apply in this one."""
    annotated = dense_annotated(lambda: DefaultDenseQuantizeConfig(num_bits=4,
                                                                   activation_quantizer="AllValuesQuantizer"))
    annotated.save(tmp_path / "annotated")
    stdout, out = run_other_process(tmp_path, "scope", tmp_path / "annotated")
    with qk.quantize_scope(SCOPE):
        here = qk.quantize_apply(annotated)
    history, content = train_and_convert(here, data)
    assert json.loads(stdout) == history
    assert out.read_bytes() == content
    # The oracle sees the config's choices: the default registry gives another file.
    assert train_and_convert(qk.quantize_apply(dense_annotated(lambda: None)), data)[1] != content


def test_loading_needs_the_config_class(tmp_path):
    dense_annotated(DefaultDenseQuantizeConfig).save(tmp_path / "annotated")
    stdout, _ = run_other_process(tmp_path, "no-scope", tmp_path / "annotated")
    assert re.fullmatch(r"ValueError: load_model: unknown QuantizeConfig 'DefaultDenseQuantizeConfig' \(layer "
                        r"'dense'\): Unknown object: 'DefaultDenseQuantizeConfig'.*quantize_scope.*\n", stdout)
    # custom_objects= loads it, as in Keras; quantize_apply still needs the scope, as in tfmot.
    stdout, _ = run_other_process(tmp_path, "custom-objects", tmp_path / "annotated")
    first, second = stdout.splitlines()
    assert first.startswith("ValueError: quantize_apply: unknown QuantizeConfig 'DefaultDenseQuantizeConfig'")
    assert second.endswith("'quant_dense', 'quant_dense_1']")
    # In this process too: a model loaded from a file has no live config to fall back on.
    with pytest.raises(ValueError, match="load_model: unknown QuantizeConfig 'DefaultDenseQuantizeConfig'"):
        keras.models.load_model(tmp_path / "annotated")
    with qk.quantize_scope(SCOPE):
        loaded = keras.models.load_model(tmp_path / "annotated")
    with pytest.raises(ValueError, match="quantize_scope"):
        qk.quantize_apply(loaded)


def test_saved_configs_carry_quantizers_and_refuse_what_json_cannot_hold(tmp_path, data):
    """A get_config() holding quantizer objects is saved as Keras does (class_name + config) and rebuilt; one that
    JSON cannot hold is a TypeError at save, before anything is written."""
    class HoldsQuantizer(DefaultDenseQuantizeConfig):
        def __init__(self, kernel=LastValueQuantizer(4, False, True, True)):
            super().__init__(num_bits=kernel.num_bits)
            self.kernel = kernel

        def get_config(self):
            return {"kernel": self.kernel}

    scope = {"HoldsQuantizer": HoldsQuantizer}
    dense_annotated(lambda: HoldsQuantizer(LastValueQuantizer(3, False, True, True))).save(tmp_path / "q")
    with qk.quantize_scope(scope):
        loaded = qk.quantize_apply(keras.models.load_model(tmp_path / "q"))
        here = qk.quantize_apply(dense_annotated(lambda: HoldsQuantizer(LastValueQuantizer(3, False, True, True))))
    assert train_and_convert(loaded, data) == train_and_convert(here, data)

    class Opaque(DefaultDenseQuantizeConfig):
        def __init__(self, f=None):
            super().__init__()

        def get_config(self):
            return {"f": lambda: 0}

    class NoConfig(DefaultDenseQuantizeConfig):
        get_config = qk.QuantizeConfig.get_config

    for cls, message in ((Opaque, "cannot be written as JSON"), (NoConfig, "is not implemented")):
        with pytest.raises(TypeError, match=r"save: layer 'dense': the QuantizeConfig '%s' cannot be saved: its "
                                            r"get_config\(\) %s" % (cls.__name__, message)):
            dense_annotated(cls).save(tmp_path / cls.__name__)
        assert not (tmp_path / cls.__name__).exists()
    with qk.quantize_scope({"Opaque": Opaque}):  # in this process the live config is used, as before
        qk.quantize_apply(dense_annotated(Opaque))
