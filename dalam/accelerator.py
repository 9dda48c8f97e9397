"""``dalam.accelerator`` (PyTorch 2.6+): no accelerator on a CPU-only backend."""
from ._device import unavailable


def is_available():
    return False


def device_count():
    return 0


def current_accelerator(check_available=False):
    return None


def current_device_index():
    raise unavailable("dalam.accelerator.current_device_index()", "cuda")


current_device_idx = current_device_index


def set_device_index(device):
    raise unavailable("dalam.accelerator.set_device_index()", "cuda")


set_device_idx = set_device_index


def synchronize(device=None):
    raise unavailable("dalam.accelerator.synchronize()", "cuda")
