"""``Optimizer``: the base class every optimiser shares (DESIGN convention 9).

The base class owns the parameter groups, the per-parameter state, the loop over
parameters, state dicts and validation. A subclass only states its defaults, checks
its own options, and writes ``update(param, grad, state, group)``: one parameter's
update, in place on the NumPy array ``param``, from the gradient array ``grad`` (which it
must never modify: other code may read ``p.grad``).

Groups of small parameters are updated in one go over flat buffers (``Optimizer._flat_step``):
``update`` runs once over the group's memory where its parameters lie one after another (as
``backend.parameter_array`` lays out a small model's), else over a copy that is written back into
every ``p._data``; the gradients are gathered into one array. An optimiser never rebinds a
parameter's ``._data`` (DESIGN convention 9): an array taken from ``p._data`` at any time is the one
``step()`` updates, and what a user writes into it between steps is what the next step starts from.
Set ``opt.fused = False`` to update parameter by parameter instead; the arithmetic is the same.

The state dict has PyTorch's layout: ``{"state": {index: {...}}, "param_groups": [{...,
"params": [index, ...]}]}``, parameters referenced by their position across the groups,
state arrays as NumPy arrays (copies) and ``step`` as a Python int.
"""

import copy
import inspect
import math
from collections import defaultdict
from itertools import chain

import numpy as np

from ..autograd import enable_grad
from ..backend import aligned_like, array_module, empty_aligned, joint_memory, memory_order
from ..errors import ArgumentError, DTypeError, ShapeError, StateDictError
from ..tensor import Tensor

_NAME_KEYS = ("params", "param_names")
_SIMPLE = {int, float, bool, str, type(None)}  # option values that need no conversion
_FLAT_MEAN_SIZE = 16384  # flat updates for groups whose parameters average at most this many elements
# Where the parameters do not lie in one stretch of memory the flat update works on a copy, which costs a copy in
# and one call per parameter out: on the CPU that pays for small parameters only (measured, one thread, 16
# parameters: SGD-momentum's step 0.75-0.8x the time of one by one up to 512 elements each, 1.2x at 2048; Adam's
# 0.3-0.45x up to 2048, 1.2x at 8192; with only 4 parameters SGD's is 1.1-1.3x, Adam's 0.6-0.7x)
_COPY_MEAN_SIZE = 512


def _plain(value):
    """NumPy scalars become Python numbers, tuples and lists are converted element-wise."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return type(value)(_plain(v) for v in value)
    return value


def _jsonable(value):
    value = _plain(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def lerp_(start, end, weight):
    """``start += weight * (end - start)`` in place, in the two forms ``torch.Tensor.lerp_`` uses."""
    diff = end - start
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:  # end + (weight - 1) * diff: exact at weight == 1
        diff *= weight - 1.0
        np.add(end, diff, out=start)
    return start


def _saved(value):
    """A state value as it goes into a state dict: arrays as NumPy copies (CuPy arrays come to the host)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if array_module(value) is not np:
        return value.get()
    return copy.deepcopy(value)


def _flat_view(a, order):
    """``a`` as a 1-D view in its memory ``order``, or None where ``a`` is not contiguous (then ravel makes a copy)."""
    return a.ravel(order) if (a.flags.f_contiguous if order == "F" else a.flags.c_contiguous) else None


