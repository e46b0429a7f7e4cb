"""Containers: Sequential, ModuleList, ModuleDict."""

from collections import OrderedDict

from ..registry import register
from .module import Module


class _ListLike(Module):
    """What Sequential and ModuleList share: children in order, numbered from 0."""

    _container = True

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


@register("sequential")
class Sequential(_ListLike):
    """Modules applied one after the other: ``Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))``.

    Also ``Sequential(OrderedDict(name=module, ...))``. Supports indexing, slicing, len and append.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict | dict):
            for k, m in modules[0].items():
                self.add_module(str(k), m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        return items[idx][1]


@register("module_list")
class ModuleList(_ListLike):
    """A list of modules whose parameters the parent module sees."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or []:
            self.append(m)

    def __getitem__(self, idx):
        items = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(items[idx])
        return items[idx]

    def __setitem__(self, idx, module):
        key = list(self._modules)[idx]
        self.add_module(key, module)

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        items = list(self._modules.values())
        items.insert(index, module)
        for key in list(self._modules):
            self._forget(key)
        for i, m in enumerate(items):
            self.add_module(str(i), m)


@register("module_dict")
class ModuleDict(Module):
    """A dict of named modules whose parameters the parent module sees."""

    _container = True

    def __init__(self, modules=None):
        super().__init__()
        for k, m in (modules or {}).items():
            self.add_module(str(k), m)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(str(key), module)

    def __delitem__(self, key):
        if key not in self._modules:
            raise KeyError(key)
        self._forget(key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()
