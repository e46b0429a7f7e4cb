"""The ``chainrule`` command: train, evaluate, predict, info, explain, export, and the demo.

Every error a user can cause (a missing file, a bad column, a bad option) ends with a
one-line message on stderr and exit status 2, never a traceback.
"""

import argparse
import sys

from .. import __version__
from ..errors import ChainruleError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse would also print the usage)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser():
    from .commands import add_evaluate, add_info, add_predict, add_train
    from .explain_cmd import add_explain
    from .export_cmd import add_export

    parser = _Parser(prog="chainrule", description="chainrule: neural networks from first principles, on NumPy.")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    add_train(sub)
    add_evaluate(sub)
    add_predict(sub)
    add_info(sub)
    add_explain(sub)
    add_export(sub)
    demo = sub.add_parser("demo", help="backpropagation by hand and by autograd, then a network learning XOR")
    demo.add_argument("--seed", type=int, default=0, help="seed for the XOR network's initial weights")
    demo.add_argument("--lr", type=float, default=2.0, help="learning rate of gradient descent on XOR")
    demo.add_argument("--hidden", type=int, default=4, help="hidden units of the XOR network")
    return parser


def main(argv=None):
    """Entry point of the ``chainrule`` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["train", *argv]  # the main job: `chainrule` trains on the embedded default dataset
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    from ..backend import keep_freed_memory

    keep_freed_memory()  # training and predicting reuse freed arrays instead of page-faulting them in anew
    try:
        if args.command == "demo":
            from .demo import run_demo

            return run_demo(seed=args.seed, lr=args.lr, hidden=args.hidden)
        return args.run(args)
    except BrokenPipeError:  # `chainrule predict ... | head`: the reader has gone; stop quietly
        _silence_stdout()
        return 141  # 128 + SIGPIPE, as a command killed by the broken pipe would end
    except (ChainruleError, OSError, ValueError) as e:
        print(f"chainrule {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"chainrule {args.command}: interrupted", file=sys.stderr)
        return 130


def _silence_stdout():
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's final flush of stdout would fail again
    except (OSError, ValueError):
        pass


def _one_line(e):
    text = str(e) if str(e) else type(e).__name__
    if isinstance(e, OSError) and e.filename:
        text = f"{e.filename}: {e.strerror}"
    return " ".join(text.split())
