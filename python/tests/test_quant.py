"""qlite.quantization.keras and qlite.lite.TFLiteConverter against the C++ CLI (qlite qat / qlite convert).

Same model, data and seed: the same history, the same QAT accuracy, byte-identical models and .tflite files; and
the QAT accuracy equals the converted file's accuracy in the Interpreter.
"""
import json

import numpy as np
import pytest

import qlite
import qlite.tf as tf
import qlite.tfmot as tfmot
from qlite import keras
from qlite.lite import Interpreter, Optimize, OpsSet, TFLiteConverter
from qlite.quantization.keras import (quantize_annotate_layer, quantize_annotate_model, quantize_apply,
                                      quantize_model, quantize_scope)


@pytest.fixture(scope="module")
def fashion():
    (x, y), (xt, yt) = keras.datasets.fashion_mnist.load_data()
    return (x / 255.0, y), (xt / 255.0, yt)


def tflite_accuracy(content, images, labels):
    """The article's evaluate_model loop over a .tflite file, batched."""
    it = Interpreter(model_content=content)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.resize_tensor_input(inp["index"], [len(images), 28, 28])
    it.allocate_tensors()
    x = images.astype(np.float32)
    if inp["dtype"] != np.float32:
        scale, zero_point = inp["quantization"]
        v = x.astype(np.float64) / scale  # as TFLite 2.9's QUANTIZE: double division, round half away from zero
        r = np.where(np.abs(v - np.trunc(v)) == 0.5, np.trunc(v) + np.sign(v), np.round(v))
        x = np.clip(r + zero_point, -128, 127).astype(inp["dtype"])
    it.set_tensor(inp["index"], x)
    it.invoke()
    return float(np.mean(np.argmax(it.get_tensor(out["index"]), axis=1) == labels))


def qat_fit(model, x, y):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model.fit(x[:1000], y[:1000], batch_size=500, epochs=1, validation_split=0.1, verbose=0)


def dense_only(model):
    def apply_quantization_to_dense(layer):
        if isinstance(layer, keras.layers.Dense):
            return quantize_annotate_layer(layer)
        return layer

    annotated = keras.models.clone_model(model, clone_function=apply_quantization_to_dense)
    return quantize_apply(annotated)


@pytest.mark.parametrize("scope", ["whole", "dense"])
def test_qat_equals_the_cli_and_the_file(fashion, cpp_models, cli, tmp_path, scope):
    (x, y), (xt, yt) = fashion
    args = ["qat", "--model", cpp_models["model"], "--out", tmp_path / "cli", "--quiet", "--json", tmp_path / "q.json"]
    cli(*(args + (["--only", "dense"] if scope == "dense" else [])))
    expected = json.loads((tmp_path / "q.json").read_text())
    cli("convert", "--model", tmp_path / "cli", "--mode", "int8", "--out", tmp_path / "cli.tflite", "--quiet")

    base = keras.models.load_model(str(cpp_models["model"]))
    q = quantize_model(base) if scope == "whole" else dense_only(base)
    assert [l.name for l in q.layers if isinstance(l, tfmot.quantization.keras.QuantizeWrapper)] == \
        [n for n in expected["quantized_layers"] if n != "quantize_layer"]
    h = qat_fit(q, x, y)
    assert h.history == expected["history"]
    _, accuracy = q.evaluate(xt, yt, batch_size=256)
    assert accuracy == expected["qat_test_accuracy"]
    q.save(str(tmp_path / "py"))
    assert (tmp_path / "py" / "model.safetensors").read_bytes() == (tmp_path / "cli" / "model.safetensors").read_bytes()

    converter = tf.lite.TFLiteConverter.from_keras_model(q)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    content = converter.convert()
    assert isinstance(content, bytes)
    assert content == (tmp_path / "cli.tflite").read_bytes()
    # The promise: the QAT model's accuracy is the deployed file's.
    assert tflite_accuracy(content, xt, yt) == accuracy


