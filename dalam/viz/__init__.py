"""See inside a computation: the autograd graph as a drawing (``draw_graph``)
and gradient magnitudes per layer (``gradient_flow``, ``plot_gradient_flow``)."""
from .graph import draw_graph, graph_to_dot, render_dot
from .gradflow import gradient_flow, plot_gradient_flow

__all__ = ["draw_graph", "graph_to_dot", "render_dot", "gradient_flow", "plot_gradient_flow"]
