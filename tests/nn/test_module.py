"""Module: registration by assignment, the tree walk, modes, gradients, state dicts (against torch), containers,
repr, summary, get_config/from_config and the registry."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.errors import ChainruleError, StateDictError, UnknownNameError

# ---- helpers ----------------------------------------------------------------------------------------------


def _mlp():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def _torch_mlp():
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


class Net(nn.Module):
    """A hand-written model with a parameter of its own, buffers and sub-modules of several kinds."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(2, dtype=np.float32))
        self.encoder = nn.Sequential(nn.Linear(3, 5), nn.Tanh())
        self.register_buffer("running", cr.zeros(5))
        self.register_buffer("scratch", cr.ones(5), persistent=False)
        self.heads = nn.ModuleList([nn.Linear(5, 2), nn.Linear(5, 2, bias=False)])
        self.extra = nn.ModuleDict({"b": nn.Linear(2, 1), "a": nn.Sigmoid()})

    def forward(self, x):
        h = self.encoder(x) + self.running
        y = self.heads[0](h) * self.scale + self.heads[1](h)
        return self.extra["a"](self.extra["b"](y))


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(2))
        self.encoder = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh())
        self.register_buffer("running", torch.zeros(5))
        self.register_buffer("scratch", torch.ones(5), persistent=False)
        self.heads = torch.nn.ModuleList([torch.nn.Linear(5, 2), torch.nn.Linear(5, 2, bias=False)])
        self.extra = torch.nn.ModuleDict({"b": torch.nn.Linear(2, 1), "a": torch.nn.Sigmoid()})

    def forward(self, x):
        h = self.encoder(x) + self.running
        y = self.heads[0](h) * self.scale + self.heads[1](h)
        return self.extra["a"](self.extra["b"](y))


def _to_torch(state):
    return {k: torch.tensor(v) for k, v in state.items()}


def _from_torch(state):
    return OrderedDict((k, v.detach().numpy().copy()) for k, v in state.items())


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---- registration by assignment ---------------------------------------------------------------------------


def test_assignment_registers_parameters_and_modules():
    m = nn.Module()
    m.w = nn.Parameter(np.zeros((2, 3), dtype=np.float32))
    m.sub = nn.Linear(2, 2)
    m.plain = 5
    m.array = np.zeros(3)
    assert list(m._parameters) == ["w"]
    assert list(m._modules) == ["sub"]
    assert m.plain == 5 and "plain" not in m._parameters and "plain" not in m._modules
    assert m.w is m._parameters["w"]
    assert m.sub is m._modules["sub"]
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]


def test_parameter_is_a_leaf_tensor_requiring_grad():
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    assert isinstance(p, cr.Tensor)
    assert p.requires_grad and p.is_leaf
    assert not nn.Parameter(np.ones(3, dtype=np.float32), requires_grad=False).requires_grad


def test_reassigning_replaces_and_none_clears():
    m = nn.Module()
    m.sub = nn.Linear(2, 2)
    m.sub = nn.Linear(2, 3)
    assert m.sub.out_features == 3 and len(list(m.children())) == 1
    m.w = nn.Parameter(np.zeros(2, dtype=np.float32))
    m.w = None
    assert list(m.parameters()) == [m.sub.weight, m.sub.bias]
    assert "w" not in m.state_dict()
    # a parameter slot cannot silently become a plain array
    m.v = nn.Parameter(np.zeros(2, dtype=np.float32))
    with pytest.raises(TypeError):
        m.v = np.zeros(2)
    del m.sub
    assert list(m.children()) == []
    with pytest.raises(AttributeError):
        m.sub  # noqa: B018