def test_int8_io_qat_file(fashion, cpp_models, cli, tmp_path):
    (x, y), (xt, yt) = fashion
    q = quantize_model(keras.models.load_model(str(cpp_models["model"])))
    qat_fit(q, x, y)
    _, accuracy = q.evaluate(xt, yt)
    converter = TFLiteConverter.from_keras_model(q)
    converter.optimizations = [Optimize.DEFAULT]
    converter.target_spec.supported_ops = [OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    content = converter.convert()
    it = Interpreter(model_content=content)
    assert it.get_input_details()[0]["dtype"] is np.int8
    assert tflite_accuracy(content, xt, yt) == accuracy


@pytest.mark.parametrize("mode", ["float32", "dynamic", "float16", "int8", "int8io", "uint8io"])
def test_post_training_conversions_equal_the_cli(fashion, cpp_models, mode):
    """The float model the CLI trained, converted from Python: byte-identical to `qlite convert`."""
    (x, _), _ = fashion
    model = keras.models.load_model(str(cpp_models["model"]))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode in ("int8", "int8io", "uint8io"):
        def representative_data_gen():
            for input_value in tf.data.Dataset.from_tensor_slices(x).batch(1).take(100):
                yield [input_value]
        converter.representative_dataset = representative_data_gen
    if mode in ("int8io", "uint8io"):
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8 if mode == "int8io" else tf.uint8
        converter.inference_output_type = converter.inference_input_type
    assert converter.convert() == cpp_models[mode].read_bytes()


def test_from_concrete_functions_converts_the_traced_model(cpp_models):
    model = keras.models.load_model(str(cpp_models["model"]))
    run_model = tf.function(lambda x: model(x))
    concrete_func = run_model.get_concrete_function(tf.TensorSpec([1, 28, 28], model.inputs[0].dtype))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete_func], model)
    assert converter.convert() == cpp_models["float32"].read_bytes()


def test_annotate_model_then_apply_equals_quantize_model(cpp_models):
    base = keras.models.load_model(str(cpp_models["model"]))
    a = quantize_apply(quantize_annotate_model(base))
    b = quantize_model(base)
    assert [l.name for l in a.layers] == [l.name for l in b.layers]
    assert [w.tobytes() for w in a.get_weights()] == [w.tobytes() for w in b.get_weights()]
    assert {type(l).__name__ for l in quantize_annotate_model(base).layers} == {"QuantizeAnnotate"}
    with quantize_scope():
        pass


def test_freeze_bn_after_trains_batch_statistics_then_the_file_equals_qat(fashion):
    (x, y), (xt, yt) = fashion
    inputs = keras.Input(shape=(28, 28))
    h = keras.layers.Reshape((28, 28, 1))(inputs)
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(h)
    h = keras.layers.BatchNormalization(momentum=0.9)(h)  # moving statistics settle within the short fit
    h = keras.layers.ReLU(6.0)(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inputs=inputs, outputs=keras.layers.Dense(10)(h), name="bn")
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:2048], y[:2048], batch_size=32, epochs=1, verbose=0)
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValueError, match="freeze_bn_after"):
            quantize_model(model, freeze_bn_after=bad)
    q = quantize_model(model, freeze_bn_after=4)
    q.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    q.fit(x[2048:2560], y[2048:2560], batch_size=64, epochs=1, verbose=0)  # 8 steps: 4 unfrozen, 4 frozen
    converter = TFLiteConverter.from_keras_model(q)
    converter.optimizations = [Optimize.DEFAULT]
    content = converter.convert()
    _, qat_accuracy = q.evaluate(xt[:500], yt[:500], verbose=0)
    assert qat_accuracy == tflite_accuracy(content, xt[:500], yt[:500])  # a tiny model: the equality is the point


def float_then_qat_accuracies(model, x, y, xt, yt, float_images, qat_images, test_images):
    """Trains the model one epoch on the first float_images, its QAT model on the next qat_images; returns the QAT
    accuracy and the int8 file's on the first test_images."""
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:float_images], y[:float_images], batch_size=32, epochs=1, verbose=0)
    q = quantize_model(model)
    q.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-4),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    end = float_images + qat_images
    q.fit(x[float_images:end], y[float_images:end], batch_size=32, epochs=1, verbose=0)
    converter = TFLiteConverter.from_keras_model(q)
    converter.optimizations = [Optimize.DEFAULT]
    content = converter.convert()
    _, qat_accuracy = q.evaluate(xt[:test_images], yt[:test_images], verbose=0)
    return qat_accuracy, tflite_accuracy(content, xt[:test_images], yt[:test_images])


def test_densenet_style_batch_norm_and_relu_with_no_op_before_them(fashion):
    """Concatenate -> BatchNormalization -> ReLU (DenseNet), pooling -> ReLU, global pooling -> BatchNormalization:
    nothing before them to fold or fuse into, yet QAT trains them and its accuracy is the file's."""
    (x, y), (xt, yt) = fashion
    layers = keras.layers
    inputs = keras.Input(shape=(28, 28))
    h = layers.Reshape((28, 28, 1))(inputs)
    h = layers.ReLU()(layers.MaxPooling2D()(layers.Conv2D(8, 3, padding="same")(h)))
    h = layers.Concatenate()([layers.Conv2D(8, 3, padding="same")(h), h])
    h = layers.Activation("relu")(layers.BatchNormalization(momentum=0.9)(h))
    h = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(h)
    h = layers.BatchNormalization(momentum=0.9)(layers.GlobalAveragePooling2D()(h))
    model = keras.Model(inputs=inputs, outputs=layers.Dense(10)(h), name="densenet_style")
    qat_accuracy, file_accuracy = float_then_qat_accuracies(model, x, y, xt, yt, 3000, 1000, 1000)
    assert qat_accuracy > 0.3
    assert qat_accuracy == file_accuracy
    float_converter = TFLiteConverter.from_keras_model(model)
    it = Interpreter(model_content=float_converter.convert())
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.resize_tensor_input(inp["index"], [100, 28, 28])
    it.allocate_tensors()
    it.set_tensor(inp["index"], xt[:100].astype(np.float32))
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(out["index"]), model.predict(xt[:100], verbose=0), rtol=1e-4, atol=1e-4)


