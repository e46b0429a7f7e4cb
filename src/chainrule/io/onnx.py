"""ONNX export: a traced ``Graph`` (``chainrule.graph.trace``) written as standard ONNX operators.

Each primitive maps to ONNX operators in ``_RULES`` (keyed by the primitive's class name); a primitive
with no rule, or one that needs a newer opset than asked for, is refused before anything is written,
naming the op, the layer it ran in and, where one exists, the lowest opset that has it. The batch axis
of every graph input and output is the symbolic dimension ``batch`` (``dynamic_batch=False``: the
example's batch size). The model is checked with ``onnx.checker.check_model(full_check=True)`` before
it is written, atomically. The ``onnx`` package is the optional extra ``chainrule[onnx]``.
"""

import numpy as np

from ..errors import ArgumentError, ChainruleError
from ..graph import BATCH, Graph, trace
from ..ops.conv import conv_padding, pair
from .files import write_atomic

__all__ = ["ExportError", "export", "to_model"]

MIN_OPSET, MAX_OPSET = 13, 21


class ExportError(ChainruleError, ValueError):
    """A graph that cannot be written as ONNX at the requested opset."""


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX export needs the onnx package: pip install 'chainrule[onnx]'") from None
    return onnx


class _Builder:
    """The ONNX nodes and initializers being made; ``const`` adds an initializer and names it."""

    def __init__(self, onnx, opset):
        self.onnx, self.opset = onnx, opset
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, hint):
        self.count += 1
        return f"{hint}__{self.count}"

    def const(self, array, hint="const"):
        name = self.name(hint)
        self.inits.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def add(self, op, inputs, outputs, **attrs):
        self.nodes.append(self.onnx.helper.make_node(op, inputs, outputs, **attrs))


def _pairs(geometry_pads):
    """chainrule's (top, bottom, left, right) as ONNX's (top, left, bottom, right)."""
    t, b, left, r = geometry_pads
    return [int(t), int(left), int(b), int(r)]


def _ints(values):
    return [int(v) for v in values]


def _elementwise(onnx_op):
    def rule(b, node, ins, out, shapes):
        b.add(onnx_op, ins, [out])

    return rule


def _linear(b, node, ins, out, shapes):
    x, w, *rest = ins
    bias = rest[0] if rest and rest[0] else None
    if len(node.shape) == 2:  # Gemm: x @ W.T + b
        b.add("Gemm", [x, w] + ([bias] if bias else []), [out], transB=1)
        return
    wt = b.name("weight_t")
    b.add("Transpose", [w], [wt], perm=[1, 0])
    if bias is None:
        b.add("MatMul", [x, wt], [out])
        return
    mm = b.name("matmul")
    b.add("MatMul", [x, wt], [mm])
    b.add("Add", [mm, bias], [out])


def _values(node):
    """The call's options, and over them what its forward stored (normalised axes, for one)."""
    return {**node.attrs, **node.state}


def _unbatched(node):
    if _values(node).get("unbatched"):
        raise _refuse(node, "on an unbatched (C, H, W) input: export it with a batch axis")


def _conv2d(b, node, ins, out, shapes):
    _unbatched(node)
    a = node.attrs
    kernel = shapes[node.inputs[1]][2:]
    stride, dilation = pair(a.get("stride", 1), "stride", "conv2d"), pair(a.get("dilation", 1), "dilation", "conv2d")
    pads = conv_padding(a.get("padding", 0), kernel, stride, dilation)
    b.add("Conv", [i for i in ins if i], [out], kernel_shape=_ints(kernel), strides=_ints(stride),
          dilations=_ints(dilation), pads=_pairs(pads), group=int(a.get("groups", 1)))


def _pool_options(node, op):
    a = node.attrs
    kernel = pair(a.get("kernel_size", 2), "kernel_size", op)
    stride = kernel if a.get("stride") is None else pair(a["stride"], "stride", op)
    ph, pw = pair(a.get("padding", 0), "padding", op)
    return kernel, stride, [ph, pw, ph, pw], pair(a.get("dilation", 1), "dilation", op)


def _max_pool2d(b, node, ins, out, shapes):
    _unbatched(node)
    kernel, stride, pads, dilation = _pool_options(node, "max_pool2d")
    b.add("MaxPool", ins, [out], kernel_shape=_ints(kernel), strides=_ints(stride), pads=pads,
          dilations=_ints(dilation), ceil_mode=0)


def _avg_pool2d(b, node, ins, out, shapes):
    _unbatched(node)
    kernel, stride, pads, _ = _pool_options(node, "avg_pool2d")
    # chainrule counts the zero padding in the mean (torch's default count_include_pad=True)
    b.add("AveragePool", ins, [out], kernel_shape=_ints(kernel), strides=_ints(stride), pads=pads,
          count_include_pad=1, ceil_mode=0)


