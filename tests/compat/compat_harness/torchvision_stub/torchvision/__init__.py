"""A stand-in for the few torchvision pieces the suite's programs use, for the
PyTorch reference run only (the torchvision wheel on PyPI needs a CUDA build of
torch, and this environment has the CPU build).  Written from torchvision's
documented behaviour: MNIST/FashionMNIST read the IDX files and give PIL
images; ToTensor, Normalize, Compose, Lambda; make_grid/save_image.  The real
torchvision is used instead whenever it imports."""
from . import datasets, transforms, utils  # noqa: F401