def test_attributes_always_show_the_registered_objects():
    # parameters, buffers and sub-modules are also plain attributes (a fast lookup): every way of
    # registering, replacing and removing one keeps the attribute and the tables in step
    m = nn.Module()
    m.lin = nn.Linear(2, 2)
    m.register_parameter("w", nn.Parameter(np.ones(2, dtype=np.float32)))
    m.register_buffer("stats", cr.tensor(np.zeros(2)))
    m.add_module("head", nn.Linear(2, 1))
    assert m.lin is m._modules["lin"] and m.w is m._parameters["w"] and m.stats is m._buffers["stats"]
    assert m.head is m._modules["head"]
    m.stats = np.ones(3)
    assert m.stats is m._buffers["stats"] and m.stats.shape == (3,)
    m.register_parameter("w", None)
    assert m.w is None and list(m.state_dict()) == ["stats", "lin.weight", "lin.bias", "head.weight", "head.bias"]
    m.head = None
    assert m.head is None and "head" not in dict(m.named_children())
    del m.lin
    with pytest.raises(AttributeError):
        m.lin  # noqa: B018
    md = nn.ModuleDict({"keys": nn.ReLU(), "a": nn.Tanh()})
    assert list(md.keys()) == ["keys", "a"]  # a name the class uses keeps the class's meaning
    del md["a"]
    assert "a" not in md and not hasattr(md, "a")
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    ml.insert(0, nn.Sigmoid())
    assert [type(getattr(ml, str(i))).__name__ for i in range(3)] == ["Sigmoid", "ReLU", "Tanh"]


def test_register_buffer_persistent_and_not():
    m = nn.Module()
    m.register_buffer("mean", cr.zeros(3))
    m.register_buffer("cache", cr.ones(2), persistent=False)
    m.register_buffer("array", np.arange(4.0))  # arrays become Tensors
    assert isinstance(m.mean, cr.Tensor) and isinstance(m.array, cr.Tensor)
    assert [n for n, _ in m.named_buffers()] == ["mean", "cache", "array"]
    assert len(list(m.buffers())) == 3
    assert list(m.parameters()) == []
    assert list(m.state_dict()) == ["mean", "array"]  # non-persistent buffers are not saved
    assert not m.mean.requires_grad
    # assigning to a buffer keeps it a buffer
    m.mean = np.full(3, 7.0, dtype=np.float32)
    assert isinstance(m._buffers["mean"], cr.Tensor)
    np.testing.assert_array_equal(m.state_dict()["mean"], np.full(3, 7.0))


def test_buffers_match_torch_names():
    t = TorchNet()
    m = Net()
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert list(m.state_dict()) == list(t.state_dict())
    assert "scratch" not in m.state_dict()


@pytest.mark.parametrize("kind", ["parameter", "module"])
def test_assigning_before_super_init_is_a_clear_error(kind):
    class Bad(nn.Module):
        def __init__(self):
            if kind == "parameter":
                self.w = nn.Parameter(np.zeros(2, dtype=np.float32))
            else:
                self.lin = nn.Linear(2, 2)
            super().__init__()

    with pytest.raises(ChainruleError) as e:
        Bad()
    msg = str(e.value)
    assert "super().__init__()" in msg
    assert ("'w'" if kind == "parameter" else "'lin'") in msg
    assert "Bad" in msg


def test_plain_attributes_before_super_init_are_fine():
    class Ok(nn.Module):
        def __init__(self):
            self.size = 3
            super().__init__()
            self.lin = nn.Linear(self.size, 1)

    assert Ok().lin.in_features == 3


# ---- the tree walk ------------------------------------------------------------------------------------


def test_named_parameters_match_torch():
    m, t = Net(), TorchNet()
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [p.shape for p in m.parameters()] == [tuple(p.shape) for p in t.parameters()]
    assert all(isinstance(p, nn.Parameter) for p in m.parameters())


def test_named_parameters_prefix_and_recurse():
    m = Net()
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in m.encoder.named_parameters(prefix="enc")] == ["enc.0.weight", "enc.0.bias"]


def test_shared_parameter_listed_once():
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    b.weight = a.weight
    m = nn.Sequential(a, b)
    ta, tb = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)
    tb.weight = ta.weight
    t = torch.nn.Sequential(ta, tb)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()] == [
        "0.weight",
        "0.bias",
        "1.bias",
    ]
    assert len(list(m.parameters())) == 3
    assert set(m.state_dict()) == set(t.state_dict())  # the state dict, as torch's, names it under both names


def test_reassigned_parameter_keeps_its_place_like_torch():
    # torch replaces the entry in place (dict assignment): tying weights must not reorder the state dict
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    b.weight = a.weight
    ta, tb = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)
    tb.weight = ta.weight
    assert list(nn.Sequential(a, b).state_dict()) == list(torch.nn.Sequential(ta, tb).state_dict())


