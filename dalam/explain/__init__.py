"""Explanations of model predictions: gradient saliency, SmoothGrad,
Integrated Gradients, Grad-CAM, occlusion sensitivity, attention rollout
for Transformers, the parameter-randomisation sanity check, and PNG
heat-maps.  Models are run in eval mode and left exactly as they were
(modes, parameters' requires_grad and .grad)."""
from .attribution import saliency, smoothgrad, integrated_gradients  # noqa: F401
from .gradcam import grad_cam  # noqa: F401
from .occlusion import occlusion  # noqa: F401
from .attention import attention_maps, attention_rollout, rollout  # noqa: F401
from .sanity import cascading_randomization, spearman, rankdata  # noqa: F401
from .plot import save_heatmaps, to_heatmap  # noqa: F401

__all__ = ["saliency", "smoothgrad", "integrated_gradients", "grad_cam", "occlusion",
           "attention_maps", "attention_rollout", "rollout", "cascading_randomization", "spearman",
           "rankdata", "save_heatmaps", "to_heatmap"]
