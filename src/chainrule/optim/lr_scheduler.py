"""Learning-rate schedulers, with the names, arguments and learning rates of ``torch.optim.lr_scheduler``.

A scheduler rewrites ``group["lr"]`` of its optimiser's parameter groups each time
``step()`` is called (once per epoch, or per batch for ``OneCycleLR`` and ``CyclicLR``), after
``optimizer.step()``. The learning rates follow the same recursions as PyTorch 2.x (each
new rate is computed from the group's current one), so they agree with PyTorch's to the
last bit, and an outside change of ``group["lr"]`` carries on as it does there.

``state_dict()`` holds every attribute but the optimiser; to resume, build the optimiser
and the scheduler, then load the scheduler's state and the optimiser's.
"""

import copy
import inspect
import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter

from ..errors import ArgumentError, ArgumentTypeError, StateDictError
from ..registry import get as registry_get
from ..registry import name_of as registered_name
from ..registry import register
from .optimizer import Optimizer, _jsonable


def _check_optimizer(name, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise ArgumentError(f"{name}: expected a chainrule Optimizer, got {type(optimizer).__name__}")


def _per_group(scheduler, name, value):
    """``value`` repeated for each parameter group, or checked to have one entry per group."""
    n = len(scheduler.optimizer.param_groups)
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise ArgumentError(
                f"{type(scheduler).__name__}: {name} has {len(value)} values but the optimiser has {n} parameter groups"
            )
        return list(value)
    return [value] * n


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and writes ``get_lr()`` into the parameter groups."""

    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ArgumentError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr' when resuming with "
                        f"last_epoch={last_epoch}; load the optimiser's state dict first, or use last_epoch=-1"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """The constructor's step (``SequentialLR`` repeats it when it hands over to a scheduler)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The learning rates for ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def _group_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, epoch=None):
        """Advance one epoch (or batch) and set the new learning rates.

        ``epoch`` (deprecated, as in PyTorch, which warns likewise) jumps to that epoch instead, with the
        schedule's closed form where it has one.
        """
        self._step_count += 1
        if epoch is not None:
            warnings.warn(
                f"{type(self).__name__}.step(epoch) is deprecated, as in PyTorch: call step() once per epoch",
                UserWarning,
                stacklevel=2,
            )
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        """Set the rates of the next epoch, or of ``epoch`` (from ``_get_closed_form_lr`` where there is one)."""
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = self._group_lrs()

    def get_last_lr(self):
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        """Every attribute except the optimiser (copies)."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Load what ``state_dict()`` returned: only this scheduler's own attributes (never its optimiser)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise StateDictError(f"{name}.load_state_dict: expected a dict (from state_dict()), got "
                                 f"{type(state_dict).__name__}")
        own = self.state_dict()
        unknown = [k for k in state_dict if k not in own]
        if unknown:
            raise StateDictError(f"{name}.load_state_dict: not attributes of a {name}: "
                                 + ", ".join(repr(k)[:40] for k in unknown[:10]))
        self.__dict__.update(copy.deepcopy(state_dict))

    def get_config(self):
        """The constructor arguments other than the optimiser (JSON data)."""
        config = {}
        for p in list(inspect.signature(type(self).__init__).parameters.values())[2:]:
            if p.name == "last_epoch" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            config[p.name] = _jsonable(getattr(self, p.name, p.default))
        return config

    @classmethod
    def from_config(cls, optimizer, config):
        return cls(optimizer, **config)

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()) + ")"


@register("step_lr", kind="scheduler")
class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size <= 0:
            raise ArgumentError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


@register("multi_step_lr", kind="scheduler")
class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch listed in ``milestones``."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = list(milestones)
        if any(isinstance(m, bool) or not isinstance(m, int) for m in milestones):
            raise ArgumentError(f"MultiStepLR: milestones must be integers, got {milestones!r}")
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._group_lrs()
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch] for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch) for base in self.base_lrs]

    def get_config(self):
        return {"milestones": sorted(self.milestones.elements()), "gamma": _jsonable(self.gamma)}


@register("exponential_lr", kind="scheduler")
class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._group_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


@register("cosine_annealing_lr", kind="scheduler")
class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the initial learning rate down to ``eta_min`` over ``T_max`` epochs
    (then back up, periodically), with PyTorch's recursive form."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):  # noqa: N803 (PyTorch's name)
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max <= 0:
            raise ArgumentError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._group_lrs()
        if self._step_count == 1 and t > 0:
            return [eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / T)) / 2 for base in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [
                group["lr"] + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base, group in zip(self.base_lrs, groups)
            ]
        return [
            (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (group["lr"] - eta_min) + eta_min
            for group in groups
        ]

    def _get_closed_form_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        return [eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T)) / 2 for base in self.base_lrs]


@register("linear_lr", kind="scheduler")
class LinearLR(LRScheduler):
    """Scale the learning rate by a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` epochs."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ArgumentError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0 <= end_factor <= 1:
            raise ArgumentError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        if isinstance(total_iters, bool) or not isinstance(total_iters, int) or total_iters <= 0:
            raise ArgumentError(f"LinearLR: total_iters must be a positive integer, got {total_iters!r}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._group_lrs()
        s, e = self.start_factor, self.end_factor
        factor = 1.0 + (e - s) / (self.total_iters * s + (self.last_epoch - 1) * (e - s))
        return [group["lr"] * factor for group in groups]

    def _get_closed_form_lr(self):
        s, e, n = self.start_factor, self.end_factor, self.total_iters
        return [base * (s + (e - s) * min(n, self.last_epoch) / n) for base in self.base_lrs]


@register("one_cycle_lr", kind="scheduler")
class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): warm up from ``max_lr / div_factor`` to ``max_lr``, then anneal
    to ``initial_lr / final_div_factor``; stepped once per batch for ``total_steps`` batches.

    With ``cycle_momentum`` (the default, as PyTorch) the momentum (SGD) or beta1 (Adam) moves
    inversely between ``max_momentum`` and ``base_momentum``.
    """

    def __init__(
        self,
        optimizer,
        max_lr,
        total_steps=None,
        epochs=None,
        steps_per_epoch=None,
        pct_start=0.3,
        anneal_strategy="cos",
        cycle_momentum=True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
        last_epoch=-1,
    ):
        _check_optimizer("OneCycleLR", optimizer)
        self.optimizer = optimizer

        def positive_int(v):
            return isinstance(v, int) and not isinstance(v, bool) and v > 0

        if total_steps is not None:
            if not positive_int(total_steps):
                raise ArgumentError(f"OneCycleLR: total_steps must be a positive integer, got {total_steps!r}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not positive_int(epochs) or not positive_int(steps_per_epoch):
                raise ArgumentError(
                    f"OneCycleLR: epochs and steps_per_epoch must be positive integers, got {epochs!r} and "
                    f"{steps_per_epoch!r}"
                )
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ArgumentError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ArgumentError(f"OneCycleLR: pct_start must be a float in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ArgumentError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.max_lr = max_lr
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.pct_start = pct_start
        self.anneal_strategy = anneal_strategy
        self.base_momentum = base_momentum
        self.max_momentum = max_momentum
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.three_phase = three_phase
        n = self.total_steps
        if three_phase:
            self._schedule_phases = [
                {"end_step": float(pct_start * n) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * n) - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": n - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]  # fmt: skip
        else:
            self._schedule_phases = [
                {"end_step": float(pct_start * n) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": n - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            ]  # fmt: skip

        max_lrs = _per_group(self, "max_lr", max_lr)
        if last_epoch == -1:
            for m, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = m / div_factor
                group["max_lr"] = m
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ArgumentError(
                    f"OneCycleLR: cycle_momentum=True needs an optimiser with momentum or betas, and "
                    f"{type(optimizer).__name__} has neither; pass cycle_momentum=False"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            max_ms = _per_group(self, "max_momentum", max_momentum)
            base_ms = _per_group(self, "base_momentum", base_momentum)
            if last_epoch == -1:
                for m, b, group in zip(max_ms, base_ms, optimizer.param_groups):
                    if self.use_beta1:
                        group["betas"] = (m, *group["betas"][1:])
                    else:
                        group["momentum"] = m
                    group["max_momentum"] = m
                    group["base_momentum"] = b
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ArgumentError(
                f"OneCycleLR: tried to step {step_num} times, but total_steps is {self.total_steps}; "
                "raise total_steps (or epochs/steps_per_epoch)"
            )
        lrs = []
        phases = self._schedule_phases
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                    break
                start_step = phase["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return lrs


@register("reduce_lr_on_plateau", kind="scheduler")
class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` once a metric has not improved for ``patience`` epochs.

    Call ``step(metric)`` after each evaluation. ``mode='min'`` wants the metric to fall,
    ``'max'`` to rise; an improvement must beat the best value by ``threshold`` (relative or
    absolute, per ``threshold_mode``). After a reduction, ``cooldown`` epochs pass before bad
    epochs count again; no learning rate goes below ``min_lr``, and changes smaller than
    ``eps`` are skipped.
    """

    def __init__(
        self,
        optimizer,
        mode="min",
        factor=0.1,
        patience=10,
        threshold=1e-4,
        threshold_mode="rel",
        cooldown=0,
        min_lr=0,
        eps=1e-8,
    ):
        if factor >= 1.0:
            raise ArgumentError(f"ReduceLROnPlateau: factor must be < 1.0, got {factor!r}")
        self.factor = factor
        _check_optimizer("ReduceLROnPlateau", optimizer)
        self.optimizer = optimizer
        if isinstance(min_lr, list | tuple):
            self.default_min_lr = None
            self.min_lrs = _per_group(self, "min_lr", min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._group_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    @property
    def min_lr(self):  # for get_config
        return self.min_lrs if self.default_min_lr is None else self.default_min_lr

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics):
        """Record this epoch's metric (a number or a one-element Tensor) and reduce the rates if it stalls."""
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise ArgumentError(
                f"ReduceLROnPlateau.step: the metric must be a number, got {type(metrics).__name__}"
            ) from None
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._group_lrs()

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise ArgumentError(
                    f"ReduceLROnPlateau: the optimiser now has {len(groups)} parameter groups but min_lr has "
                    f"{len(self.min_lrs)} values; set min_lrs to one value per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for i, group in enumerate(groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ArgumentError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r:.60}")
        if threshold_mode not in ("rel", "abs"):
            raise ArgumentError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r:.60}")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


