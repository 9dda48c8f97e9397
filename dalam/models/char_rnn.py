"""Character-level recurrent language model (Karpathy's char-rnn):
Embedding -> LSTM/GRU/RNN (num_layers, dropout) -> Linear over the vocabulary,
with sampling that carries the recurrent state one character at a time."""
import numpy as np

from .. import nn
from ..autograd import grad_mode
from ..text import sample_logits

_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class CharRNN(nn.Module):
    def __init__(self, vocab_size, embed_dim=64, hidden_size=256, num_layers=1, cell="lstm",
                 dropout=0.0):
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"CharRNN: cell must be one of {sorted(_CELLS)}, got {cell!r}")
        self.vocab_size, self.cell = vocab_size, cell
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = _CELLS[cell](embed_dim, hidden_size, num_layers, batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None):
        """idx (B, T) int64 -> logits (B, T, vocab), new state."""
        out, state = self.rnn(self.embed(idx), state)
        return self.head(self.drop(out)), state

    def generate(self, prompt_ids, num_chars, temperature=1.0, top_k=None, top_p=None,
                 generator=None):
        """Continue ``prompt_ids`` (1-D ids) by ``num_chars`` sampled characters;
        returns the new ids (int64 array)."""
        from .. import tensor
        was = self.training
        self.eval()
        out = []
        with grad_mode.no_grad():
            ids = tensor(np.asarray(prompt_ids, np.int64).reshape(1, -1))
            logits, state = self(ids)
            last = logits[0, -1]
            for _ in range(num_chars):
                nxt = int(sample_logits(last, temperature, top_k, top_p, generator))
                out.append(nxt)
                logits, state = self(tensor(np.array([[nxt]], np.int64)), state)
                last = logits[0, -1]
        self.train(was)
        return np.asarray(out, np.int64)