class _FlatGroup:
    """A parameter group updated over flat buffers: the parameters, their gradients and their state, each one array.

    A parameter's ``._data`` is never rebound. Where the parameters lie one after the other in
    memory (``backend.parameter_array`` makes a small model's so; ``backend.joint_memory`` finds
    them), ``param`` is a view of that memory and the update runs on the parameters themselves;
    piece ``i`` starts at ``offsets[i]``, and the padding between pieces (a few elements up to a
    cache line) has a zero gradient and zero state. Otherwise ``param`` is a working copy, the
    pieces packed tight: ``gather`` copies the parameters into it (so a write to ``p._data``
    between steps counts), the update runs over it, and ``scatter`` copies the result back into
    each ``p._data``. ``state`` has the per-parameter state's keys, with one flat array per array
    entry (each parameter's state entry is a view of it, so state dicts read them as usual) and
    the common value of scalar entries. Each piece is in its parameter's memory order
    (``orders``: column-major nn.Linear weights stay so), its gradient and state likewise.
    """

    def __init__(self, params, states):
        """Flat buffers for ``params`` and their state; ``ok`` is False where they differ in dtype, device or state."""
        self.ok = False
        self.datas = datas = [p._data for p in params]  # the parameters' own arrays
        first = datas[0]
        xp = self.xp = array_module(first)
        if any(d.dtype != first.dtype or array_module(d) is not xp for d in datas):
            return
        keys = set(states[params[0]]) if params[0] in states else set()
        per_param = [states[p] if p in states else {} for p in params]
        if any(set(s) != keys for s in per_param):
            return
        self.orders = [memory_order(d) for d in datas]
        joint = joint_memory(datas) if xp is np else None
        self.in_place = joint is not None  # True: ``param`` is the parameters' own memory, nothing is copied
        if self.in_place:
            self.param, offsets = joint
        else:
            self.param = empty_aligned(sum(d.size for d in datas), first.dtype, xp=xp)
            offsets = np.cumsum([0] + [d.size for d in datas[:-1]]).tolist()
        self.pieces = [(o, d.size, d.shape, order) for o, d, order in zip(offsets, datas, self.orders)]
        # what fills the gaps when pieces are joined (``_join``): zeros for the padding after each piece
        ends = offsets[1:] + [self.param.size]
        gaps = [e - (o + d.size) for o, d, e in zip(offsets, datas, ends)]
        zeros = xp.zeros(max(gaps), first.dtype)
        self.gaps = [zeros[:n] if n else None for n in gaps]
        self.padded = any(gaps)
        self.state = {}
        for k in keys:
            values = [s[k] for s in per_param]
            if all(isinstance(v, xp.ndarray) and v.shape == d.shape for v, d in zip(values, datas)):
                self.state[k] = self._join([v.ravel(order) for v, order in zip(values, self.orders)],
                                           empty_aligned(self.param.size, first.dtype, xp=xp))
            elif all(not hasattr(v, "shape") and v == values[0] for v in values):
                self.state[k] = values[0]
            else:
                return
        self.grad = aligned_like(self.param)
        self.sources = [_flat_view(d, order) for d, order in zip(datas, self.orders)]
        self.targets = self.views(self.param)  # each parameter's piece of ``param``, in its shape and order
        self.shared = {}  # state key -> (the flat array the parameters' entries are views of, the views)
        self.share_state(params, states)
        self.ok = True

    def views(self, flat):
        """The pieces of the flat array ``flat``, each in its parameter's shape and memory order."""
        return [flat[o : o + n].reshape(shape, order=order) for o, n, shape, order in self.pieces]

    def _join(self, flat_pieces, out):
        """The 1-D ``flat_pieces`` (one per parameter) into ``out``, in the layout of ``param``."""
        if self.padded:
            flat_pieces = [x for piece, gap in zip(flat_pieces, self.gaps) for x in (piece, gap) if x is not None]
        return self.xp.concatenate(flat_pieces, out=out)

    def current(self, params, states):
        """True while the parameters are the same arrays and their state is still the views of these buffers."""
        if len(params) != len(self.datas):  # the group's list was changed
            return False
        for i, p in enumerate(params):
            if p._data is not self.datas[i]:  # rebound by the user: build anew around the new array
                return False
            s = states[p] if p in states else {}
            if len(s) != len(self.state):
                return False
            for k, (_, views) in self.shared.items():
                if s.get(k) is not views[i]:
                    return False
        return True

    def gather(self):
        """Copy the parameters' current values into ``param`` (unless it is their own memory)."""
        if not self.in_place:
            sources = [s if s is not None else d.ravel(o) for s, d, o in zip(self.sources, self.datas, self.orders)]
            self.xp.concatenate(sources, out=self.param)

    def gather_grads(self, grads):
        """Copy the gradients (arrays shaped as the parameters) into ``grad``."""
        self._join([g.ravel(order) for g, order in zip(grads, self.orders)], self.grad)

    def scatter(self):
        """Copy the updated values back into the parameters' own arrays (unless ``param`` is their memory)."""
        if not self.in_place:
            for d, t in zip(self.datas, self.targets):
                self.xp.copyto(d, t)

    def share_state(self, params, states):
        """Point every parameter's state at the flat state: array entries as views, the others as values."""
        for k, v in self.state.items():
            if hasattr(v, "shape"):
                if k in self.shared and self.shared[k][0] is v:
                    continue
                views = self.views(v)
                self.shared[k] = (v, views)
                for p, view in zip(params, views):
                    states[p][k] = view
            else:
                for p in params:
                    states[p][k] = v