def _is_plain_function(fn):
    """True for a function or a lambda (PyTorch leaves these out of state dicts: only a callable object's
    attributes are state); also for a built-in function, which has no attributes to save."""
    return isinstance(fn, types.FunctionType | types.BuiltinFunctionType) or not hasattr(fn, "__dict__")


def _callable_state(fn):
    """What a state dict keeps of the callable ``fn``: None for a plain function, a callable object's attributes."""
    return None if fn is None or _is_plain_function(fn) else dict(vars(fn))


def _no_config(scheduler, arg):
    return ArgumentTypeError(
        f"{type(scheduler).__name__}.get_config: {arg} is a Python callable, which a JSON config cannot hold; "
        "build the scheduler in code and restore its progress with load_state_dict()"
    )


def _positive_int(name, arg, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ArgumentError(f"{name}: {arg} must be a positive integer, got {value!r:.60}")


class LambdaLR(LRScheduler):
    """Set each group's learning rate to its initial one times ``lr_lambda(epoch)``.

    ``lr_lambda`` is a function of the epoch index (an int) or a list of them, one per parameter
    group. As in PyTorch, ``state_dict()`` keeps the attributes of a callable object but nothing of a
    plain function or lambda (its entry is None), and ``get_config()`` raises: a function cannot be
    JSON data, so rebuild the scheduler in code and load its state dict.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer("LambdaLR", optimizer)
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, list | tuple):
            if len(lr_lambda) != n:
                raise ArgumentError(
                    f"LambdaLR: lr_lambda has {len(lr_lambda)} functions but the optimiser has {n} parameter groups"
                )
            fns = list(lr_lambda)
        else:
            fns = [lr_lambda] * n
        for i, fn in enumerate(fns):
            if not callable(fn):
                raise ArgumentTypeError(
                    f"LambdaLR: lr_lambda must be a function of the epoch (or a list of them), but "
                    f"{'entry ' + str(i) if isinstance(lr_lambda, list | tuple) else 'it'} is a {type(fn).__name__}"
                )
        self.lr_lambdas = fns
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        """Every attribute but the optimiser; ``lr_lambdas``: None for each plain function, a callable
        object's attributes otherwise."""
        state = {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [copy.deepcopy(_callable_state(fn)) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        """Load what ``state_dict()`` returned; a callable object's attributes are restored on it."""
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise StateDictError(f"{name}.load_state_dict: expected a dict (from state_dict()), got "
                                 f"{type(state_dict).__name__}")
        saved = state_dict.get("lr_lambdas", [None] * len(self.lr_lambdas))
        if not isinstance(saved, list | tuple) or len(saved) != len(self.lr_lambdas) or not all(
            s is None or isinstance(s, dict) for s in saved
        ):
            raise StateDictError(
                f"{name}.load_state_dict: 'lr_lambdas' must be a list of {len(self.lr_lambdas)} entries, each None "
                "or a dict of a callable object's attributes"
            )
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "lr_lambdas"})
        for fn, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                vars(fn).update(copy.deepcopy(attrs))

    def get_config(self):
        """Raises ArgumentTypeError: ``lr_lambda`` is a Python callable, which JSON cannot hold."""
        raise _no_config(self, "lr_lambda")

    def __repr__(self):
        fns = [getattr(fn, "__name__", type(fn).__name__) for fn in self.lr_lambdas]
        return f"LambdaLR(lr_lambda={fns[0] if len(set(fns)) == 1 else fns})"


@register("polynomial_lr", kind="scheduler")
class PolynomialLR(LRScheduler):
    """Decay the learning rate as ``initial_lr * (1 - epoch / total_iters) ** power`` until ``total_iters``,
    where it reaches 0 (PyTorch's recursive form)."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        _positive_int("PolynomialLR", "total_iters", total_iters)
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._group_lrs()
        t, n = self.last_epoch, self.total_iters
        factor = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        n = self.total_iters
        return [base * (1.0 - min(n, self.last_epoch) / n) ** self.power for base in self.base_lrs]


@register("cosine_annealing_warm_restarts", kind="scheduler")
class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter): from the initial learning rate
    down towards ``eta_min`` over ``T_0`` epochs, then again from the top over ``T_0 * T_mult``, and so on.

    ``step()`` advances one epoch; ``step(epoch)`` sets the position, and ``epoch`` may be a float
    (``epoch + i / iters_per_epoch`` after batch ``i``, to anneal within epochs), as in PyTorch.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):  # noqa: N803 (PyTorch's names)
        _positive_int("CosineAnnealingWarmRestarts", "T_0", T_0)
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ArgumentError(f"CosineAnnealingWarmRestarts: T_mult must be an integer >= 1, got {T_mult!r:.60}")
        if isinstance(eta_min, bool) or not isinstance(eta_min, int | float):
            raise ArgumentError(f"CosineAnnealingWarmRestarts: eta_min must be a number, got {eta_min!r:.60}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [
            self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
            for base in self.base_lrs
        ]

    def step(self, epoch=None):
        """Advance one epoch, or go to ``epoch`` (an int or a float, >= 0)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if isinstance(epoch, bool) or not isinstance(epoch, numbers.Real) or not 0 <= epoch < math.inf:
                raise ArgumentError(
                    f"CosineAnnealingWarmRestarts.step: epoch must be a finite number >= 0, got {epoch!r:.60}"
                )
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._group_lrs()


@register("cyclic_lr", kind="scheduler")
class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017), stepped once per batch: the rate climbs from ``base_lr`` to
    ``max_lr`` over ``step_size_up`` batches and falls back over ``step_size_down`` (default: the same).

    ``mode``: ``'triangular'`` (the same cycle every time), ``'triangular2'`` (the amplitude halves
    each cycle) or ``'exp_range'`` (the amplitude shrinks by ``gamma ** batch``). A custom
    ``scale_fn(x)`` in [0, 1] replaces the mode, ``x`` being the cycle number
    (``scale_mode='cycle'``) or the batch count (``'iterations'``). With ``cycle_momentum`` (the
    default, as PyTorch) the momentum (SGD) or beta1 (Adam) moves inversely, from ``max_momentum``
    down to ``base_momentum``. Setting it up writes ``base_lr`` into the groups' ``lr``.

    As in PyTorch, ``state_dict()`` keeps the attributes of a callable ``scale_fn`` object but
    nothing of a plain function or lambda; ``get_config()`` raises when there is a ``scale_fn``.
    """

    _MODES = ("triangular", "triangular2", "exp_range")

    def __init__(
        self,
        optimizer,
        base_lr,
        max_lr,
        step_size_up=2000,
        step_size_down=None,
        mode="triangular",
        gamma=1.0,
        scale_fn=None,
        scale_mode="cycle",
        cycle_momentum=True,
        base_momentum=0.8,
        max_momentum=0.9,
        last_epoch=-1,
    ):
        _check_optimizer("CyclicLR", optimizer)
        self.optimizer = optimizer
        for arg, value in (("step_size_up", step_size_up), ("step_size_down", step_size_down)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or not value > 0):
                raise ArgumentError(f"CyclicLR: {arg} must be a positive number of batches, got {value!r:.60}")
        if scale_fn is None and mode not in self._MODES:
            raise ArgumentError(
                "CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range' (or give scale_fn), got "
                f"{mode!r:.60}"
            )
        if scale_fn is not None and not callable(scale_fn):
            raise ArgumentTypeError(f"CyclicLR: scale_fn must be a function of one number, got a "
                                    f"{type(scale_fn).__name__}")
        if scale_mode not in ("cycle", "iterations"):
            raise ArgumentError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got {scale_mode!r:.60}")
        base_lrs = _per_group(self, "base_lr", base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.base_lr, self.max_lr = base_lr, max_lr
        self.max_lrs = _per_group(self, "max_lr", max_lr)
        self.step_size_up, self.step_size_down = step_size_up, step_size_down
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        # without scale_fn, the mode decides the scale mode (as in PyTorch)
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        self.base_momentum, self.max_momentum = base_momentum, max_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ArgumentError(
                    f"CyclicLR: cycle_momentum=True needs an optimiser with momentum or betas, and "
                    f"{type(optimizer).__name__} has neither; pass cycle_momentum=False"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group(self, "base_momentum", base_momentum)
            self.max_momentums = _per_group(self, "max_momentum", max_momentum)
            if last_epoch == -1:
                for m, b, group in zip(self.max_momentums, self.base_momentums, optimizer.param_groups):
                    if self.use_beta1:
                        group["betas"] = (m, *group["betas"][1:])
                    else:
                        group["momentum"] = m
                    group["max_momentum"] = m
                    group["base_momentum"] = b
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    @property
    def scale_fn(self):
        """The custom scale function given, or None (the mode's own is used)."""
        return self._scale_fn_custom

    def _scale(self, x):
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        scale_factor = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        x = cycle if self.scale_mode == "cycle" else self.last_epoch
        # the scale function is called once per group and value, as PyTorch does (a stateful one sees the same calls)
        lrs = [base + (top - base) * scale_factor * self._scale(x) for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                momentum = high - (high - low) * scale_factor * self._scale(x)
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return lrs

    def state_dict(self):
        """Every attribute but the optimiser; ``_scale_fn_custom``: None for a plain function, a callable
        object's attributes otherwise."""
        state = {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in ("optimizer", "_scale_fn_custom")}
        state["_scale_fn_custom"] = copy.deepcopy(_callable_state(self._scale_fn_custom))
        return state

    def load_state_dict(self, state_dict):
        """Load what ``state_dict()`` returned; a callable ``scale_fn`` object's attributes are restored on it."""
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise StateDictError(f"{name}.load_state_dict: expected a dict (from state_dict()), got "
                                 f"{type(state_dict).__name__}")
        attrs = state_dict.get("_scale_fn_custom")
        if attrs is not None and not (isinstance(attrs, dict) and self._scale_fn_custom is not None):
            raise StateDictError(f"{name}.load_state_dict: '_scale_fn_custom' holds the attributes of a scale_fn "
                                 "object, but this scheduler has none")
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "_scale_fn_custom"})
        if attrs is not None:
            vars(self._scale_fn_custom).update(copy.deepcopy(attrs))

    def get_config(self):
        """The constructor arguments (JSON data); raises ArgumentTypeError when a ``scale_fn`` was given."""
        if self._scale_fn_custom is not None:
            raise _no_config(self, "scale_fn")
        return super().get_config()


