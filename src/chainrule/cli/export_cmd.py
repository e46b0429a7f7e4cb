"""``chainrule export MODEL.crm OUT.onnx``: a model file's network written as ONNX (``chainrule.onnx.export``)."""

import numpy as np

from ..errors import ArgumentError
from ..io.onnx import MAX_OPSET, MIN_OPSET


def _shape(text):
    try:
        dims = tuple(int(d) for d in text.split(","))
    except ValueError:
        dims = ()
    if not dims or min(dims) < 1:
        raise ArgumentError(f"--input-shape must be positive ints separated by commas (C,H,W), got {text!r}")
    return dims


def add_export(sub):
    from .commands import _typed

    p = sub.add_parser("export", help="write a model file's network as ONNX, with a symbolic batch axis")
    p.add_argument("model", help="model file")
    p.add_argument("output", help="the .onnx file to write")
    p.add_argument("--opset", type=int, default=17, help=f"ONNX opset, {MIN_OPSET} to {MAX_OPSET} (default 17)")
    p.add_argument("--input-shape", type=_typed(_shape), metavar="C,H,W",
                   help="one input row's shape, where the model file does not say it (an image model's C,H,W)")
    p.set_defaults(run=run_export)


def _row_shape(model, meta, given):
    """One row's shape: --input-shape, the preprocessed features of a table model, or the first layer's input."""
    if given:
        return given
    if meta.get("preprocessor"):
        from ..data import Preprocessor

        return (len(Preprocessor.from_json(meta["preprocessor"]).feature_names_),)
    from ..nn import Conv2d, Linear

    for m in model.modules():
        if isinstance(m, Linear):
            return (m.in_features,)
        if isinstance(m, Conv2d):
            break
    raise ArgumentError("cannot tell this model's input shape: give --input-shape C,H,W")


def run_export(args):
    from ..io import read_model_file
    from ..io.onnx import export

    if args.output == args.model:
        raise ArgumentError("the output file is the model file itself: give another name")
    model, meta = read_model_file(args.model)
    row = _row_shape(model, meta or {}, args.input_shape)
    proto = export(model.eval(), np.zeros((1, *row), np.float32), args.output, opset=args.opset)
    ins = ", ".join(f"{v.name} (batch, {', '.join(str(d.dim_value) for d in v.type.tensor_type.shape.dim[1:])})"
                    for v in proto.graph.input)
    print(f"{args.output}: ONNX opset {args.opset}, {len(proto.graph.node)} nodes, input {ins}")
    if meta and meta.get("preprocessor"):
        print("The graph takes the preprocessed features (chainrule's Preprocessor, in the model file's metadata).")
    return 0
