"""examples/python/seed_article.py (the article's script on qlite) against `qlite demo` with the same seed.

The Python path and the C++ path must give the same accuracies (Keras-side and .tflite-side) and byte-identical
.tflite files.
"""
import json
import os
import subprocess
import sys

import pytest

from conftest import SOURCE_DIR



def test_article_script_equals_qlite_demo(cli, tmp_path):
    demo = tmp_path / "demo"
    cli("demo", "--out", demo, "--seed", 0, "--latency-runs", 1, "--throughput-runs", 1, "--bench-seconds", 0,
        "--quiet")
    report = json.loads((demo / "report.json").read_text())
    variants = {v["name"]: v for v in report["variants"]}
    qat = {q["name"]: q for q in report["qat"]}

    out = tmp_path / "py"
    out.mkdir()
    env = dict(os.environ, QLITE_ARTICLE_OUT=str(out), QLITE_ARTICLE_JSON=str(tmp_path / "article.json"))
    p = subprocess.run([sys.executable, str(SOURCE_DIR / "examples" / "python" / "seed_article.py")],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "| qat-whole-article |" in p.stdout and "Epoch 1/1" in p.stdout
    article = json.loads((tmp_path / "article.json").read_text())

    assert article["baseline_accuracy"] == report["baseline"]["test_accuracy"]
    assert article["qat_whole_accuracy"] == qat["qat-whole-seed"]["int8_evaluate_accuracy"]
    assert article["qat_dense_accuracy"] == qat["qat-dense-seed"]["int8_evaluate_accuracy"]
    assert [r["name"] for r in article["tflite"]] == ["dynamic", "int8-ptq-int8io", "float16", "qat-whole-article",
                                                      "qat-dense-seed"]
    for r in article["tflite"]:
        v = variants[r["name"]]
        assert open(r["file"], "rb").read() == (demo / v["file"]).read_bytes(), r["name"]
        assert r["test_accuracy"] == v["test_accuracy"], r["name"]
        assert r["size_bytes"] == v["size_bytes"]
    # QAT accuracy is the deployed accuracy, on both paths.
    assert variants["qat-whole-article"]["test_accuracy"] == article["qat_whole_accuracy"]
