"""The ops take their arrays from the backend (DESIGN convention 12): no NumPy-only call outside ``ops/_compat.py``.

Every ``np.<name>`` in ``src/chainrule/ops/*.py`` must be

* a NumPy ufunc called directly (np.exp, np.maximum, np.matmul): ufuncs dispatch to any array type through
  ``__array_ufunc__``, so np.exp(a) runs on a CuPy array where it is (and costs no module look-up on the
  hot paths); a ufunc's methods (np.add.at, np.add.reduceat) are not all mirrored elsewhere and live in
  ``_compat``;
* or one of the backend-neutral names of ``ALLOWED``, each with its reason.

Anything else (array creation: np.zeros, np.empty, np.full, np.arange; functions: np.where, np.concatenate,
np.pad) comes from the inputs' module, ``xp = array_module(a)``, or from ``_compat``; and no op imports from
NumPy but ``import numpy as np``.
"""

import ast
from pathlib import Path

import numpy as np
import pytest

import chainrule.ops

OPS = Path(chainrule.ops.__file__).parent
COMPAT = "_compat.py"

ALLOWED = {
    "dtype": "dtype objects: CuPy uses NumPy's dtypes",
    "float32": "a scalar type: a dtype, and NumPy scalars combine with any module's arrays",
    "int32": "a scalar type, as float32",
    "integer": "the abstract integer type, for isinstance checks of Python-side arguments (sizes, axes)",
    "inf": "a Python float",
    "nan": "a Python float",
    "errstate": "NumPy's floating-point warning control; other modules do not warn, so it changes nothing there",
    "iinfo": "the limits of an integer dtype (dtypes are shared)",
    "result_type": "dtype promotion, called on dtypes (not on arrays)",
}


def violations(source, filename="<ops>"):
    """Each disallowed NumPy use in ``source``: (line, what)."""
    tree = ast.parse(source, filename)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "numpy":
            found.append((node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "numpy" and (alias.name, alias.asname) != ("numpy", "np"):
                    alias_part = f" as {alias.asname}" if alias.asname else ""
                    found.append((node.lineno, f"import {alias.name}{alias_part}"))
        elif isinstance(node, ast.Name) and node.id == "numpy":
            found.append((node.lineno, "numpy (use np)"))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "np":
            name = node.attr
            if name in ALLOWED:
                continue
            if isinstance(getattr(np, name, None), np.ufunc):
                parent = parents.get(node)
                if isinstance(parent, ast.Attribute):  # np.add.at: a ufunc's method
                    found.append((node.lineno, f"np.{name}.{parent.attr}"))
                continue
            found.append((node.lineno, f"np.{name}"))
    return sorted(found)


def _op_files():
    return sorted(p for p in OPS.glob("*.py") if p.name != COMPAT)


@pytest.mark.parametrize("path", _op_files(), ids=lambda p: p.name)
def test_ops_use_only_backend_neutral_numpy(path):
    bad = violations(path.read_text(), str(path))
    listing = "\n".join(f"  {path.name}:{line}: {what}" for line, what in bad)
    assert not bad, (
        f"NumPy-only calls in ops/{path.name}: take the array module from the inputs "
        f"(xp = array_module(a)) or put the call in ops/{COMPAT}:\n{listing}"
    )


def test_the_check_finds_what_it_must():
    source = """
import numpy as np
import numpy.linalg
from numpy.lib.stride_tricks import as_strided

def f(a):
    b = np.zeros(a.shape)            # creation
    np.add.at(b, [0], 1)             # a ufunc's method
    c = np.where(a > 0, a, 0)        # a function
    return np.exp(a) + np.float32(1) + b + c  # a ufunc and a scalar type: fine
"""
    assert [what for _, what in violations(source)] == [
        "import numpy.linalg",
        "from numpy.lib.stride_tricks import ...",
        "np.zeros",
        "np.add.at",
        "np.where",
    ]


def test_every_allowed_name_is_used_and_exists():
    """The allow-list stays short: each name exists in NumPy and is used somewhere in the ops."""
    used = set()
    for path in _op_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "np":
                used.add(node.attr)
    assert all(hasattr(np, name) for name in ALLOWED)
    assert set(ALLOWED) <= used, f"allowed but unused (remove them): {sorted(set(ALLOWED) - used)}"


def test_the_compat_module_holds_the_numpy_only_calls():
    """The helpers exist and give NumPy's results (the counterparts for other modules need their libraries)."""
    from chainrule.ops import _compat

    out = np.zeros(3)
    _compat.scatter_add(out, np.array([0, 2, 0]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(out, [4.0, 0.0, 2.0])
    rows = np.zeros((3, 2))
    _compat.scatter_add_rows(rows, np.array([2, 0, 2]), np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(rows, [[2.0, 2.0], [0.0, 0.0], [4.0, 5.0]])
    assert _compat.pad_pairs(1, 2) == [(1, 1), (1, 1)] and _compat.pad_pairs(((0, 2), (3, 1)), 2) == [(0, 2), (3, 1)]
    view = _compat.as_strided(np.arange(4.0), (3, 2), (8, 8))
    np.testing.assert_array_equal(view, [[0, 1], [1, 2], [2, 3]])
    assert not view.flags.writeable
    x = np.array([-1.0, 0.0, 0.5], np.float32)
    assert _compat.erf(x).dtype == np.float32
    np.testing.assert_allclose(_compat.erf(x), [-0.8427008, 0.0, 0.5204999], rtol=1e-6)
