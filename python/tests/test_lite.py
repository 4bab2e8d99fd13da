"""qlite.lite.Interpreter against the C++ runtime (qlite run) on files the C++ converter writes, and TF's semantics."""
import numpy as np
import pytest

import qlite
from qlite.lite import Interpreter


def random_input(detail, batch, rng):
    shape = (batch,) + tuple(detail["shape"][1:])
    dtype = detail["dtype"]
    if dtype == np.float32:
        return rng.random(shape, dtype=np.float32)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, size=shape, dtype=dtype)


def cpp_run(cli, path, x, tmp_path):
    """The same input through the C++ CLI (qlite run): the output bytes it writes."""
    inp = tmp_path / "in.bin"
    inp.write_bytes(np.ascontiguousarray(x).tobytes())
    cli("run", path, "--input", inp, "--batch", x.shape[0], "--output", tmp_path / "out", "--quiet")
    return (tmp_path / "out0.bin").read_bytes()


@pytest.mark.parametrize("name", ["float32", "dynamic", "float16", "int8", "int8io", "uint8io"])
@pytest.mark.parametrize("batch", [1, 7])
def test_outputs_equal_cpp_runtime_bytes(cpp_models, cli, name, batch, rng, tmp_path):
    it = Interpreter(model_path=str(cpp_models[name]))
    inp = it.get_input_details()[0]
    out = it.get_output_details()[0]
    if batch != 1:
        it.resize_tensor_input(inp["index"], [batch] + list(inp["shape"][1:]))
    it.allocate_tensors()
    x = random_input(inp, batch, rng)
    it.set_tensor(inp["index"], x)
    it.invoke()
    y = it.get_tensor(out["index"])
    assert y.shape == (batch, 10)
    assert y.dtype == out["dtype"]
    assert y.tobytes() == cpp_run(cli, cpp_models[name], x, tmp_path)


def test_details_have_tensorflow_keys_and_types(cpp_models):
    it = Interpreter(model_path=str(cpp_models["int8io"]))
    inp, = it.get_input_details()
    out, = it.get_output_details()
    for d in (inp, out):
        assert set(d) == {"name", "index", "shape", "shape_signature", "dtype", "quantization",
                          "quantization_parameters", "sparsity_parameters"}
        assert isinstance(d["name"], str) and isinstance(d["index"], int)
        assert d["shape"].dtype == np.int32 and d["shape_signature"].dtype == np.int32
        assert d["dtype"] is np.int8
        scale, zero_point = d["quantization"]
        assert isinstance(scale, float) and isinstance(zero_point, int) and scale > 0
        qp = d["quantization_parameters"]
        assert set(qp) == {"scales", "zero_points", "quantized_dimension"}
        assert qp["scales"].dtype == np.float32 and qp["zero_points"].dtype == np.int32
        assert qp["scales"][0] == np.float32(scale) and qp["zero_points"][0] == zero_point
    assert list(inp["shape"]) == [1, 28, 28]
    assert list(inp["shape_signature"]) == [-1, 28, 28]
    assert list(out["shape"]) == [1, 10]


def test_float_model_details(cpp_models):
    it = Interpreter(model_path=str(cpp_models["float32"]))
    d = it.get_input_details()[0]
    assert d["dtype"] is np.float32
    assert d["quantization"] == (0.0, 0)
    assert d["quantization_parameters"]["scales"].size == 0
    assert it.get_input_details()[0]["index"] != it.get_output_details()[0]["index"]


def test_model_content_equals_model_path(cpp_models, rng):
    content = cpp_models["int8"].read_bytes()
    a, b = Interpreter(model_path=str(cpp_models["int8"])), Interpreter(model_content=content)
    x = random_input(a.get_input_details()[0], 1, rng)
    results = []
    for it in (a, b):
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        results.append(it.get_tensor(it.get_output_details()[0]["index"]))
    assert results[0].tobytes() == results[1].tobytes()


def test_threads_give_identical_results(cpp_models, rng):
    x = random_input(Interpreter(model_path=str(cpp_models["int8"])).get_input_details()[0], 64, rng)
    results = []
    for threads in (1, 2):
        it = Interpreter(model_path=str(cpp_models["int8"]), num_threads=threads)
        assert it.num_threads == threads
        i = it.get_input_details()[0]["index"]
        it.resize_tensor_input(i, [64, 28, 28])
        it.allocate_tensors()
        it.set_tensor(i, x)
        it.invoke()
        results.append(it.get_tensor(it.get_output_details()[0]["index"]))
    assert results[0].tobytes() == results[1].tobytes()


def test_tensor_view_is_the_output_without_copy(cpp_models, rng):
    it = Interpreter(model_path=str(cpp_models["int8io"]))
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.set_tensor(inp["index"], random_input(inp, 1, rng))
    it.invoke()
    view = it.tensor(out["index"])
    assert np.array_equal(view(), it.get_tensor(out["index"]))
    assert not view().flags.writeable
    # An input view writes into the runtime's input buffer, as TF's does.
    it.tensor(inp["index"])()[...] = 0
    assert not it.get_tensor(inp["index"]).any()


