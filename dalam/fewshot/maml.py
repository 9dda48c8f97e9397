"""Model-agnostic meta-learning (Finn, Abbeel & Levine, ICML 2017).

MAML learns an *initialisation*: for each task, a few SGD steps on the
support set adapt the weights, and the loss of the adapted weights on the
query set is minimised with respect to the initial weights.  Second-order
MAML differentiates through the inner steps (the gradient of a gradient:
``create_graph=True``, dalam's double backward); first-order MAML
(``first_order=True``) treats the inner gradients as constants, which is
cheaper and often almost as good.

The network is called functionally (``dalam.func.functional_call``) with the
adapted weights, so the module's own parameters stay the initialisation.
Batch norm uses each batch's statistics (no running averages), as in Finn et
al.'s code.  The classifier head has ``max_way`` outputs; an n-way task uses
its first n rows.  With ``zero_head=True`` every task instead starts from a
zero head of exactly n rows (the "zeroing trick" of Kao et al., ICLR 2022):
labels are then interchangeable, and a model meta-trained on 5-way tasks can
be evaluated on 20-way ones."""
from .. import nn
from ..nn import functional as F
from ..autograd import grad
from ..autograd.grad_mode import enable_grad, no_grad
from ..func import functional_call
from ..creation import zeros
from ..ops.shape import cat
from .backbone import to_input


class MAML(nn.Module):
    def __init__(self, encoder, embed_dim, max_way=20, inner_lr=0.4, inner_steps=1, first_order=False,
                 test_steps=None, zero_head=False):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(embed_dim, max_way)
        self.max_way, self.inner_lr, self.inner_steps = max_way, inner_lr, inner_steps
        self.first_order, self.zero_head, self.embed_dim = first_order, zero_head, embed_dim
        self.test_steps = test_steps if test_steps is not None else max(3, inner_steps)

    def functional_forward(self, params, x, n_way):
        """Logits (n, n_way) of images ``x`` under the weights ``params``
        (a dict named as ``named_parameters()``)."""
        if n_way > params["head.weight"].shape[0]:
            raise ValueError(f"MAML: a {n_way}-way task needs a head with at least {n_way} outputs; this "
                             f"one has max_way={self.max_way}")
        enc = {k[8:]: v for k, v in params.items() if k.startswith("encoder.")}
        z = functional_call(self.encoder, enc, (to_input(x),))
        return F.linear(z, params["head.weight"][:n_way], params["head.bias"][:n_way])

    def adapt(self, support_x, support_y, n_way, steps=None, second_order=None, params=None):
        """Weights after ``steps`` SGD steps on the support set.  With
        ``second_order`` the steps stay in the graph (their gradients are
        graph tensors), so a loss of the result can be differentiated with
        respect to the initial weights through them.  ``params``: initial
        weights other than the module's own (a dict as ``named_parameters()``)."""
        steps = self.inner_steps if steps is None else steps
        second_order = (not self.first_order) if second_order is None else second_order
        params = dict(self.named_parameters()) if params is None else dict(params)
        if self.zero_head:
            params["head.weight"] = zeros(n_way, self.embed_dim, dtype=params["head.weight"].dtype,
                                          requires_grad=True)
            params["head.bias"] = zeros(n_way, dtype=params["head.bias"].dtype, requires_grad=True)
        sx = to_input(support_x)
        with enable_grad():  # adaptation needs gradients even inside no_grad()
            for _ in range(steps):
                names = list(params)
                # first order: the inner gradient is taken at detached copies, so it is
                # a constant and the graph back to the initial weights stays intact
                at = params if second_order else {k: v.detach().requires_grad_() for k, v in params.items()}
                loss = F.cross_entropy(self.functional_forward(at, sx, n_way), support_y)
                grads = grad(loss, [at[k] for k in names], create_graph=second_order)
                params = {k: params[k] - self.inner_lr * g for k, g in zip(names, grads)}
        return params

    def meta_loss(self, tasks):
        """Mean query loss of the adapted weights over ``tasks`` (tuples
        support_x, support_y, query_x, query_y, n_way) and the mean query
        accuracy; ``.backward()`` gives the meta-gradient on the initial
        weights."""
        total, acc = 0, 0.0
        for sx, sy, qx, qy, n_way in tasks:
            params = self.adapt(sx, sy, n_way)
            if self.zero_head:  # keep the module's (unused) head out of the optimiser's way
                total = total + 0 * (self.head.weight.sum() + self.head.bias.sum())
            logits = self.functional_forward(params, qx, n_way)
            total = total + F.cross_entropy(logits, qy)
            acc += float((logits.detach().numpy().argmax(1) == qy.numpy()).mean())
        return total / len(tasks), acc / len(tasks)

    def forward(self, x, n_way=None):
        """The initial network: logits (n, n_way or max_way)."""
        return self.functional_forward(dict(self.named_parameters()), x, n_way or self.max_way)

    # how queries meet batch norm at test time: "query" normalises them as their own batch
    # (as in training); "episode" runs support and queries as one batch, steadier when a test
    # has few queries (e.g. one per class)
    test_batch = "query"

    def predict(self, support_x, support_y, query_x, n_way):
        """Adapt on the support set (``test_steps`` first-order steps), then
        score the queries."""
        params = self.adapt(support_x, support_y, n_way, steps=self.test_steps, second_order=False)
        params = {k: v.detach() for k, v in params.items()}
        with no_grad():
            if self.test_batch == "episode":
                sx, qx = to_input(support_x), to_input(query_x)
                return self.functional_forward(params, cat([sx, qx]), n_way)[len(sx):]
            return self.functional_forward(params, query_x, n_way)