def test_replaced_submodule_keeps_its_place_like_torch():
    # transfer learning: ``model.fc = nn.Linear(...)`` replaces the head where it is
    m = nn.Module()
    m.fc = nn.Linear(3, 3)
    m.out = nn.Linear(3, 1)
    m.fc = nn.Linear(3, 3)
    t = torch.nn.Module()
    t.fc = torch.nn.Linear(3, 3)
    t.out = torch.nn.Linear(3, 1)
    t.fc = torch.nn.Linear(3, 3)
    assert [n for n, _ in m.named_children()] == [n for n, _ in t.named_children()] == ["fc", "out"]
    assert list(m.state_dict()) == list(t.state_dict())


def test_replaced_sequential_layer_keeps_forward_order():
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    setattr(m, "0", nn.Linear(3, 4))  # as torch's ``seq[0] = ...`` does
    assert [type(x).__name__ for x in m] == ["Linear", "ReLU", "Linear"]
    assert m(cr.tensor(_x(2, 3))).shape == (2, 2)


def test_shared_module_listed_once():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, nn.ReLU(), lin)
    tlin = torch.nn.Linear(2, 2)
    t = torch.nn.Sequential(tlin, torch.nn.ReLU(), tlin)
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert len(list(m.parameters())) == 2


def test_shared_module_state_dict_keys_match_torch():
    # torch's state_dict walks _modules without removing duplicates: the shared layer appears under both names,
    # so a torch state dict of this model must load into the chainrule one and vice versa.
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, nn.ReLU(), lin)
    tlin = torch.nn.Linear(2, 2)
    t = torch.nn.Sequential(tlin, torch.nn.ReLU(), tlin)
    assert list(m.state_dict()) == list(t.state_dict())


def _kind(module):
    return "Net" if type(module).__name__ == "TorchNet" else type(module).__name__


