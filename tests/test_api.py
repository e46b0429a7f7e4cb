"""The public API stays what it was: every public name of chainrule's modules, with its signature.

``tests/api_snapshot.json`` records the API; this test fails when a recorded name disappears or
a signature changes (new names are allowed). After a deliberate change of the API, rewrite the
snapshot with ``python tests/test_api.py`` and say so in the commit.
"""

import importlib
import inspect
import json
import sys
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("api_snapshot.json")
MODULES = [
    "chainrule",
    "chainrule.nn",
    "chainrule.nn.init",
    "chainrule.nn.utils",
    "chainrule.functional",
    "chainrule.optim",
    "chainrule.optim.lr_scheduler",
    "chainrule.data",
    "chainrule.train",
    "chainrule.metrics",
    "chainrule.io",
    "chainrule.autograd",
    "chainrule.errors",
    "chainrule.sklearn",
    "chainrule.explain",
]


def _signature(obj):
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return None


def _describe(obj):
    if inspect.isclass(obj):
        members = {}
        for name, member in sorted(vars(obj).items()):
            if name.startswith("_") and name != "__init__":
                continue
            if isinstance(member, staticmethod | classmethod):
                member = member.__func__
            if callable(member):
                members[name] = _signature(member)
            elif isinstance(member, property):
                members[name] = "property"
        bases = [b.__name__ for b in obj.__mro__[1:] if b is not object]
        return {"kind": "class", "bases": bases, "members": members}
    if callable(obj):
        return {"kind": "function", "signature": _signature(obj)}
    if inspect.ismodule(obj):
        return {"kind": "module"}
    return {"kind": type(obj).__name__}


def current_api():
    """{module: {public name: description}} for every module in MODULES."""
    api = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        api[module_name] = {name: _describe(getattr(module, name)) for name in sorted(names)}
    return api


def test_public_api_is_unchanged():
    want = json.loads(SNAPSHOT.read_text())
    have = current_api()
    problems = []
    for module_name, names in want.items():
        for name, description in names.items():
            got = have.get(module_name, {}).get(name)
            if got is None:
                problems.append(f"{module_name}.{name} is gone")
            elif got["kind"] != description["kind"]:
                problems.append(f"{module_name}.{name} was a {description['kind']}, is a {got['kind']}")
            elif description["kind"] == "function" and got["signature"] != description["signature"]:
                problems.append(f"{module_name}.{name}{description['signature']} became {got['signature']}")
            elif description["kind"] == "class":
                for member, sig in description["members"].items():
                    if member not in got["members"] and not any(
                        member in have_members for have_members in _inherited(module_name, name)
                    ):
                        problems.append(f"{module_name}.{name}.{member} is gone")
                    elif member in got["members"] and got["members"][member] != sig:
                        problems.append(f"{module_name}.{name}.{member}{sig} became {got['members'][member]}")
    assert not problems, "the public API changed:\n" + "\n".join(problems)


def _inherited(module_name, name):
    """The member names a class gets from its bases (a method moved to a base class is not gone)."""
    cls = getattr(importlib.import_module(module_name), name)
    return [set(vars(base)) for base in cls.__mro__[1:]]


if __name__ == "__main__":  # rewrite the snapshot
    SNAPSHOT.write_text(json.dumps(current_api(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}", file=sys.stderr)
