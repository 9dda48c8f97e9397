"""``save_image_grid``: tile a batch of images into one PNG (as torchvision's
``save_image``), for GAN progress pictures and reconstructions."""
import numpy as np


def make_image_grid(images, nrow=8, padding=2, normalize=True, value_range=None, pad_value=0.0):
    """(N, C, H, W) / (N, H, W) Tensor or array -> (rows*H', cols*W', C) float array in [0, 1].

    normalize: map ``value_range`` (default: the batch's min/max) to [0, 1]."""
    if hasattr(images, "detach"):  # a Tensor (possibly requiring grad)
        images = images.detach().numpy()
    a = images
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4 or a.shape[1] not in (1, 3):
        raise ValueError(f"save_image_grid: expected images (N, 1|3, H, W) or (N, H, W), got shape "
                         f"{a.shape}")
    if normalize:
        lo, hi = value_range if value_range is not None else (float(a.min()), float(a.max()))
        a = (a - lo) / max(hi - lo, 1e-8)
    a = np.clip(a, 0, 1)
    n, c, h, w = a.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), pad_value,
                   np.float32)
    for i in range(n):
        r, k = divmod(i, cols)
        y0, x0 = padding + r * (h + padding), padding + k * (w + padding)
        grid[y0:y0 + h, x0:x0 + w] = a[i].transpose(1, 2, 0)
    return grid


def save_image_grid(images, path, nrow=8, padding=2, normalize=True, value_range=None,
                    pad_value=0.0, scale=1):
    """Write a grid of ``images`` to ``path`` (PNG) with matplotlib (imported here,
    lazily); ``scale`` > 1 enlarges each pixel. Returns the grid array."""
    import os
    from matplotlib import image as mpimg
    grid = make_image_grid(images, nrow, padding, normalize, value_range, pad_value)
    if scale > 1:
        grid = grid.repeat(scale, 0).repeat(scale, 1)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    out = grid[..., 0] if grid.shape[2] == 1 else grid
    mpimg.imsave(path, out, cmap="gray" if out.ndim == 2 else None, vmin=0, vmax=1)
    return grid