def test_rescaling_preprocessing_in_the_model(fashion):
    """Rescaling(1 / 255) on raw pixels, as Keras tutorials put it in front of a network: trains, saves, QATs and
    converts, QAT accuracy equal to the file's."""
    (x, y), (xt, yt) = fashion
    x, xt = x * 255.0, xt * 255.0
    layers = keras.layers
    inputs = keras.Input(shape=(28, 28))
    h = layers.Rescaling(1.0 / 255)(layers.Reshape((28, 28, 1))(inputs))
    h = layers.Conv2D(8, 3, strides=2, activation="relu")(h)
    model = keras.Model(inputs=inputs, outputs=layers.Dense(10)(layers.GlobalAveragePooling2D()(h)), name="rescaled")
    assert model.layers[2].get_config()["scale"] == pytest.approx(1.0 / 255)
    with pytest.raises(ValueError, match="Rescaling"):
        layers.Rescaling([1.0, 2.0])
    qat_accuracy, file_accuracy = float_then_qat_accuracies(model, x, y, xt, yt, 2000, 500, 500)
    assert qat_accuracy == file_accuracy


def test_converter_errors(cpp_models):
    model = keras.models.load_model(str(cpp_models["model"]))
    c = TFLiteConverter.from_keras_model(model)
    c.inference_input_type = tf.int8
    c.inference_output_type = tf.int8
    with pytest.raises(ValueError, match="float32"):
        c.convert()
    c = TFLiteConverter.from_keras_model(model)
    c.optimizations = [Optimize.DEFAULT]
    c.target_spec.supported_ops = [OpsSet.TFLITE_BUILTINS_INT8]
    with pytest.raises(ValueError, match="representative_dataset"):
        c.convert()
    c.representative_dataset = lambda: iter([[np.zeros((1, 27, 28), np.float32)]])
    with pytest.raises(ValueError, match="shape"):
        c.convert()
    q = quantize_model(model)
    with pytest.raises(ValueError, match="DEFAULT"):
        TFLiteConverter.from_keras_model(q).convert()
    with pytest.raises(ValueError):
        TFLiteConverter.from_keras_model("not a model")
    with pytest.raises(ValueError, match="QuantizeConfig"):
        quantize_annotate_layer(keras.layers.Dense(3), quantize_config=object())


def test_unbuilt_model_converts_as_built():
    def make():
        return keras.Sequential([keras.layers.InputLayer(input_shape=(6,)), keras.layers.Dense(3)])
    built = make()
    built.build()
    assert TFLiteConverter.from_keras_model(make()).convert() == TFLiteConverter.from_keras_model(built).convert()


def test_tfmot_and_tf_names():
    assert tfmot.quantization.keras.quantize_model is quantize_model
    import qlite.tfmot.quantization.keras as tqk
    assert tqk.quantize_apply is quantize_apply
    assert tf.keras is qlite.keras and tf.lite is qlite.lite
    assert tf.float32 is np.float32 and tf.int8 is np.int8 and tf.uint8 is np.uint8


def test_concrete_function_spec_must_fit_the_model(cpp_models):
    """TensorFlow traces model(x) with the spec: a shape the model cannot take, or a non-float dtype, is a
    ValueError; tf.function(input_signature=[...]) gives get_concrete_function() its spec, as in TensorFlow."""
    model = keras.models.load_model(str(cpp_models["model"]))
    run_model = tf.function(lambda x: model(x))
    for shape in ([1, 28, 27], [28, 28], [1, 28, 28, 1], [0, 28, 28]):
        with pytest.raises(ValueError, match=r"incompatible with the layer: expected shape=\(None, 28, 28\)"):
            run_model.get_concrete_function(tf.TensorSpec(shape, tf.float32))
    with pytest.raises(ValueError, match="TensorSpec dtype int8"):
        run_model.get_concrete_function(tf.TensorSpec([1, 28, 28], tf.int8))
    expected = cpp_models["float32"].read_bytes()
    for spec in (tf.TensorSpec([None, 28, 28]), tf.TensorSpec(np.array([1, 28, 28]), tf.float32)):
        f = run_model.get_concrete_function(spec)
        assert TFLiteConverter.from_concrete_functions([f], model).convert() == expected

    @tf.function(input_signature=[tf.TensorSpec([1, 28, 28], tf.float32)])
    def serve(x):
        return model(x)

    assert TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], model).convert() == expected