def _reshape(b, node, ins, out, shapes):
    # the batch axis: 0 (ONNX's "as in the input") where the input has it at the same place, else -1
    in_shape = _values(node).get("in_shape", ())
    shape = []
    for i, d in enumerate(node.attrs["shape"]):
        if d is BATCH or isinstance(d, tuple):
            d = 0 if d is BATCH and i < len(in_shape) and in_shape[i] is BATCH else -1
        shape.append(int(d))
    if shape.count(-1) > 1:
        raise _refuse(node, f"to the shape {node.attrs['shape']}, which has more than one axis that follows the batch")
    b.add("Reshape", [ins[0], b.const(np.array(shape, np.int64), "shape")], [out])


def _softmax(onnx_op):
    def rule(b, node, ins, out, shapes):
        axis = _values(node)["axis"]  # normalised, as a 1-tuple
        b.add(onnx_op, ins, [out], axis=int(axis[0] if isinstance(axis, tuple) else axis))

    return rule


def _leaky_relu(b, node, ins, out, shapes):
    b.add("LeakyRelu", ins, [out], alpha=float(node.attrs.get("negative_slope", 0.01)))


def _gelu(b, node, ins, out, shapes):
    x = ins[0]
    approximate = node.attrs.get("approximate", "none")
    if b.opset >= 20:
        b.add("Gelu", [x], [out], approximate=approximate)
        return
    dtype = node.dtype

    def op(kind, *inputs):
        name = b.name(kind.lower())
        b.add(kind, [i if isinstance(i, str) else b.const(np.array(i, dtype)) for i in inputs], [name])
        return name

    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
        cube = op("Mul", op("Mul", x, x), x)
        cdf = op("Tanh", op("Mul", op("Add", x, op("Mul", cube, 0.044715)), np.sqrt(2 / np.pi)))
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        cdf = op("Erf", op("Mul", x, 1 / np.sqrt(2)))
    b.add("Mul", [op("Mul", x, 0.5), op("Add", cdf, 1.0)], [out])


def _batch_norm(b, node, ins, out, shapes):
    a, c = _values(node), node.shape[1]
    dtype = node.dtype
    scale = ins[1] or b.const(np.ones(c, dtype), "scale")
    bias = ins[2] if len(ins) > 2 and ins[2] else b.const(np.zeros(c, dtype), "bias")
    mean = b.const(np.asarray(a["mean"], dtype), "running_mean")
    var = b.const(np.asarray(a["var"], dtype), "running_var")
    b.add("BatchNormalization", [ins[0], scale, bias, mean, var], [out], epsilon=float(a["eps"]))


def _layer_norm(b, node, ins, out, shapes):
    a, dtype = _values(node), node.dtype
    shape = tuple(int(d) for d in a["normalized_shape"])
    scale = ins[1] or b.const(np.ones(shape, dtype), "scale")
    rest = [ins[2]] if len(ins) > 2 and ins[2] else []
    b.add("LayerNormalization", [ins[0], scale] + rest, [out], axis=int(min(a["axes"])), epsilon=float(a["eps"]))


def _concatenate(b, node, ins, out, shapes):
    b.add("Concat", ins, [out], axis=int(_values(node)["axis"]))


def _reduce(onnx_op, axes_input_opset):
    def rule(b, node, ins, out, shapes):
        a = _values(node)
        axes = [int(v) for v in a["axes"]]
        keep = int(bool(a.get("keepdims", False)))
        if b.opset >= axes_input_opset:
            b.add(onnx_op, [ins[0], b.const(np.array(axes, np.int64), "axes")], [out], keepdims=keep)
        else:
            b.add(onnx_op, [ins[0]], [out], axes=axes, keepdims=keep)

    return rule


def _embedding(b, node, ins, out, shapes):
    weight, indices = ins
    b.add("Gather", [weight, indices], [out], axis=0)


