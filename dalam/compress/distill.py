"""Knowledge distillation (Hinton, Vinyals & Dean 2015).

The student matches the teacher's softened distribution ``softmax(z / T)``:
``loss = alpha * T**2 * KL(p_teacher || p_student) + (1 - alpha) * CE(student, y)``,
KL averaged over the batch (PyTorch's ``kl_div(..., reduction='batchmean')``).
The ``T**2`` keeps the soft-target gradients on the scale of the hard-target
ones when T changes (the soft gradients shrink as 1/T**2).
"""
import time

from ..autograd import grad_mode
from ..ops.activation import log_softmax, softmax
from ..ops.loss import cross_entropy
from ..tensor import Tensor

__all__ = ["soft_target_loss", "distillation_loss", "distill"]


def soft_target_loss(student_logits, teacher_logits, temperature=4.0):
    """``T**2 * KL(softmax(t/T) || softmax(s/T))``, batch mean; the gradient
    flows to the student only (the teacher's logits are detached)."""
    if temperature <= 0:
        raise ValueError(f"soft_target_loss: temperature must be > 0, got {temperature}")
    if tuple(student_logits.shape) != tuple(teacher_logits.shape):
        raise ValueError(f"soft_target_loss: student logits {tuple(student_logits.shape)} and "
                         f"teacher logits {tuple(teacher_logits.shape)} must have the same shape")
    T = float(temperature)
    t = teacher_logits.detach() if isinstance(teacher_logits, Tensor) else teacher_logits
    log_q = log_softmax(student_logits * (1.0 / T), dim=-1)
    with grad_mode.no_grad():
        log_p = log_softmax(t * (1.0 / T), dim=-1)
        p = softmax(t * (1.0 / T), dim=-1)
    n = student_logits.shape[0] if student_logits.ndim > 1 else 1
    kl = (p * (log_p - log_q)).sum() * (1.0 / n)
    return kl * (T * T)


def distillation_loss(student_logits, teacher_logits, target=None, temperature=4.0, alpha=0.9):
    """Hinton's loss: ``alpha * soft_target_loss + (1 - alpha) * CE(student, target)``
    (``target=None`` or ``alpha=1``: soft targets only)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation_loss: alpha must be in [0, 1], got {alpha}")
    soft = soft_target_loss(student_logits, teacher_logits, temperature)
    if target is None or alpha == 1.0:
        return soft
    return soft * alpha + cross_entropy(student_logits, target) * (1.0 - alpha)


def distill(student, teacher, loader, optimizer, epochs=1, temperature=4.0, alpha=0.9,
            scheduler=None, on_epoch_end=None, verbose=True):
    """Train ``student`` on ``loader`` ((x, y) batches) against ``teacher``'s
    soft targets.  The teacher runs in eval mode without a graph.  The
    scheduler (if any) is stepped per batch.  ``on_epoch_end(epoch, mean_loss)``
    may return True to stop.  Returns the mean loss of each epoch."""
    teacher.eval()
    losses = []
    for epoch in range(epochs):
        student.train()
        total, seen, t0 = 0.0, 0, time.time()
        for xb, yb in loader:
            with grad_mode.no_grad():
                t_logits = teacher(xb)
            loss = distillation_loss(student(xb), t_logits, yb, temperature, alpha)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            n = len(yb)
            total += loss.item() * n
            seen += n
        losses.append(total / max(seen, 1))
        if verbose:
            print(f"distill epoch {epoch + 1}: loss {losses[-1]:.4f} ({time.time() - t0:.0f} s)",
                  flush=True)
        if on_epoch_end is not None and on_epoch_end(epoch, losses[-1]):
            break
    return losses
