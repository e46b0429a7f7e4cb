"""ONNX export against onnxruntime: every mapped layer and op at batch 1, 7 and 64, the graph checked by onnx."""

import io

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.io.onnx import ExportError

BATCHES = (1, 7, 64)


class Fn(nn.Module):
    """A module around a function of its input: the elementwise and tensor ops."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class Inception(nn.Module):
    """A residual connection and a concatenation of branches."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(4, 3, 1)
        self.b = nn.Sequential(nn.Conv2d(4, 3, 3, padding=1), nn.ReLU())
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.mix = nn.Conv2d(10, 4, 1)

    def forward(self, x):
        y = cr.cat([self.a(x), self.b(x), self.pool(x)], 1)
        return (self.mix(y) + x).relu()


def lenet():
    from chainrule.cli.commands import build_cnn

    return build_cnn(10)


# id -> (the model, one row's shape, opset, tolerance)
CASES = {
    "linear": (lambda: nn.Linear(6, 3), (6,), 17, 1e-5),
    "linear_3d": (lambda: nn.Linear(6, 3), (4, 6), 17, 1e-5),
    "linear_no_bias": (lambda: nn.Linear(6, 3, bias=False), (4, 6), 13, 1e-5),
    "mlp": (lambda: nn.mlp(61, [64, 32], 2), (61,), 17, 1e-5),
    "conv2d": (lambda: nn.Conv2d(3, 4, 3), (3, 8, 8), 17, 1e-5),
    "conv2d_strided": (lambda: nn.Conv2d(2, 4, (3, 2), stride=2, padding=(1, 2), dilation=(1, 2)), (2, 9, 9), 13, 1e-5),
    "conv2d_groups": (lambda: nn.Conv2d(4, 6, 3, padding="same", groups=2), (4, 7, 7), 21, 1e-5),
    "max_pool2d": (lambda: nn.MaxPool2d(2), (3, 8, 8), 17, 1e-6),
    "max_pool2d_padded": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 9, 9), 17, 1e-6),
    "avg_pool2d_padded": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 9, 9), 17, 1e-6),
    "adaptive_avg_pool2d_1": (lambda: nn.AdaptiveAvgPool2d(1), (3, 6, 6), 17, 1e-6),
    "adaptive_avg_pool2d_2": (lambda: nn.AdaptiveAvgPool2d(2), (3, 6, 4), 17, 1e-6),
    "flatten": (lambda: nn.Flatten(), (3, 4, 2), 17, 1e-6),
    "relu": (lambda: nn.ReLU(), (5,), 17, 1e-6),
    "sigmoid": (lambda: nn.Sigmoid(), (5,), 17, 1e-6),
    "tanh": (lambda: nn.Tanh(), (5,), 17, 1e-6),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), (5,), 17, 1e-6),
    "gelu_erf_17": (lambda: nn.GELU(), (5,), 17, 1e-6),
    "gelu_tanh_17": (lambda: nn.GELU(approximate="tanh"), (5,), 17, 1e-6),
    "gelu_erf_20": (lambda: nn.GELU(), (5,), 20, 1e-6),
    "gelu_tanh_20": (lambda: nn.GELU(approximate="tanh"), (5,), 20, 1e-6),
    "softmax_axis1_3d": (lambda: nn.Softmax(dim=1), (4, 3), 17, 1e-6),
    "log_softmax": (lambda: nn.LogSoftmax(dim=-1), (6,), 13, 1e-6),
    "batch_norm1d_2d": (lambda: nn.BatchNorm1d(4), (4,), 17, 1e-5),
    "batch_norm1d_3d": (lambda: nn.BatchNorm1d(4), (4, 5), 17, 1e-5),
    "batch_norm2d": (lambda: nn.BatchNorm2d(3), (3, 4, 4), 17, 1e-5),
    "layer_norm": (lambda: nn.LayerNorm(6), (3, 6), 17, 1e-5),
    "dropout": (lambda: nn.Dropout(0.5), (5,), 17, 1e-6),
    "lenet": (lenet, (1, 28, 28), 17, 1e-5),
    "inception_residual": (Inception, (4, 6, 6), 17, 1e-5),
    "elementwise": (lambda: Fn(lambda x: (x * 2 - 1).exp() / (x + 1) + x.abs().sqrt() - (-x) ** 2), (5,), 17, 1e-6),
    "max_min": (lambda: Fn(lambda x: cr.maximum(x, x * 0.5).log() + cr.minimum(x, 0.3)), (5,), 17, 1e-6),
    "reductions": (lambda: Fn(lambda x: x.sum(-1, keepdim=True) + x.mean(1, keepdim=True)), (3, 4), 17, 1e-6),
    "reductions_18": (lambda: Fn(lambda x: x.mean(1) * 2), (3, 4), 18, 1e-6),
    "transpose_reshape": (lambda: Fn(lambda x: x.transpose(1, 2).reshape(x.shape[0], -1)), (3, 4), 17, 1e-6),
}


