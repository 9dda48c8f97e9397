"""Captions for Fashion-MNIST images, built from class names and attributes.

Fashion-MNIST has labels, not sentences; pairing each image with a sentence drawn from
templates x names x attributes of its class gives the image-text pairs a CLIP-style model
learns from.  The attribute words are shared across classes where the garments share them
("long sleeves", "worn on the feet", "laces"), which is what lets a model trained on some
classes place an unseen class from its description alone (zero-shot).

    caps = FashionCaptions(seed=0)
    caps.caption(7)                # e.g. "a photo of a running shoe with laces"
    caps.sample(labels)            # one caption per label (seeded)
    caps.prompts(5)                # the attribute-free prompts used for zero-shot classification
"""
import re

import numpy as np

# per class: names (synonyms) and attribute phrases; index = Fashion-MNIST label
CLASSES = [
    ("T-shirt/top", ["t-shirt", "tee", "top", "short-sleeved shirt"],
     ["with short sleeves", "made of cotton", "worn on the upper body", "with a round neck", "for casual wear"]),
    ("Trouser", ["trousers", "pair of pants", "pair of jeans", "pair of slacks"],
     ["with two long legs", "worn on the legs", "made of denim", "with a waistband", "reaching the ankles"]),
    ("Pullover", ["pullover", "sweater", "jumper", "knitted sweater"],
     ["with long sleeves", "made of warm wool", "worn on the upper body", "knitted from yarn", "that keeps you warm"]),
    ("Dress", ["dress", "gown", "summer dress", "one-piece dress"],
     ["long and flowing", "worn by women", "with a skirt", "that looks elegant", "without sleeves"]),
    ("Coat", ["coat", "jacket", "overcoat", "winter coat"],
     ["with long sleeves", "with buttons", "worn over other clothes", "for cold weather", "with a zip"]),
    ("Sandal", ["sandal", "pair of sandals", "flip-flop", "strappy sandal"],
     ["worn on the feet", "open with straps", "for summer", "with a flat sole", "with thin straps"]),
    ("Shirt", ["shirt", "button-up shirt", "blouse", "collared shirt"],
     ["with a collar", "with buttons", "worn on the upper body", "with long sleeves", "for the office"]),
    ("Sneaker", ["sneaker", "running shoe", "trainer", "sports shoe"],
     ["worn on the feet", "with laces", "with a low cut", "for sport", "with a rubber sole"]),
    ("Bag", ["bag", "handbag", "purse", "tote bag"],
     ["with a handle", "with a strap", "for carrying things", "made of leather", "with a rectangular shape"]),
    ("Ankle boot", ["ankle boot", "boot", "leather boot", "heeled boot"],
     ["worn on the feet", "with a heel", "covering the ankle", "made of leather", "for winter"]),
]

TEMPLATES = ["a photo of a {name} {attr}.", "a picture of a {name}, {attr}.", "a {name} {attr}.",
             "an image of a {name} {attr}.", "a grayscale photo of a {name} {attr}.",
             "a product photo of a {name} {attr}."]

# prompts for zero-shot classification: the class names only, no attributes
PROMPT_TEMPLATES = ["a photo of a {name}.", "a picture of a {name}.", "an image of a {name}.",
                    "a product photo of a {name}."]


def _articles(sentence):
    """'a overcoat' -> 'an overcoat' (but 'a one-piece dress' stays)."""
    return re.sub(r"\ba (?=[aeiou](?!ne))", "an ", sentence)


class FashionCaptions:
    """Seeded caption generator for the ten Fashion-MNIST classes."""

    def __init__(self, seed=0, classes=CLASSES, templates=TEMPLATES):
        self.classes, self.templates = classes, templates
        self.rng = np.random.default_rng(seed)
        # every distinct caption, indexed per class, so their embeddings can be computed once
        self.sentences, self.class_of = [], []
        self.by_class = []
        for c, (_, names, attrs) in enumerate(classes):
            idx = []
            for t in templates:
                for n in names:
                    for a in attrs:
                        idx.append(len(self.sentences))
                        self.sentences.append(_articles(t.format(name=n, attr=a)))
                        self.class_of.append(c)
            self.by_class.append(np.array(idx))
        self.class_of = np.array(self.class_of)

    @property
    def names(self):
        return [c[0] for c in self.classes]

    def _check(self, labels):
        labels = np.asarray(labels)
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.classes)):
            raise ValueError(f"FashionCaptions: labels must be in [0, {len(self.classes)}), got "
                             f"min {labels.min()} max {labels.max()}")
        return labels

    def sample_indices(self, labels):
        """One random caption index (into ``self.sentences``) per label."""
        labels = self._check(labels)
        out = np.empty(labels.shape, np.int64)
        for c in np.unique(labels):
            where = labels == c
            out[where] = self.rng.choice(self.by_class[c], size=int(where.sum()))
        return out

    def sample(self, labels):
        return [self.sentences[i] for i in self.sample_indices(labels)]

    def caption(self, label):
        return self.sample([label])[0]

    def prompts(self, label, templates=PROMPT_TEMPLATES):
        """Attribute-free prompts for one class (every name x template)."""
        label = int(self._check([label])[0])
        return [_articles(t.format(name=n)) for t in templates for n in self.classes[label][1]]
