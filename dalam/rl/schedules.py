"""Schedules: a value as a function of training progress p in [0, 1]
(p = environment steps taken / total_timesteps).  Used for exploration
epsilon, learning rates and PPO's clip range.  ``make_schedule`` reads the
forms a config file uses: a number (constant), ``"linear:START:END"`` or
``"linear:START"`` (to 0), ``"exp:START:END"``."""
import math


class Constant:
    def __init__(self, value):
        self.value = float(value)

    def __call__(self, progress):
        return self.value

    def __repr__(self):
        return f"Constant({self.value})"


class Linear:
    """From ``start`` to ``end`` over the first ``end_fraction`` of training, then ``end``
    (DQN's epsilon: 1.0 -> 0.05 over the first 10-50 % of the steps)."""

    def __init__(self, start, end=0.0, end_fraction=1.0):
        if not 0 < end_fraction <= 1:
            raise ValueError(f"Linear schedule: end_fraction must be in (0, 1], got {end_fraction}")
        self.start, self.end, self.end_fraction = float(start), float(end), float(end_fraction)

    def __call__(self, progress):
        f = min(max(progress, 0.0) / self.end_fraction, 1.0)
        if f >= 1.0:
            return self.end
        return self.start + f * (self.end - self.start)

    def __repr__(self):
        return f"Linear({self.start}, {self.end}, end_fraction={self.end_fraction})"


class Exponential:
    """Geometric decay from ``start`` to ``end`` over training."""

    def __init__(self, start, end):
        if start <= 0 or end <= 0:
            raise ValueError(f"Exponential schedule: start and end must be > 0, got {start}, {end}")
        self.start, self.end = float(start), float(end)

    def __call__(self, progress):
        p = min(max(progress, 0.0), 1.0)
        return self.start * math.exp(p * math.log(self.end / self.start))

    def __repr__(self):
        return f"Exponential({self.start}, {self.end})"


def make_schedule(spec):
    """A schedule from a number, a schedule, or a string such as ``"linear:1e-3"``."""
    if callable(spec):
        return spec
    if isinstance(spec, (int, float)):
        return Constant(spec)
    if isinstance(spec, str):
        kind, *args = spec.split(":")
        try:
            nums = [float(a) for a in args]
        except ValueError:
            nums = None
        if kind in ("linear", "lin") and nums and len(nums) <= 3:
            return Linear(*nums)
        if kind in ("exp", "exponential") and nums and len(nums) == 2:
            return Exponential(*nums)
    raise ValueError(f"schedule: cannot read {spec!r}; give a number, 'linear:START[:END[:END_FRACTION]]' "
                     "or 'exp:START:END'")