@register("sequential_lr", kind="scheduler")
class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, handing over at the epochs in ``milestones``
    (``len(milestones) == len(schedulers) - 1``), as ``torch.optim.lr_scheduler.SequentialLR``.

    The schedulers must be built on the same optimiser, just before this one (their constructors'
    steps are undone). At a milestone the next scheduler starts from its epoch 0, computed from the
    initial learning rates where it has a closed form. ``state_dict()`` holds the schedulers' state
    dicts. ``get_config()`` gives each scheduler's registered name and config, which ``from_config``
    builds again on the new optimiser (it raises for a scheduler that has none, as ``LambdaLR``).
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_optimizer("SequentialLR", optimizer)
        schedulers = list(schedulers) if isinstance(schedulers, list | tuple) else schedulers
        if not isinstance(schedulers, list) or not schedulers:
            raise ArgumentError("SequentialLR: schedulers must be a non-empty list of schedulers")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler):
                raise ArgumentError(f"SequentialLR: schedulers[{i}] is a {type(s).__name__}, not a scheduler")
            if isinstance(s, ReduceLROnPlateau):
                raise ArgumentError(
                    f"SequentialLR: schedulers[{i}] is a ReduceLROnPlateau, whose step() needs the metric; "
                    "step it yourself instead"
                )
            if i > 0 and isinstance(s, SequentialLR):  # PyTorch fails at its milestone (it has no get_lr)
                raise ArgumentError(
                    f"SequentialLR: schedulers[{i}] is a SequentialLR: only the first scheduler can be one, as it is "
                    "never restarted at a milestone"
                )
            if s.optimizer is not optimizer:
                raise ArgumentError(
                    f"SequentialLR: schedulers[{i}] ({type(s).__name__}) belongs to another optimiser; build every "
                    "scheduler on the optimiser given to SequentialLR"
                )
        milestones = list(milestones) if isinstance(milestones, list | tuple) else milestones
        if not isinstance(milestones, list) or any(isinstance(m, bool) or not isinstance(m, int) for m in milestones):
            raise ArgumentError(f"SequentialLR: milestones must be a list of integers, got {milestones!r:.60}")
        if len(milestones) != len(schedulers) - 1:
            raise ArgumentError(
                f"SequentialLR: {len(schedulers)} schedulers need {len(schedulers) - 1} milestones (one per "
                f"hand-over), got {len(milestones)}"
            )
        if milestones != sorted(milestones):
            raise ArgumentError(f"SequentialLR: milestones must be in increasing order, got {milestones}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:  # back to the initial rates ...
            group["lr"] = group["initial_lr"]
        self._undo(self)  # ... and before the schedulers' own first steps
        first = self._schedulers[bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    @staticmethod
    def _undo(scheduler):
        """Take back the constructor's step of every scheduler inside ``scheduler`` (nested ones too)."""
        for s in scheduler._schedulers:
            if hasattr(s, "_schedulers"):
                SequentialLR._undo(s)
            else:
                s.last_epoch -= 1

    def step(self):
        """Advance one epoch: step the scheduler whose turn it is (or start the next one at a milestone)."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        """Every attribute but the optimiser, with ``_schedulers`` as the list of their state dicts."""
        state = {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        """Load what ``state_dict()`` returned, and each scheduler's own state dict into it."""
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise StateDictError(f"{name}.load_state_dict: expected a dict (from state_dict()), got "
                                 f"{type(state_dict).__name__}")
        subs = state_dict.get("_schedulers")
        if not isinstance(subs, list | tuple) or len(subs) != len(self._schedulers):
            raise StateDictError(
                f"{name}.load_state_dict: '_schedulers' must be a list of {len(self._schedulers)} state dicts, one "
                "per scheduler"
            )
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for s, sd in zip(self._schedulers, subs):
            s.load_state_dict(sd)

    def get_config(self):
        """``{"schedulers": [{"name": registered name, "config": its config}, ...], "milestones": [...]}``."""
        entries = []
        for i, s in enumerate(self._schedulers):
            name = registered_name(s, kind="scheduler")
            if name is None:
                raise ArgumentTypeError(
                    f"SequentialLR.get_config: schedulers[{i}] ({type(s).__name__}) is not a registered scheduler, "
                    "so a config cannot name it"
                )
            entries.append({"name": name, "config": s.get_config()})
        return {"schedulers": entries, "milestones": list(self._milestones)}

    @classmethod
    def from_config(cls, optimizer, config):
        """Build the schedulers of ``get_config()``'s output on ``optimizer``, in order, then the SequentialLR."""
        entries = config.get("schedulers") if isinstance(config, dict) else None
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("config"), dict)
            for e in entries
        ):
            raise ArgumentError("SequentialLR.from_config: 'schedulers' must be a list of {'name': ..., 'config': ...}")
        schedulers = [registry_get(e["name"], kind="scheduler").from_config(optimizer, e["config"]) for e in entries]
        return cls(optimizer, schedulers, config.get("milestones"))

    def __repr__(self):
        return f"SequentialLR(schedulers=[{', '.join(map(repr, self._schedulers))}], milestones={self._milestones})"

__all__ = [
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
