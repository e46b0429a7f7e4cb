"""The ``chainrule`` command."""

import argparse
import sys

from .. import __version__


def main(argv=None):
    """Entry point of the ``chainrule`` console script; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="chainrule", description="chainrule: neural networks from first principles, on NumPy."
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="backpropagation by hand and by autograd, then a network learning XOR")
    demo.add_argument("--seed", type=int, default=0, help="seed for the XOR network's initial weights")
    demo.add_argument("--lr", type=float, default=2.0, help="learning rate of gradient descent on XOR")
    demo.add_argument("--hidden", type=int, default=4, help="hidden units of the XOR network")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["demo", *argv]  # `chainrule --lr 1` means the default command, the demo, with its options
    args = parser.parse_args(argv)
    if args.command in (None, "demo"):  # the demo is the main job until the training workflow exists
        from .demo import run_demo

        try:
            return run_demo(
                seed=getattr(args, "seed", 0), lr=getattr(args, "lr", 2.0), hidden=getattr(args, "hidden", 4)
            )
        except ValueError as e:
            print(f"chainrule: error: {e}", file=sys.stderr)
            return 2
    return 0
