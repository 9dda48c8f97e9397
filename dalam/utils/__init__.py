"""Utilities: ``summary`` (a torchinfo-style model table), ``save_image_grid`` (PNG grids)."""
from .summary import summary, ModelSummary
from .images import save_image_grid, make_image_grid  # noqa: E402,F401

__all__ = ["summary", "ModelSummary", "save_image_grid", "make_image_grid"]