def test_non_contiguous_input_is_copied(cpp_models, rng):
    it = Interpreter(model_path=str(cpp_models["float32"]))
    it.allocate_tensors()
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    big = rng.random((1, 28, 56), dtype=np.float32)
    strided = big[:, :, ::2]
    assert not strided.flags.c_contiguous
    it.set_tensor(i, strided)
    it.invoke()
    a = it.get_tensor(o)
    it.set_tensor(i, np.ascontiguousarray(strided))
    it.invoke()
    assert a.tobytes() == it.get_tensor(o).tobytes()


def test_wrong_dtype_and_shape_are_value_errors(cpp_models):
    it = Interpreter(model_path=str(cpp_models["int8io"]))
    it.allocate_tensors()
    i = it.get_input_details()[0]["index"]
    with pytest.raises(ValueError, match="Got value of type float32 but expected type int8"):
        it.set_tensor(i, np.zeros((1, 28, 28), np.float32))
    with pytest.raises(ValueError, match="Dimension mismatch"):
        it.set_tensor(i, np.zeros((2, 28, 28), np.int8))
    with pytest.raises(ValueError, match="Dimension mismatch. Got 2 but expected 3"):
        it.set_tensor(i, np.zeros((28, 28), np.int8))
    with pytest.raises(ValueError, match="not an input"):
        it.set_tensor(12345, np.zeros((1, 28, 28), np.int8))


def test_life_cycle_errors(cpp_models):
    it = Interpreter(model_path=str(cpp_models["int8"]))
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    with pytest.raises(ValueError, match="allocate_tensors"):
        it.set_tensor(i, np.zeros((1, 28, 28), np.float32))
    with pytest.raises(ValueError, match="not ready"):
        it.invoke()
    it.allocate_tensors()
    with pytest.raises(ValueError, match="call invoke"):
        it.get_tensor(o)
    with pytest.raises(ValueError, match="call invoke"):
        it.tensor(o)
    it.set_tensor(i, np.zeros((1, 28, 28), np.float32))
    it.invoke()
    it.get_tensor(o)
    # A resize needs allocate_tensors again, and clears the outputs.
    it.resize_tensor_input(i, [3, 28, 28])
    with pytest.raises(ValueError, match="allocate_tensors"):
        it.invoke()
    it.allocate_tensors()
    assert list(it.get_input_details()[0]["shape"]) == [3, 28, 28]
    with pytest.raises(ValueError, match="call invoke"):
        it.get_tensor(o)


def test_resize_changes_only_the_batch(cpp_models):
    it = Interpreter(model_path=str(cpp_models["float32"]))
    i = it.get_input_details()[0]["index"]
    with pytest.raises(ValueError, match="only its batch dimension"):
        it.resize_tensor_input(i, [1, 28, 29])
    with pytest.raises(ValueError, match="rank"):
        it.resize_tensor_input(i, [1, 784])
    with pytest.raises(ValueError, match="batch must be"):
        it.resize_tensor_input(i, [0, 28, 28])
    it.resize_tensor_input(i, [5, 28, 28], strict=True)  # dimension 0 is -1 in shape_signature
    it.allocate_tensors()
    assert list(it.get_output_details()[0]["shape"]) == [5, 10]


def test_bad_models_are_value_errors(tmp_path):
    with pytest.raises(ValueError):
        Interpreter(model_content=b"not a flatbuffer at all")
    with pytest.raises(ValueError):
        Interpreter(model_path=str(tmp_path / "missing.tflite"))
    with pytest.raises(ValueError, match="exactly one"):
        Interpreter()
    with pytest.raises(ValueError, match="num_threads"):
        Interpreter(model_content=b"x", num_threads=0)


