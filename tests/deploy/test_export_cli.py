"""``chainrule export``: a model file to ONNX, checked with onnxruntime; bad arguments are one line, exit 2."""

import numpy as np
import onnxruntime as ort
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.cli import main
from chainrule.cli.commands import build_cnn


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_an_mlp_file(tmp_path, capsys):
    model = nn.mlp(6, [5], 3).eval()
    cr.save(model, tmp_path / "m.crm")
    assert main(["export", str(tmp_path / "m.crm"), str(tmp_path / "m.onnx"), "--opset", "13"]) == 0
    assert "opset 13" in capsys.readouterr().out
    x = np.random.default_rng(0).random((7, 6), dtype=np.float32)
    with cr.no_grad():
        want = model(cr.tensor(x)).numpy()
    assert np.abs(_session(tmp_path / "m.onnx").run(None, {"input": x})[0] - want).max() <= 1e-5


def test_a_cnn_file_needs_its_input_shape(tmp_path, capsys):
    cr.save(build_cnn(10), tmp_path / "c.crm")
    out = tmp_path / "c.onnx"
    assert main(["export", str(tmp_path / "c.crm"), str(out)]) == 2
    err = capsys.readouterr().err
    assert "give --input-shape C,H,W" in err and len(err.strip().splitlines()) == 1 and not out.exists()
    assert main(["export", str(tmp_path / "c.crm"), str(out), "--input-shape", "1,28,28"]) == 0
    assert _session(out).get_inputs()[0].shape == ["batch", 1, 28, 28]


@pytest.mark.parametrize("extra, mentions", [
    (["--opset", "9"], "opset must be an int from 13 to 21"),
    (["--input-shape", "1,x"], "--input-shape must be positive ints"),
])
def test_bad_options(tmp_path, capsys, extra, mentions):
    cr.save(nn.Linear(2, 2), tmp_path / "m.crm")
    assert main(["export", str(tmp_path / "m.crm"), str(tmp_path / "m.onnx"), *extra]) == 2
    err = capsys.readouterr().err
    assert mentions in err and len(err.strip().splitlines()) == 1


def test_a_missing_or_foreign_model_file(tmp_path, capsys):
    assert main(["export", str(tmp_path / "none.crm"), str(tmp_path / "m.onnx")]) == 2
    (tmp_path / "bad.crm").write_bytes(b"not a model")
    assert main(["export", str(tmp_path / "bad.crm"), str(tmp_path / "m.onnx")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("chainrule export: error:") for line in lines)