def _set_statistics(model, rng):
    """Normalisation layers' running statistics and affine parameters away from their defaults (ones and
    zeros), so that a lost one shows; other layers keep their initialisation (outputs of size about 1)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            m.running_mean.data[:] = rng.normal(size=m.running_mean.shape)
            m.running_var.data[:] = rng.uniform(0.5, 2, size=m.running_var.shape)
        if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d | nn.LayerNorm):
            for p in m.parameters(recurse=False):
                p.data[:] = rng.normal(scale=0.5, size=p.shape)


def _export(model, example, **kwargs):
    f = io.BytesIO()
    proto = cr.onnx.export(model, example, f, **kwargs)
    return proto, f.getvalue()


@pytest.mark.parametrize("case", sorted(CASES))
def test_onnxruntime_matches_chainrule(case):
    make, row, opset, tol = CASES[case]
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    cr.manual_seed(0)
    model = make()
    _set_statistics(model, rng)
    model.eval()
    proto, data = _export(model, rng.uniform(0.1, 1, (2, *row)).astype(np.float32), opset=opset)
    onnx.checker.check_model(proto, full_check=True)
    onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    assert proto.opset_import[0].version == opset
    for v in list(proto.graph.input) + list(proto.graph.output):
        assert v.type.tensor_type.shape.dim[0].dim_param == "batch", v.name
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for n in BATCHES:
        x = rng.uniform(0.1, 1, (n, *row)).astype(np.float32)
        with cr.no_grad():
            want = model(cr.tensor(x)).numpy()
        (got,) = session.run(None, {name: x})
        assert got.shape == want.shape and got.dtype == want.dtype
        assert np.abs(got - want).max() <= tol, (case, n, np.abs(got - want).max())


def test_every_mapped_rule_has_a_case():
    """The cases above reach every primitive the exporter maps."""
    from chainrule.graph import trace
    from chainrule.io.onnx import _RULES

    seen = set()
    for make, row, _, _ in CASES.values():
        cr.manual_seed(0)
        seen |= {n.kind.__name__ for n in trace(make(), np.ones((2, *row), np.float32)).nodes}
    seen.add("Embedding")  # integer input: test_embedding
    assert set(_RULES) - seen == set()


def test_embedding_gathers_rows():
    model = nn.Sequential(nn.Embedding(10, 3), nn.Flatten())
    proto, data = _export(model, np.array([[1, 2], [3, 4]]))
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    idx = np.array([[0, 9], [5, 5], [2, 7]])
    with cr.no_grad():
        want = model(cr.tensor(idx)).numpy()
    np.testing.assert_array_equal(session.run(None, {"input": idx})[0], want)


def test_fixed_batch_and_names():
    model = nn.Linear(4, 2).eval()
    proto, data = _export(model, np.ones((3, 4), np.float32), dynamic_batch=False, input_names=["features"],
                          output_names=["scores"])
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [3, 4] and proto.graph.input[0].name == "features" and proto.graph.output[0].name == "scores"


def test_written_to_a_file_and_loaded_back(tmp_path):
    path = tmp_path / "m.onnx"
    cr.onnx.export(nn.mlp(3, [4], 2).eval(), np.ones((1, 3), np.float32), path)
    assert onnx.load(str(path)).graph.node
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_unmapped_op_is_refused_before_writing(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 3), Fn(lambda x: x.cumsum(1)))

        def forward(self, x):
            return self.body(x)

    path = tmp_path / "m.onnx"
    with pytest.raises(ExportError, match=r"cumsum .*in layer body\.1.*no ONNX mapping"):
        cr.onnx.export(Net(), np.ones((2, 3), np.float32), path)
    assert not path.exists()


def test_op_above_the_opset_names_the_minimum():
    with pytest.raises(ExportError, match=r"layer_norm at opset 16: it needs opset 17"):
        _export(nn.LayerNorm(3), np.ones((2, 3), np.float32), opset=16)


@pytest.mark.parametrize("opset", [12, 22, "17"])
def test_opset_out_of_range(opset):
    with pytest.raises(cr.errors.ArgumentError, match="opset must be an int from 13 to 21"):
        _export(nn.ReLU(), np.ones((2, 3), np.float32), opset=opset)
