"""Adversarial robustness: attacks (FGSM, PGD in L-inf and L2), accuracy
under attack, and adversarial training (Madry et al. 2018)."""
from .attacks import fgsm, pgd  # noqa: F401
from .evaluate import robust_accuracy  # noqa: F401
from .training import (AdversarialLoader, adversarial_examples, adversarial_step,  # noqa: F401
                       adversarial_training)

__all__ = ["fgsm", "pgd", "robust_accuracy", "adversarial_examples", "adversarial_step",
           "adversarial_training", "AdversarialLoader"]
