"""``torchvision.utils.make_grid`` / ``save_image`` with torchvision's defaults
(``normalize=False``; pixels as ``round(x * 255)`` clamped to 0..255; grey
images saved as RGB, as torchvision does)."""
import os

import numpy as np

from ...tensor import Tensor


def _array(tensor):
    if isinstance(tensor, (list, tuple)):
        return np.stack([_array(t) for t in tensor])
    if isinstance(tensor, Tensor):
        return tensor.detach().numpy()
    return np.asarray(tensor)


def _grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
          pad_value=0.0):
    a = np.array(_array(tensor), dtype=np.float32)  # a copy: normalisation must not touch the input
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        a = a[:, None] if a.shape[0] != 1 else a[None]
    if a.ndim != 4:
        raise ValueError(f"make_grid: expected a (B, C, H, W) batch or a (C, H, W) / (H, W) image, "
                         f"got shape {a.shape}")
    if a.shape[1] == 1:
        a = np.repeat(a, 3, axis=1)
    if normalize:
        def norm(x):
            lo, hi = value_range if value_range is not None else (float(x.min()), float(x.max()))
            np.clip(x, lo, hi, out=x)
            x -= lo
            x /= max(hi - lo, 1e-5)
        if scale_each:
            for img in a:
                norm(img)
        else:
            norm(a)
    if a.shape[0] == 1:
        return a[0]
    n, c, h, w = a.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    hp, wp = h + padding, w + padding
    grid = np.full((c, rows * hp + padding, cols * wp + padding), pad_value, np.float32)
    for i in range(n):
        r, k = divmod(i, cols)
        grid[:, r * hp + padding:r * hp + padding + h, k * wp + padding:k * wp + padding + w] = a[i]
    return grid


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """Tile a batch into one (3, H, W) image Tensor, as torchvision's ``make_grid``."""
    return Tensor._make(_grid(tensor, nrow, padding, normalize, value_range, scale_each, pad_value),
                        False, None)


def save_image(tensor, fp, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
               pad_value=0.0, format=None):
    """Write a batch (or one image) as a PNG grid, as torchvision's ``save_image``."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("torchvision.utils.save_image under dalam run needs Pillow: "
                          "pip install 'dalam[cli]' (or pip install pillow)") from None
    grid = _grid(tensor, nrow, padding, normalize, value_range, scale_each, pad_value)
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    if isinstance(fp, (str, os.PathLike)):
        d = os.path.dirname(os.path.abspath(fp))
        os.makedirs(d, exist_ok=True)
    Image.fromarray(pixels).save(fp, format=format)
