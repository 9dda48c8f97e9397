"""Utilities: ``summary`` (a torchinfo-style model table)."""
from .summary import summary, ModelSummary

__all__ = ["summary", "ModelSummary"]
