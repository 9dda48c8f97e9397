"""Route PyTorch's random numbers through dalam's generator (the reference run only).

dalam's random numbers come from NumPy and differ from PyTorch's for the same
seed (documented), so a program run once on each framework would start from
different weights and draw different batches, dropout masks and samples.  For
the reference run this module replaces PyTorch's random entry points with calls
into dalam's: ``torch.manual_seed(s)`` seeds dalam's generator, ``torch.randn``
returns ``dalam.randn``'s numbers, ``nn.init.kaiming_uniform_`` fills the
tensor with what ``dalam.nn.init.kaiming_uniform_`` draws, ``F.dropout`` uses
dalam's mask, ``RandomSampler`` dalam's order, ``Categorical.sample`` dalam's
samples.  PyTorch computes everything else itself.  Both runs then consume one
NumPy stream in the same order, so every weight, batch and mask is identical and
the suite compares the maths alone.  A draw this module does not route would show
up as a loss mismatch, not as a silent pass.
"""
import numpy as np


def install(torch):
    import dalam
    import dalam.nn.functional as DF
    import dalam.nn.init as DI
    import dalam.distributions as DD
    import dalam.utils.data as DU
    import torch.nn.functional as F
    import torch.nn.init as TI
    import torch.distributions as TD
    import torch.utils.data as TU

    def np_dtype(dt):
        return None if dt is None else torch.empty(0, dtype=dt).numpy().dtype

    def to_torch(t, requires_grad=False):
        out = torch.from_numpy(np.array(t.detach().numpy() if isinstance(t, dalam.Tensor) else t))
        return out.requires_grad_(requires_grad) if requires_grad else out

    def to_dalam(t):
        return dalam.tensor(t.detach().cpu().numpy())

    native_seed = torch.manual_seed

    def manual_seed(seed):
        dalam.manual_seed(seed)
        return native_seed(seed)

    torch.manual_seed = manual_seed
    torch.random.manual_seed = manual_seed

    def sizes(size):
        return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)) else size

    def creator(fn):
        def make(*size, dtype=None, requires_grad=False, generator=None, device=None, **_):
            return to_torch(fn(*sizes(size), dtype=np_dtype(dtype)), requires_grad)
        return make

    torch.rand, torch.randn = creator(dalam.rand), creator(dalam.randn)
    torch.rand_like = lambda x, dtype=None, requires_grad=False, **_: to_torch(
        dalam.rand(*x.shape, dtype=np_dtype(dtype or x.dtype)), requires_grad)
    torch.randn_like = lambda x, dtype=None, requires_grad=False, **_: to_torch(
        dalam.randn(*x.shape, dtype=np_dtype(dtype or x.dtype)), requires_grad)

    def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
        return to_torch(dalam.randint(low, high, size, dtype=np_dtype(dtype)))

    torch.randint = randint
    torch.randperm = lambda n, *, generator=None, dtype=None, device=None, **_: to_torch(
        dalam.randperm(n, dtype=np_dtype(dtype)))
    torch.normal = lambda mean, std, size=None, *, generator=None, **_: to_torch(dalam.normal(
        to_dalam(mean) if torch.is_tensor(mean) else mean,
        to_dalam(std) if torch.is_tensor(std) else std, size))
    torch.bernoulli = lambda input, *a, generator=None, **_: to_torch(dalam.bernoulli(to_dalam(input)))
    torch.multinomial = lambda input, num_samples, replacement=False, *, generator=None, **_: to_torch(
        dalam.multinomial(to_dalam(input), num_samples, replacement))

    # in-place fills (nn.init and programs call them on parameters)
    T = torch.Tensor

    def filler(name):
        def fill(self, *args, generator=None, **kwargs):
            d = dalam.zeros(*self.shape, dtype=np_dtype(self.dtype))
            getattr(d, name)(*args, **kwargs)
            with torch.no_grad():
                self.copy_(to_torch(d))
            return self
        return fill

    for name in ("uniform_", "normal_", "bernoulli_"):
        setattr(T, name, filler(name))

    native_random_ = T.random_

    def random_(self, *args, generator=None, **kwargs):
        if not args and not kwargs and self.dtype == torch.int64:  # DataLoader/RandomSampler seeds
            with torch.no_grad():
                self.fill_(int(dalam.backend.rng().integers(0, 2 ** 63 - 1)))
            return self
        return native_random_(self, *args, generator=generator, **kwargs)

    T.random_ = random_

    for name in ("uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                 "kaiming_normal_", "trunc_normal_", "orthogonal_"):
        if hasattr(DI, name):
            setattr(TI, name, _init_router(torch, getattr(DI, name), np_dtype, to_torch))

    # dropout: dalam's mask (dalam's function on ones gives mask / (1 - p))
    def dropper(dfn):
        def drop(input, p=0.5, training=True, inplace=False):
            if not training or p == 0.0:
                return input
            mask = to_torch(dfn(dalam.ones(*input.shape, dtype=np_dtype(input.dtype)), p, True))
            return input.mul_(mask) if inplace else input * mask
        return drop

    F.dropout = dropper(DF.dropout)
    for name in ("dropout1d", "dropout2d", "dropout3d"):
        setattr(F, name, dropper(getattr(DF, name)))

    def sampler_iter(self):
        yield from DU.RandomSampler(range(len(self.data_source)), replacement=self.replacement,
                                    num_samples=self.num_samples)

    TU.RandomSampler.__iter__ = sampler_iter

    def categorical_sample(self, sample_shape=torch.Size()):
        return to_torch(DD.Categorical(probs=to_dalam(self.probs)).sample(tuple(sample_shape)))

    TD.Categorical.sample = categorical_sample
    import torch.distributions.normal as TN
    from dalam.distributions.utils import standard_normal
    TN._standard_normal = lambda shape, dtype=None, device=None: to_torch(
        standard_normal(tuple(shape), np_dtype(dtype)))


def _init_router(torch, dfn, np_dtype, to_torch):
    import dalam

    def init(tensor, *args, generator=None, **kwargs):
        d = dalam.zeros(*tensor.shape, dtype=np_dtype(tensor.dtype))
        dfn(d, *args, **kwargs)
        with torch.no_grad():
            tensor.copy_(to_torch(d))
        return tensor
    return init