def _adaptive_avg_pool2d(b, node, ins, out, shapes):
    _unbatched(node)
    h, w = _values(node)["xshape"][2:]
    ho, wo = node.shape[2:]
    if (ho, wo) == (1, 1):
        b.add("GlobalAveragePool", ins, [out])
    elif h % ho == 0 and w % wo == 0:  # equal windows that tile the input
        k = [h // ho, w // wo]
        b.add("AveragePool", ins, [out], kernel_shape=k, strides=k)
    else:
        raise _refuse(node, f"to {ho}x{wo} from {h}x{w}: ONNX has adaptive pooling only where the sizes divide")


def _transpose(b, node, ins, out, shapes):
    b.add("Transpose", ins, [out], perm=[int(v) for v in _values(node)["axes"]])


# primitive class name -> (rule, lowest opset)
_RULES = {
    "Linear": (_linear, 13),
    "Conv2d": (_conv2d, 13),
    "MaxPool2d": (_max_pool2d, 13),
    "AvgPool2d": (_avg_pool2d, 13),
    "Reshape": (_reshape, 13),
    "Softmax": (_softmax("Softmax"), 13),
    "LogSoftmax": (_softmax("LogSoftmax"), 13),
    "LeakyReLU": (_leaky_relu, 13),
    "GELU": (_gelu, 13),
    "BatchNorm": (_batch_norm, 13),
    "LayerNorm": (_layer_norm, 17),
    "Concatenate": (_concatenate, 13),
    "Sum": (_reduce("ReduceSum", 13), 13),
    "Mean": (_reduce("ReduceMean", 18), 13),
    "Embedding": (_embedding, 13),
    "AdaptiveAvgPool2d": (_adaptive_avg_pool2d, 13),
    "Transpose": (_transpose, 13),
    **{k: (_elementwise(v), 13) for k, v in {
        "Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "Maximum": "Max", "Minimum": "Min",
        "Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "Sigmoid": "Sigmoid",
        "Tanh": "Tanh", "ReLU": "Relu",
    }.items()},
}


def _where(node):
    return f" (in layer {node.path})" if node.path else ""


def _refuse(node, why):
    return ExportError(f"onnx export: cannot export {node.op}{_where(node)} {why}")


def to_model(graph, opset=17, dynamic_batch=True, input_names=None, output_names=None):
    """The ``onnx.ModelProto`` of ``graph`` (a ``chainrule.graph.Graph``), checked; see ``export``."""
    onnx = _onnx()
    from onnx import helper

    if not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ArgumentError(f"onnx export: opset must be an int from {MIN_OPSET} to {MAX_OPSET}, got {opset!r}")
    for node in graph.nodes:  # refuse before building anything
        rule = _RULES.get(node.kind.__name__)
        if rule is None:
            raise _refuse(node, f"(primitive {node.kind.__name__}): no ONNX mapping for it")
        if rule[1] > opset:
            raise _refuse(node, f"at opset {opset}: it needs opset {rule[1]} or higher")
    rename = {}
    shapes, dtypes = dict(graph.shapes), dict(graph.dtypes)
    for names, given, what in ((graph.inputs, input_names, "input_names"),
                               (graph.outputs, output_names, "output_names")):
        if given is not None:
            given = list(given)
            if len(given) != len(names) or len(set(given)) != len(given):
                raise ArgumentError(f"onnx export: {what} must give {len(names)} distinct names, got {given!r}")
            rename.update(zip(names, given))

    if output_names is None:
        outs = [o for o in graph.outputs if o not in graph.inputs]
        rename.update((o, "output" if len(outs) == 1 else f"output_{k}") for k, o in enumerate(outs))

    def ref(name):
        return "" if name is None else rename.get(name, name)

    b = _Builder(onnx, opset)
    for node in graph.nodes:
        _RULES[node.kind.__name__][0](b, node, [ref(i) for i in node.inputs], ref(node.output), shapes)
    made = {o for n in b.nodes for o in n.output}
    outputs = []
    for o in graph.outputs:  # an output that no node makes (the model returned its input, or a constant)
        if ref(o) in made:
            outputs.append(o)
            continue
        name = b.name("output")
        b.add("Identity", [ref(o)], [name])
        rename[name] = name
        shapes[name], dtypes[name] = shapes[o], dtypes[o]
        outputs.append(name)
    used = {i for n in b.nodes for i in n.input}
    inits = [onnx.numpy_helper.from_array(np.ascontiguousarray(a), ref(k)) for k, a in graph.constants.items()
             if ref(k) in used] + b.inits

    def value_info(name):
        shape = ["batch" if d is None and dynamic_batch else d for d in shapes[name]]
        if not dynamic_batch:
            shape = [graph.batch if d is None else d for d in shape]
        elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtypes[name]))
        return helper.make_tensor_value_info(ref(name), elem, shape)

    g = helper.make_graph(b.nodes, "chainrule", [value_info(i) for i in graph.inputs],
                          [value_info(o) for o in outputs], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="chainrule")
    model.ir_version = min(model.ir_version, _IR_FOR_OPSET.get(opset, model.ir_version))
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as e:
        raise ExportError(f"onnx export: the ONNX model did not pass onnx.checker: {str(e).splitlines()[0]}") from None
    return model


# the newest IR version each opset shipped with (onnx's table), so older runtimes load the file
_IR_FOR_OPSET = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}


def export(model, example_inputs, path, opset=17, dynamic_batch=True, input_names=None, output_names=None):
    """Write ``model`` (a ``Module``, a callable on Tensors, or a traced ``Graph``) to ``path`` as ONNX.

    ``example_inputs`` (a batch; a tuple for several inputs) is what it is traced on (ignored for a Graph).
    The batch axis of the inputs and outputs is symbolic (``batch``) unless ``dynamic_batch=False``. ``path``
    may be a file name or an open binary file. Returns the ``onnx.ModelProto``.
    """
    graph = model if isinstance(model, Graph) else trace(model, example_inputs)
    if not dynamic_batch and getattr(graph, "batch", None) is None:
        raise ArgumentError("onnx export: dynamic_batch=False needs the example inputs the graph was traced on")
    proto = to_model(graph, opset, dynamic_batch, input_names, output_names)
    write_atomic(path, proto.SerializeToString())
    return proto