def test_children_and_modules():
    m = Net()
    t = TorchNet()
    assert [_kind(c) for c in m.children()] == [_kind(c) for c in t.children()]
    assert [n for n, _ in m.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    assert [_kind(x) for x in m.modules()] == [_kind(x) for x in t.modules()]
    assert next(iter(m.modules())) is m


def test_named_modules_prefix():
    m = _mlp()
    assert [n for n, _ in m.named_modules(prefix="net")] == ["net", "net.0", "net.1", "net.2"]


# ---- modes and gradients ------------------------------------------------------------------------------


def test_train_eval_on_whole_tree():
    m = Net()
    assert m.training and all(x.training for x in m.modules())
    assert m.eval() is m
    assert not m.training and not any(x.training for x in m.modules())
    assert m.train() is m
    assert all(x.training for x in m.modules())
    m.train(False)
    assert not any(x.training for x in m.modules())
    m.heads.train()  # a sub-tree only
    assert m.heads.training and m.heads[0].training and not m.training and not m.encoder.training


def _backward_once(m):
    out = m(cr.tensor(_x(4, 3)))
    out.sum().backward()


def test_zero_grad_set_to_none():
    m = _mlp()
    _backward_once(m)
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_zero_grad_keep_zeros():
    m = _mlp()
    _backward_once(m)
    grads = [p.grad for p in m.parameters()]
    m.zero_grad(set_to_none=False)
    for p, g in zip(m.parameters(), grads):
        assert p.grad is g  # zeroed in place, as torch
        assert p.grad.shape == p.shape
        assert not p.grad.numpy().any()
    # gradients accumulate again from zero
    _backward_once(m)
    ref = _mlp()
    ref.load_state_dict(m.state_dict())
    _backward_once(ref)
    for p, q in zip(m.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)


def test_zero_grad_false_leaves_missing_grads_alone():
    m = _mlp()
    m.zero_grad(set_to_none=False)
    assert all(p.grad is None for p in m.parameters())


def test_requires_grad_():
    m = _mlp()
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    out = m(cr.tensor(_x(2, 3)))
    assert not out.requires_grad
    m[0].requires_grad_()
    assert [p.requires_grad for p in m.parameters()] == [True, True, False, False]


def test_apply_visits_children_first_like_torch():
    m, t = Net(), TorchNet()
    seen, tseen = [], []
    assert m.apply(lambda mod: seen.append(_kind(mod))) is m
    t.apply(lambda mod: tseen.append(_kind(mod)))
    assert seen == tseen
    assert seen[-1] == "Net"


def test_apply_can_initialise():
    m = _mlp()

    def init(mod):
        if isinstance(mod, nn.Linear):
            nn.init.constant_(mod.weight, 0.5)
            nn.init.zeros_(mod.bias)

    m.apply(init)
    assert all((p.numpy() == 0.5).all() for n, p in m.named_parameters() if n.endswith("weight"))
    assert all((p.numpy() == 0).all() for n, p in m.named_parameters() if n.endswith("bias"))


# ---- state dicts ----------------------------------------------------------------------------------------


def test_state_dict_keys_and_order_match_torch_sequential():
    m, t = _mlp(), _torch_mlp()
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == list(t.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for k, v in sd.items():
        assert isinstance(v, np.ndarray)
        assert v.shape == tuple(t.state_dict()[k].shape)
        assert v.dtype == np.float32


def test_state_dict_keys_and_order_match_torch_custom():
    m, t = Net(), TorchNet()
    assert list(m.state_dict()) == list(t.state_dict())
    assert [v.shape for v in m.state_dict().values()] == [tuple(v.shape) for v in t.state_dict().values()]


def test_state_dict_values_are_copies():
    m = _mlp()
    sd = m.state_dict()
    before = m[0].weight.numpy().copy()
    sd["0.weight"][...] = 123.0
    np.testing.assert_array_equal(m[0].weight.numpy(), before)
    m[0].weight.numpy()[...] = -1.0
    assert (sd["0.weight"] == 123.0).all()
    assert not np.shares_memory(m.state_dict()["0.bias"], m[0].bias.numpy())


def test_load_state_dict_round_trip_in_place():
    a, b = _mlp(), _mlp()
    w = b[0].weight
    result = b.load_state_dict(a.state_dict())
    assert tuple(result) == ([], [])
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b[0].weight is w  # same Parameter objects: an optimiser holding them still sees them
    for (k, v), (k2, v2) in zip(a.state_dict().items(), b.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(v, v2)


def test_load_state_dict_accepts_tensors():
    a, b = _mlp(), _mlp()
    b.load_state_dict({k: cr.tensor(v) for k, v in a.state_dict().items()})
    np.testing.assert_array_equal(a[2].weight.numpy(), b[2].weight.numpy())


def test_load_state_dict_strict_reports_every_problem_at_once():
    m = _mlp()
    before = m.state_dict()
    sd = m.state_dict()
    del sd["0.bias"]
    del sd["2.weight"]
    sd["3.weight"] = np.zeros((2, 2), dtype=np.float32)
    sd["extra"] = np.zeros(1, dtype=np.float32)
    sd["0.weight"] = np.zeros((5, 5), dtype=np.float32)
    with pytest.raises(StateDictError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    for key in ["0.bias", "2.weight", "3.weight", "extra", "0.weight"]:
        assert key in msg, key
    assert "(4, 3)" in msg and "(5, 5)" in msg
    assert isinstance(e.value, ChainruleError)
    # nothing was loaded
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_shape_mismatch_alone():
    m = _mlp()
    sd = m.state_dict()
    sd["2.bias"] = np.zeros(3, dtype=np.float32)
    with pytest.raises(StateDictError, match="2.bias"):
        m.load_state_dict(sd)
    with pytest.raises(StateDictError, match="2.bias"):  # even when not strict, as torch
        m.load_state_dict(sd, strict=False)


def test_load_state_dict_non_strict_returns_keys():
    m = _mlp()
    sd = m.state_dict()
    new_w = np.full((4, 3), 0.25, dtype=np.float32)
    sd["0.weight"] = new_w
    del sd["2.bias"]
    sd["bogus"] = np.zeros(1, dtype=np.float32)
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert missing == ["2.bias"]
    assert unexpected == ["bogus"]
    np.testing.assert_array_equal(m[0].weight.numpy(), new_w)


def test_load_state_dict_non_strict_matches_torch():
    m, t = _mlp(), _torch_mlp()
    sd = m.state_dict()
    del sd["0.weight"]
    sd["5.bias"] = np.zeros(2, dtype=np.float32)
    r = m.load_state_dict(sd, strict=False)
    tr = t.load_state_dict(_to_torch(sd), strict=False)
    assert list(r.missing_keys) == list(tr.missing_keys)
    assert list(r.unexpected_keys) == list(tr.unexpected_keys)


def test_load_state_dict_buffers():
    a, b = Net(), Net()
    a.running.numpy()[...] = 3.0
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(b.running.numpy(), np.full(5, 3.0))
    assert "scratch" not in a.state_dict()


@pytest.mark.parametrize("make, tmake, shape", [(_mlp, _torch_mlp, (6, 3)), (Net, TorchNet, (6, 3))])
def test_torch_state_dict_into_chainrule(make, tmake, shape):
    torch.manual_seed(0)
    m, t = make(), tmake()
    if isinstance(t, TorchNet):
        with torch.no_grad():
            t.running.uniform_(-1, 1)
            t.scale.uniform_(0.5, 2)
    m.load_state_dict(_from_torch(t.state_dict()))
    x = _x(*shape)
    np.testing.assert_allclose(m(cr.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make, tmake, shape", [(_mlp, _torch_mlp, (6, 3)), (Net, TorchNet, (6, 3))])
def test_chainrule_state_dict_into_torch(make, tmake, shape):
    cr.manual_seed(1)
    m, t = make(), tmake()
    if isinstance(m, Net):
        m.running.numpy()[...] = _x(5, seed=3)
    t.load_state_dict(_to_torch(m.state_dict()))  # strict
    x = _x(*shape, seed=2)
    np.testing.assert_allclose(m(cr.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


# ---- containers -----------------------------------------------------------------------------------------


def test_sequential_indexing_len_iteration():
    m = _mlp()
    assert len(m) == 3
    assert isinstance(m[0], nn.Linear) and isinstance(m[1], nn.ReLU)
    assert m[-1] is m[2]
    assert [type(x).__name__ for x in m] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(IndexError):
        m[3]


def test_sequential_slicing_shares_modules_and_keeps_names():
    m, t = _mlp(), _torch_mlp()
    s = m[1:]
    assert isinstance(s, nn.Sequential) and len(s) == 2
    assert s[1] is m[2]
    assert list(s.state_dict()) == list(t[1:].state_dict()) == ["2.weight", "2.bias"]
    head = m[:1]
    x = cr.tensor(_x(2, 3))
    np.testing.assert_allclose(s(head(x)).numpy(), m(x).numpy(), rtol=1e-6)


def test_sequential_append_and_forward():
    m = nn.Sequential(nn.Linear(3, 4))
    assert m.append(nn.Tanh()) is m
    m.append(nn.Linear(4, 1))
    assert len(m) == 3
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert m(cr.tensor(_x(5, 3))).shape == (5, 1)


def test_sequential_from_ordered_dict():
    m = nn.Sequential(OrderedDict([("fc", nn.Linear(3, 2)), ("act", nn.Sigmoid())]))
    t = torch.nn.Sequential(OrderedDict([("fc", torch.nn.Linear(3, 2)), ("act", torch.nn.Sigmoid())]))
    assert list(m.state_dict()) == list(t.state_dict()) == ["fc.weight", "fc.bias"]
    assert m.fc is m[0]
    assert repr(m) == repr(t)


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 3), nn.ReLU()])
    assert len(layers) == 2
    layers.append(nn.Linear(3, 1))
    layers.extend([nn.Sigmoid()])
    layers.insert(0, nn.Identity())
    assert [type(x).__name__ for x in layers] == ["Identity", "Linear", "ReLU", "Linear", "Sigmoid"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    assert layers[-1] is list(layers)[-1]
    assert list(layers.state_dict()) == ["1.weight", "1.bias", "3.weight", "3.bias"]
    x = cr.tensor(_x(4, 2))
    for layer in layers:
        x = layer(x)
    assert x.shape == (4, 1)


def test_module_list_setitem_keeps_position():
    layers = nn.ModuleList([nn.Identity(), nn.Linear(2, 3), nn.ReLU()])
    layers[0] = nn.Tanh()
    layers[-1] = nn.Sigmoid()
    assert [type(x).__name__ for x in layers] == ["Tanh", "Linear", "Sigmoid"]
    assert list(layers.state_dict()) == ["1.weight", "1.bias"]


def test_module_list_parameters_seen_by_parent():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

    class T(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])

    assert [n for n, _ in M().named_parameters()] == [n for n, _ in T().named_parameters()]
    assert len(list(M().parameters())) == 6


def test_module_dict():
    d = nn.ModuleDict({"enc": nn.Linear(3, 2), "act": nn.ReLU()})
    t = torch.nn.ModuleDict({"enc": torch.nn.Linear(3, 2), "act": torch.nn.ReLU()})
    assert len(d) == 2
    assert "enc" in d and "dec" not in d
    assert list(d) == list(d.keys()) == ["enc", "act"]
    assert [type(v).__name__ for v in d.values()] == ["Linear", "ReLU"]
    assert [k for k, _ in d.items()] == ["enc", "act"]
    assert list(d.state_dict()) == list(t.state_dict())
    d["dec"] = nn.Linear(2, 3)
    assert list(d.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    del d["enc"]
    assert list(d) == ["act", "dec"]
    with pytest.raises(KeyError):
        d["enc"]


# ---- repr -------------------------------------------------------------------------------------------------


def test_repr_like_torch_nested():
    m = nn.Sequential(
        nn.Linear(3, 4),
        nn.ReLU(),
        nn.Sequential(nn.Linear(4, 4), nn.Tanh()),
        nn.Flatten(),
        nn.Softmax(dim=1),
    )
    t = torch.nn.Sequential(
        torch.nn.Linear(3, 4),
        torch.nn.ReLU(),
        torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh()),
        torch.nn.Flatten(),
        torch.nn.Softmax(dim=1),
    )
    assert repr(m) == repr(t)


def test_repr_like_torch_containers_and_custom():
    d = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ModuleList([nn.ReLU(), nn.Sigmoid()])})
    t = torch.nn.ModuleDict(
        {"a": torch.nn.Linear(2, 2), "b": torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Sigmoid()])}
    )
    assert repr(d) == repr(t)

    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 5), nn.GELU())
            self.head = nn.Linear(5, 1)

    class TorchSmall(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.GELU())
            self.head = torch.nn.Linear(5, 1)

    assert repr(Small()) == repr(TorchSmall()).replace("TorchSmall(", "Small(", 1)