class Optimizer:
    """Base class of all optimisers.

    ``params`` is an iterable of Parameters (or of ``(name, Parameter)`` pairs, as
    ``named_parameters()`` yields), or of dicts, each a parameter group
    ``{"params": [...], "lr": ..., ...}`` whose options override ``defaults``.
    """

    #: update each parameter group in one go over flat buffers (``_flat_step``); False: parameter by parameter
    fused = True

    def __init__(self, params, defaults):
        self._flat = {}  # parameter group index -> _FlatGroup
        self.defaults = dict(defaults)
        self._check_options(self.defaults, "")
        self.state = defaultdict(dict)
        self.param_groups = []
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise ArgumentError(
                f"{name}: params must be an iterable of Parameters or of dicts (parameter groups), got a single "
                "Tensor; wrap it in a list: [p]"
            )
        if isinstance(params, dict):
            params = [params]
        groups = list(params)
        if not groups:
            raise ArgumentError(
                f"{name}: got an empty parameter list; pass model.parameters() (a generator can be consumed "
                "only once: build the optimiser from a fresh one)"
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        elif not all(isinstance(g, dict) for g in groups):
            raise ArgumentError(f"{name}: params mixes parameter groups (dicts) with other items; use only dicts")
        for g in groups:
            self.add_param_group(g)

    # ---- options ---------------------------------------------------------------------------

    def _check_options(self, options, where):
        """Raise ArgumentError for an option out of range; subclasses extend it (and call super)."""
        lr = options.get("lr")
        if lr is not None:
            if not isinstance(lr, int | float | np.number) or isinstance(lr, bool) or not math.isfinite(lr):
                raise ArgumentError(
                    f"{type(self).__name__}: invalid learning rate {lr!r:.60}{where}: use a number >= 0"
                )
            if lr < 0:
                raise ArgumentError(f"{type(self).__name__}: invalid learning rate {lr}{where}: it must be >= 0")

    def _require(self, options, where, key, ok, rule):
        """Helper for ``_check_options``: ``ok(value)`` must hold for ``options[key]``."""
        if key not in options:
            return
        try:
            good = bool(ok(options[key]))
        except (TypeError, ValueError):
            good = False
        if not good:
            raise ArgumentError(f"{type(self).__name__}: invalid {key} {options[key]!r:.60}{where}: {rule}")

    def add_param_group(self, param_group):
        """Add a group of parameters, with its own options (those it omits come from the defaults)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise ArgumentError(f"{name}.add_param_group: expected a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ArgumentError(f"{name}.add_param_group: the group has no 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set | frozenset):
            raise ArgumentError(
                f"{name}: parameters must be given in an ordered collection (a set's order changes between "
                "runs); use a list"
            )
        params = list(params)
        if not params:
            raise ArgumentError(f"{name}: a parameter group has an empty parameter list")
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names.append(p[0])
                p = p[1]
            tensors.append(p)
        if names and len(names) != len(tensors):
            raise ArgumentError(f"{name}: give either all parameters with names or none (from named_parameters())")
        index = len(self.param_groups)
        for i, p in enumerate(tensors):
            label = names[i] if names else f"parameter {i}"
            if not isinstance(p, Tensor):
                raise ArgumentError(
                    f"{name}: can only optimise Tensors (Parameters), but {label} of group {index} is a "
                    f"{type(p).__name__}"
                )
            if p._data.dtype.kind != "f":
                raise DTypeError(
                    f"{name}: {label} of group {index} has dtype {p._data.dtype}; only floating-point parameters "
                    "can be optimised (convert it with .float())"
                )
            if not p.is_leaf:
                raise ArgumentError(f"{name}: {label} of group {index} is not a leaf tensor; optimise leaves only")
        seen = {}
        for i, p in enumerate(tensors):
            if id(p) in seen:
                raise ArgumentError(
                    f"{name}: a parameter appears twice in group {index} (positions {seen[id(p)]} and {i}); "
                    "pass each parameter once"
                )
            seen[id(p)] = i
        for gi, g in enumerate(self.param_groups):
            if any(id(q) in seen for q in g["params"]):
                raise ArgumentError(
                    f"{name}: some parameters appear in more than one parameter group (groups {gi} and {index}); "
                    "pass each parameter once"
                )
            if ("param_names" in g) != bool(names):
                raise ArgumentError(f"{name}: either all parameter groups have parameter names or none")
        group["params"] = tensors
        if names:
            group["param_names"] = names
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check_options(group, f" in parameter group {index}")
        self.param_groups.append(group)

    # ---- the loop ---------------------------------------------------------------------------

    def update(self, param, grad, state, group):
        """One parameter's update, in place on ``param`` (a NumPy array); ``grad`` is read-only."""
        raise NotImplementedError(f"{type(self).__name__} does not define update()")

    def step(self, closure=None):
        """Update every parameter that has a gradient; ``closure`` (optional) re-evaluates the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for index, group in enumerate(self.param_groups):
            options = {k: v if v.__class__ in _SIMPLE else _plain(v) for k, v in group.items() if k not in _NAME_KEYS}
            params = group["params"]
            if self.fused and len(params) > 1 and self._flat_step(index, params, options):
                continue
            for p in params:
                if p.grad is None:
                    continue
                self.update(p._data, self._grad(p), self.state[p], options)
        return loss

    def _grad(self, p):
        """``p``'s gradient as an array of its dtype, checked against its shape."""
        g = p.grad._data if isinstance(p.grad, Tensor) else np.asarray(p.grad)
        if g.shape != p._data.shape:
            raise ShapeError(
                f"{type(self).__name__}.step: a parameter of shape {p._data.shape} has a gradient of shape {g.shape}"
            )
        return g if g.dtype == p._data.dtype else g.astype(p._data.dtype)

    def _flat_step(self, index, params, options):
        """One ``update`` over a whole parameter group, on flat buffers; False where it does not apply.

        Every update is elementwise, so applying it once to the concatenation of a group's
        parameters, gradients and state is the same arithmetic as applying it to each parameter,
        with a few large NumPy calls instead of a few per parameter. That pays for groups of many
        small parameters (biases, normalisation layers, small networks): benchmark german_credit
        (Linear(61, 32) - Linear(32, 1), Adam, batch 32), whose optimiser step is 2-3x faster so.
        Where the parameters average more than ``_FLAT_MEAN_SIZE`` elements the update is bound by
        memory traffic, and copying the parameters and gradients in and out would cost more than it
        saves (benchmark train_mlp: its 784-256-128-10 MLP stays on the one-by-one path). The
        state arrays live in the flat buffers (each state entry is a view of them). The parameters
        keep their own arrays: where they lie in one stretch of memory (``backend.parameter_array``
        makes a small model's so) the update runs on that memory in place; otherwise on a copy, copied
        in before the update and back after it (``_FlatGroup``), for groups where that pays
        (``_COPY_MEAN_SIZE``). It applies when every parameter of the group has a gradient; otherwise
        they are updated one by one.
        """
        flat = self._flat.get(index)
        if flat is False:
            return False
        if flat is None and sum(p._data.size for p in params) > _FLAT_MEAN_SIZE * len(params):
            self._flat[index] = False  # large parameters: the update is bound by memory, not by calls
            return False
        for p in params:
            if p.grad is None:
                return False
        if flat is None or not flat.current(params, self.state):
            flat = _FlatGroup(params, self.state)
            if not flat.ok:
                return False
            if not flat.in_place and flat.xp is np and flat.param.size > _COPY_MEAN_SIZE * len(params):
                # a copy would cost more than it saves (see _COPY_MEAN_SIZE); on a GPU each call costs more
                self._flat[index] = False
                return False
            self._flat[index] = flat
        flat.gather()
        flat.gather_grads([self._grad(p) for p in params])
        self.update(flat.param, flat.grad, flat.state, options)
        flat.scatter()
        flat.share_state(params, self.state)
        return True

    def zero_grad(self, set_to_none=True):
        """Forget the gradients (``set_to_none``) or set them to zero in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._data[...] = 0

    # ---- state dicts -------------------------------------------------------------------------

    def state_dict(self):
        """``{"state": {index: {name: value}}, "param_groups": [...]}`` with copies of the state arrays."""
        mapping = {}
        groups = []
        start = 0
        for g in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
            for i, p in enumerate(g["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in g["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            key = mapping[id(p)] if isinstance(p, Tensor) else p
            state[key] = {k: _saved(v) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a state dict made by ``state_dict()``; the groups must have the same sizes as this optimiser's."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise StateDictError(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' (from state_dict())"
            )
        groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, list | tuple) or not all(
            isinstance(s, dict) and isinstance(s.get("params"), list | tuple) for s in groups
        ):
            raise StateDictError(f"{name}.load_state_dict: 'param_groups' must be a list of dicts, each with 'params'")
        if not isinstance(saved_state, dict) or not all(isinstance(v, dict) for v in saved_state.values()):
            raise StateDictError(f"{name}.load_state_dict: 'state' must map parameter indices to dicts")
        try:
            hash(tuple(chain.from_iterable(s["params"] for s in groups)))
        except TypeError:
            raise StateDictError(f"{name}.load_state_dict: the groups' 'params' must be parameter indices") from None
        saved_groups = copy.deepcopy(list(groups))
        if len(saved_groups) != len(self.param_groups):
            raise StateDictError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter groups, the optimiser "
                f"has {len(self.param_groups)}"
            )
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise StateDictError(
                    f"{name}.load_state_dict: parameter group {i} has {len(s['params'])} parameters in the state "
                    f"dict but {len(g['params'])} in the optimiser"
                )
        id_map = dict(
            zip(
                chain.from_iterable(s["params"] for s in saved_groups),
                chain.from_iterable(g["params"] for g in self.param_groups),
            )
        )
        state = defaultdict(dict)
        problems = []
        for key, values in saved_state.items():
            p = id_map.get(key)
            if p is None:
                state[key] = copy.deepcopy(values)
                continue
            own = {}
            for k, v in values.items():
                if isinstance(v, Tensor):
                    v = v._data
                if k == "step":
                    a = np.asarray(v)
                    if a.size != 1 or a.dtype.kind not in "iuf" or not np.isfinite(a).all():
                        problems.append(f"state[{key!s:.40}]['step'] is {_plain(v)!r:.40}, not a number")
                        continue
                    own[k] = int(a.item())
                elif not isinstance(v, np.ndarray | bool | int | float | str | type(None) | np.generic):
                    problems.append(f"state[{key!s:.40}][{k!r:.40}] is a {type(v).__name__}, not an array or a number")
                elif isinstance(v, np.ndarray):
                    if v.shape != p._data.shape:
                        problems.append(
                            f"state[{key!s:.40}][{k!r:.40}] has shape {v.shape}, the parameter {p._data.shape}"
                        )
                        continue
                    # a copy, on the parameter's device, of its dtype and memory order, on a cache line
                    own[k] = aligned_like(p._data, v)
                else:
                    own[k] = copy.deepcopy(v)
            state[p] = own
        if problems:
            raise StateDictError(f"{name}.load_state_dict: state that does not fit: " + "; ".join(problems[:10]))
        new_groups = []
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            for k, v in g.items():  # an option the saved group lacks keeps its current value
                s.setdefault(k, v)
            try:
                self._check_options(s, f" in parameter group {i} of the state dict")
            except (TypeError, ValueError, KeyError) as e:
                raise StateDictError(f"{name}.load_state_dict: group {i} has an invalid option: {e}") from None
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            new_groups.append(s)
        self.param_groups = new_groups
        self.state = state
        self._flat = {}

    # ---- description -------------------------------------------------------------------------

    @classmethod
    def _option_names(cls):
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in list(sig.parameters.values())[1:]
            if p.name != "params" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_config(self):
        """The constructor options (JSON data): ``type(opt).from_config(params, opt.get_config())`` rebuilds it."""
        return {k: _jsonable(self.defaults[k]) for k in self._option_names() if k in self.defaults}

    @classmethod
    def from_config(cls, params, config):
        """Build an optimiser for ``params`` from ``get_config()``'s output."""
        return cls(params, **config)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k not in _NAME_KEYS:
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)
