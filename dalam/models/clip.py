"""A CLIP-style image-text model (Radford et al. 2021) small enough for a CPU.

Two towers meet in one embedding space: an image encoder we train (a small CNN) and a
text encoder that is a *frozen* pretrained sentence encoder (all-MiniLM-L6-v2) followed by
a trained linear projection.  Training pulls each image towards its own caption and away
from the other captions of the batch with the symmetric InfoNCE loss; a learned
temperature (stored as a log scale, as CLIP does, and clamped at 100) sharpens the softmax.

Because the text encoder is frozen, its sentence embeddings never change: compute them
once (``SentenceEmbedder.encode``) and train on those vectors, which makes training as
cheap as training the CNN.  After training, any sentence is a classifier: embed one
prompt per class and pick the class whose prompt is closest to the image (zero-shot).
"""
import math

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..creation import arange, tensor
from ..nn import functional as F
from ..tensor import Tensor

LOGIT_SCALE_INIT = math.log(1 / 0.07)  # CLIP's initial temperature 0.07
LOGIT_SCALE_MAX = math.log(100.0)      # CLIP clamps the scale at 100 so the softmax cannot collapse


class SmallImageEncoder(nn.Module):
    """Two conv blocks (conv 3x3 + BatchNorm + ReLU + max-pool) and a fully connected layer:
    (N, C, 28, 28) images -> (N, ``out_features``) features."""

    def __init__(self, in_channels=1, width=32, out_features=128, image_size=28):
        super().__init__()
        self.in_channels, self.image_size = in_channels, image_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten())
        side = image_size // 4
        self.fc = nn.Sequential(nn.Linear(2 * width * side * side, out_features), nn.ReLU())
        self.out_features = out_features

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[2:] != (self.image_size,) * 2:
            raise ValueError(f"SmallImageEncoder: expected images (N, {self.in_channels}, {self.image_size}, "
                             f"{self.image_size}), got {tuple(x.shape)}; reshape with x.view(-1, "
                             f"{self.in_channels}, {self.image_size}, {self.image_size})")
        return self.fc(self.features(x))


class CLIP(nn.Module):
    """Contrastive image-text model.

    ``image_encoder``: any Module mapping images to (N, F) features (it is trained).
    ``text_dim``: size of the frozen text encoder's sentence embeddings (384 for MiniLM).
    ``text_encoder``: optional object with ``encode(list_of_str) -> (N, text_dim)`` (e.g.
    ``SentenceEmbedder``); only needed to embed new sentences with :meth:`encode_text_strings`.
    It is frozen and kept out of ``state_dict`` (it loads from its own package).

    ``forward(images, text_features)`` returns ``(logits_per_image, logits_per_text)`` as
    CLIP does; :func:`clip_loss` turns them into the symmetric InfoNCE loss.
    """

    def __init__(self, image_encoder=None, embed_dim=128, text_dim=384, text_encoder=None):
        super().__init__()
        self.image_encoder = image_encoder if image_encoder is not None else SmallImageEncoder()
        feat = getattr(self.image_encoder, "out_features", None)
        if feat is None:
            raise ValueError("CLIP: the image encoder must expose out_features (its feature size)")
        self.embed_dim, self.text_dim = embed_dim, text_dim
        self.image_projection = nn.Linear(feat, embed_dim, bias=False)
        self.text_projection = nn.Linear(text_dim, embed_dim, bias=False)
        self.logit_scale = nn.Parameter(tensor(np.float32(LOGIT_SCALE_INIT)))
        object.__setattr__(self, "text_encoder", text_encoder)  # frozen, not a submodule

    def encode_image(self, images):
        """L2-normalised image embeddings (N, embed_dim)."""
        return F.normalize(self.image_projection(self.image_encoder(images)), dim=-1)

    def encode_text(self, text_features):
        """L2-normalised text embeddings (N, embed_dim) from frozen sentence embeddings (N, text_dim)."""
        if not isinstance(text_features, Tensor):
            text_features = tensor(np.asarray(text_features, np.float32))
        if text_features.ndim != 2 or text_features.shape[1] != self.text_dim:
            raise ValueError(f"CLIP.encode_text: expected sentence embeddings (N, {self.text_dim}), got "
                             f"{tuple(text_features.shape)}; pass the output of the frozen text encoder "
                             "(SentenceEmbedder.encode), not token ids or strings")
        return F.normalize(self.text_projection(text_features), dim=-1)

    def embed_sentences(self, sentences):
        """Frozen sentence embeddings (N, text_dim) as a float32 array (no gradient flows here)."""
        if self.text_encoder is None:
            raise ValueError("CLIP.embed_sentences: no text_encoder was given; build the model with "
                             "CLIP(..., text_encoder=SentenceEmbedder.from_pretrained()) or pass "
                             "precomputed embeddings to encode_text")
        if isinstance(sentences, str):
            sentences = [sentences]
        return np.asarray(self.text_encoder.encode(list(sentences)), np.float32)

    def encode_text_strings(self, sentences):
        """Text embeddings (N, embed_dim) of raw sentences through the frozen encoder + projection."""
        return self.encode_text(self.embed_sentences(sentences))

    def scale(self):
        """The temperature's inverse, exp(logit_scale) clamped to [1, 100]."""
        return self.logit_scale.clamp(0.0, LOGIT_SCALE_MAX).exp()

    def forward(self, images, text_features):
        img = self.encode_image(images)
        txt = self.encode_text(text_features)
        logits_per_image = self.scale() * (img @ txt.t())
        return logits_per_image, logits_per_image.t()

    # ---- zero-shot use -------------------------------------------------------------------
    def class_embeddings(self, prompt_features):
        """One embedding per class from its prompts' sentence embeddings.

        ``prompt_features``: (C, text_dim) for one prompt per class, or (C, P, text_dim) for P
        prompts per class, averaged after projection and renormalised (CLIP's prompt ensembling)."""
        pf = np.asarray(prompt_features._data if isinstance(prompt_features, Tensor) else prompt_features,
                        np.float32)
        with no_grad():
            if pf.ndim == 2:
                return self.encode_text(pf)
            if pf.ndim != 3:
                raise ValueError(f"CLIP.class_embeddings: expected (C, text_dim) or (C, P, text_dim), "
                                 f"got {pf.shape}")
            C, P, D = pf.shape
            emb = self.encode_text(pf.reshape(C * P, D)).view(C, P, -1).mean(1)
            return F.normalize(emb, dim=-1)

    def zero_shot_logits(self, images, class_emb, batch_size=512):
        """Scaled cosine similarities (N, C) between images and class embeddings."""
        was = self.training
        self.eval()
        out = []
        with no_grad():
            s = self.scale()
            for i in range(0, images.shape[0], batch_size):
                out.append((s * (self.encode_image(images[i:i + batch_size]) @ class_emb.t()))._data)
        self.train(was)
        return tensor(np.concatenate(out, 0))


def clip_loss(logits_per_image, logits_per_text=None):
    """Symmetric InfoNCE: cross-entropy of each image over the batch's captions and of each
    caption over the batch's images, the i-th of each being the positive pair."""
    if logits_per_text is None:
        logits_per_text = logits_per_image.t()
    n = logits_per_image.shape[0]
    if logits_per_image.ndim != 2 or logits_per_image.shape[1] != n:
        raise ValueError(f"clip_loss: expected square (N, N) logits for N image-caption pairs, got "
                         f"{tuple(logits_per_image.shape)}")
    target = arange(n)
    return (F.cross_entropy(logits_per_image, target) + F.cross_entropy(logits_per_text, target)) / 2