def test_linear_without_bias_repr_and_config_like_torch():
    m = nn.Linear(5, 2, bias=False)
    assert m.bias is None
    assert repr(m) == repr(torch.nn.Linear(5, 2, bias=False)) == "Linear(in_features=5, out_features=2, bias=False)"
    assert m.get_config() == {"in_features": 5, "out_features": 2, "bias": False}


@pytest.mark.parametrize(
    "m, t",
    [
        (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.Softplus(2, 10), torch.nn.Softplus(2, 10)),
        (nn.ELU(0.5), torch.nn.ELU(0.5)),
        (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
        (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
        (nn.Identity(), torch.nn.Identity()),
        (nn.SiLU(), torch.nn.SiLU()),
        (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
        (nn.Linear(5, 6), torch.nn.Linear(5, 6)),
        (nn.Softmax(dim=0), torch.nn.Softmax(dim=0)),
    ],
    ids=lambda v: type(v).__name__,
)
def test_leaf_repr_like_torch(m, t):
    assert repr(m) == repr(t)


# ---- summary -----------------------------------------------------------------------------------------------


def test_summary_prints_shapes_params_and_totals(capsys):
    m = _mlp()
    text = nn.summary(m, (5, 3))
    out = capsys.readouterr().out
    assert text in out
    lines = out.splitlines()

    def row(prefix):
        found = [line for line in lines if line.startswith(prefix)]
        assert len(found) == 1, (prefix, out)
        return found[0]

    assert "(5, 4)" in row("0 (Linear)") and row("0 (Linear)").rstrip().endswith("16")
    assert "(5, 4)" in row("1 (ReLU)") and row("1 (ReLU)").rstrip().endswith(" 0")
    assert "(5, 2)" in row("2 (Linear)") and row("2 (Linear)").rstrip().endswith("10")
    assert "Total params: 26" in out
    assert "Trainable params: 26" in out


def test_summary_nested_frozen_and_restores_forward(capsys):
    m = nn.Sequential(nn.Sequential(nn.Linear(10, 100), nn.ReLU()), nn.Flatten(), nn.Linear(100, 3))
    m[0].requires_grad_(False)
    nn.summary(m, (2, 10))
    out = capsys.readouterr().out
    assert any(line.startswith("0.0 (Linear)") and "(2, 100)" in line and "1,100" in line for line in out.splitlines())
    assert any(line.startswith("2 (Linear)") and "(2, 3)" in line and "303" in line for line in out.splitlines())
    assert "Total params: 1,403" in out
    assert "Trainable params: 303" in out
    # the model is untouched: forward is the class's again, and no graph was recorded on the parameters
    for mod in m.modules():
        assert "forward" not in mod.__dict__
    assert all(p.grad is None for p in m.parameters())
    assert m(cr.tensor(_x(1, 10))).shape == (1, 3)


def test_summary_print_fn():
    got = []
    text = nn.summary(_mlp(), (1, 3), print_fn=got.append)
    assert got == [text]


# ---- get_config / from_config ------------------------------------------------------------------------------

CONFIG_CASES = [
    nn.Linear(3, 4),
    nn.Linear(5, 2, bias=False),
    nn.Identity(),
    nn.Flatten(),
    nn.Flatten(0, 2),
    nn.Dropout(),
    nn.Dropout(0.25, seed=7),
    nn.Step(),
    nn.Sigmoid(),
    nn.Tanh(),
    nn.ReLU(),
    nn.LeakyReLU(0.2),
    nn.GELU(),
    nn.GELU(approximate="tanh"),
    nn.Softplus(beta=2.0, threshold=5.0),
    nn.Softmax(dim=0),
    nn.LogSoftmax(dim=1),
    nn.ELU(alpha=0.5),
    nn.SiLU(),
]


@pytest.mark.parametrize("layer", CONFIG_CASES, ids=repr)
def test_get_config_from_config_rebuilds(layer):
    config = layer.get_config()
    assert isinstance(config, dict)
    rebuilt = type(layer).from_config(config)
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == config
    assert repr(rebuilt) == repr(layer)
    assert [(n, p.shape) for n, p in rebuilt.named_parameters()] == [(n, p.shape) for n, p in layer.named_parameters()]


def test_get_config_values():
    assert nn.Linear(5, 2).get_config() == {"in_features": 5, "out_features": 2, "bias": True}
    assert nn.LeakyReLU(0.2).get_config() == {"negative_slope": 0.2}
    assert nn.Flatten(0, 2).get_config() == {"start_dim": 0, "end_dim": 2}
    assert nn.Softmax(dim=0).get_config() == {"dim": 0}
    assert nn.ReLU().get_config() == {}


# ---- the registry --------------------------------------------------------------------------------------------


def test_registry_get():
    assert cr.registry.get("linear") is nn.Linear
    assert cr.registry.get("sequential") is nn.Sequential
    assert cr.registry.get("relu") is nn.ReLU
    assert cr.registry.name_of(nn.Linear(2, 2)) == "linear"
    assert cr.registry.name_of(Net()) is None


def test_registry_names():
    names = cr.registry.names()
    assert names == sorted(names)
    expected = {"linear", "identity", "flatten", "dropout", "sequential", "module_list", "module_dict", "step",
                "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "softplus", "softmax", "log_softmax", "elu", "silu"}
    assert expected <= set(names)
    for n in names:
        assert cr.registry.get(n).registered_name == n


def test_registry_unknown_name_lists_valid_names():
    with pytest.raises(UnknownNameError) as e:
        cr.registry.get("linaer")
    msg = str(e.value)
    assert "linaer" in msg
    assert "linear" in msg and "relu" in msg and "sequential" in msg
    assert isinstance(e.value, ChainruleError) and isinstance(e.value, KeyError)
    assert not msg.startswith("'")  # not KeyError's quoted repr
