"""ONNX export and import: run dalam models in onnxruntime (or anything that
reads ONNX) and bring simple ONNX graphs back as dalam modules.

``export(model, example_input, path)`` walks the module tree (Sequential,
Linear, activations, Conv/Pool/BatchNorm/Flatten, LSTM/GRU/RNN,
TransformerEncoder, Embedding, LayerNorm, LeNet5, CharRNN) and writes one ONNX
node group per module, with the weights as initializers.  ``load(path)`` turns
a chain-shaped ONNX graph (the MLP/CNN kind) back into an ``nn.Sequential`` and
other graphs into a ``GraphModule`` that runs the nodes with dalam ops.
Both need the ``onnx`` package (``pip install dalam[onnx]``), imported only
when called.
"""
from .exporter import export, register_converter, supported_modules
from .importer import load, import_model
from .graph_module import GraphModule, supported_ops

__all__ = ["export", "load", "import_model", "register_converter", "supported_modules", "GraphModule",
           "supported_ops"]