def test_truncated_files_never_crash(cpp_models):
    data = cpp_models["int8"].read_bytes()
    for n in range(0, len(data), max(1, len(data) // 97)):
        try:
            Interpreter(model_content=data[:n])
        except ValueError:
            pass


def test_reset_all_variables_restarts_an_lstm(rng):
    # The int8 LSTM from the shared models folder, when the checkout has one
    # beside it (as CI does): its state carries over from one invoke to the
    # next, and reset_all_variables() restarts it.
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "models" / "trained_lstm_int8.tflite"
    if not path.exists():
        pytest.skip(f"{path} not present")
    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    # Near-black rows (the input zero point, plus a little noise), as MNIST
    # mostly is: full-range noise saturates the softmax and hides the state.
    zp = inp["quantization"][1]
    x = np.clip(zp + rng.integers(-10, 11, size=inp["shape"]), -128, 127).astype(np.int8)
    it.set_tensor(inp["index"], x)
    it.invoke()
    first = it.get_tensor(out["index"]).tobytes()
    it.invoke()
    second = it.get_tensor(out["index"]).tobytes()
    it.reset_all_variables()
    it.invoke()
    assert it.get_tensor(out["index"]).tobytes() == first
    assert second != first, "the state did not carry over between invokes"


def test_reset_all_variables_keeps_results(cpp_models, rng):
    it = Interpreter(model_path=str(cpp_models["int8io"]))
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    x = random_input(inp, 1, rng)
    it.set_tensor(inp["index"], x)
    it.invoke()
    before = it.get_tensor(out["index"])
    it.reset_all_variables()
    it.invoke()
    assert it.get_tensor(out["index"]).tobytes() == before.tobytes()


def test_package_exposes_interpreter():
    assert qlite.lite.Interpreter is Interpreter
    assert Interpreter.__doc__ and Interpreter.invoke.__doc__


def test_a_held_view_blocks_a_new_batch_instead_of_dangling(cpp_models, rng):
    """A view from tensor() points into the runtime's buffers, which a new batch replaces: as TensorFlow does,
    allocate_tensors() refuses (RuntimeError) while one is alive, instead of leaving it on freed memory."""
    it = Interpreter(model_path=str(cpp_models["int8"]))
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.allocate_tensors()
    x = random_input(inp, 1, rng)
    it.set_tensor(inp["index"], x)
    it.invoke()
    expected = it.get_tensor(out["index"])
    view = it.tensor(out["index"])()
    row = view[0]  # a slice keeps the view's buffer too
    del view
    it.resize_tensor_input(inp["index"], [3] + list(inp["shape"][1:]))
    with pytest.raises(RuntimeError, match="at least 1 reference to internal data"):
        it.allocate_tensors()
    assert np.array_equal(row, expected[0])  # still the runtime's live buffer, not freed memory
    del row
    it.allocate_tensors()  # no view left: the new batch is planned
    it.set_tensor(inp["index"], np.repeat(x, 3, axis=0))
    it.invoke()
    assert np.array_equal(it.tensor(out["index"])(), np.repeat(expected, 3, axis=0))
    # The same batch plans nothing new: a view may stay alive across allocate_tensors().
    held = it.tensor(out["index"])()
    it.allocate_tensors()
    assert held.shape == (3, 10)


def test_interpreter_takes_tensorflow_parameters_in_order(cpp_models):
    """TF 2.9's Interpreter(model_path, model_content, experimental_delegates, num_threads, ...): the experimental
    ones at their defaults are accepted; what qlite does not have is a ValueError saying so."""
    path = str(cpp_models["int8"])
    it = Interpreter(path, None, None, 2)
    assert it.num_threads == 2
    Interpreter(model_path=path, experimental_delegates=[], num_threads=1, experimental_op_resolver_type=None,
                experimental_preserve_all_tensors=False).allocate_tensors()
    for kwargs, message in (({"experimental_delegates": [object()]}, "experimental_delegates"),
                            ({"experimental_op_resolver_type": 1}, "experimental_op_resolver_type"),
                            ({"experimental_preserve_all_tensors": True}, "preserve_all_tensors")):
        with pytest.raises(ValueError, match=message):
            Interpreter(model_path=path, **kwargs)


# RESHAPE(x (1, 12) float32, new_shape (2,) int32) with the new shape a graph
# input, as lite::ModelBuilder writes it (tests/e2e/dynamic_shape_run_cli_test.cpp
# builds the same graph): the output's shape follows the values at invoke.
_DYNAMIC_RESHAPE = bytes.fromhex(
    "1c00000054464c3314001c00040008000c00000010000000140018001400000003000000380000002c0000001c000000"
    "10000000040000000100000034000000010000008c00000002000000ac0100009c01000001000000a400000001000000"
    "8001000000000a001000040008000c000a000000340000001c000000040000000f00000073657276696e675f64656661"
    "756c74000100000004000000d4ffffffd000000002000000020000001400000004000000ecffffffdc00000001000000"
    "dafeffff0001000008000c00040008000800000008000000010000000e000000716c6974655f70726f64756365720000"
    "0c001400040008000c0010000c00000018000000480000009c000000040000000100000024000000030000009c000000"
    "640000004000000000000e001400000008000c00070010000e000000000000110c000000600000001000000002000000"
    "000000000100000072ffffff0400000000000000b8ffffff640000000400000001000000790000000c00100008000700"
    "00000c000c000000000000021800000004000000090000006e65775f736861706500000001000000020000000c000c00"
    "04000000000008000c0000001000000004000000010000007800000002000000010000000c0000000000060006000500"
    "060000000016060008000400060000000c000000040004000400000005000000716c6974650000000000000000000000")


def test_dynamic_output_shape_follows_the_invoke(rng):
    it = Interpreter(model_content=_DYNAMIC_RESHAPE)
    it.allocate_tensors()
    x_d, s_d = it.get_input_details()
    out = it.get_output_details()[0]
    x = rng.random((1, 12), dtype=np.float32)
    it.set_tensor(x_d["index"], x)
    for shape in ([3, 4], [12, 1], [2, -1], [1, 12]):
        it.set_tensor(s_d["index"], np.array(shape, dtype=np.int32))
        it.invoke()
        want = x.reshape(shape)
        y = it.get_tensor(out["index"])
        assert y.shape == want.shape
        assert list(it.get_output_details()[0]["shape"]) == list(want.shape)
        assert y.tobytes() == want.tobytes()
    it.set_tensor(s_d["index"], np.array([5, 5], dtype=np.int32))
    with pytest.raises(Exception, match="RESHAPE"):
        it.invoke()
