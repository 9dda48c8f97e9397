"""Sample text from a character-level model trained with 'dalam train'
(char_rnn / char-LSTM or gpt).

    dalam generate runs/char_lstm --prompt "ROMEO:" --length 300 --temperature 0.8
    dalam generate runs/gpt_shakespeare --top-k 10 --seed 1

The prompt must use characters of the model's vocabulary (kept in the
checkpoint); the output is the prompt followed by the sampled characters."""
import sys

import numpy as np

from .main import CLIError


def add_arguments(p):
    p.add_argument("checkpoint", help="checkpoint directory (or .safetensors file) of a char_rnn/gpt model")
    p.add_argument("--prompt", default=None, help="text to continue (default: a newline, or the "
                                                  "vocabulary's first character)")
    p.add_argument("-n", "--length", type=int, default=200, help="characters to generate (default 200)")
    p.add_argument("--temperature", type=float, default=1.0, help="0: greedy; < 1 sharper, > 1 flatter")
    p.add_argument("--top-k", type=int, default=None, help="sample among the k most likely characters")
    p.add_argument("--top-p", type=float, default=None, help="nucleus sampling: smallest set with mass p")
    p.add_argument("--seed", type=int, default=None, help="random seed (reproducible samples)")
    p.add_argument("--num-samples", type=int, default=1, help="independent samples to print")
    p.add_argument("--best", action="store_true", help="use the best checkpoint instead of the last")


def sample(model, vocab, prompt, length, temperature=1.0, top_k=None, top_p=None, seed=None):
    """Prompt + ``length`` sampled characters, from a CharRNN or a GPT."""
    from ..tensor import Tensor
    if length < 0:
        raise CLIError(f"--length must be >= 0, got {length}")
    if temperature < 0:
        raise CLIError(f"--temperature must be >= 0, got {temperature}")
    missing = sorted({c for c in prompt if c not in vocab.stoi})
    if missing:
        raise CLIError(f"the prompt has characters outside the model's vocabulary: {missing!r} "
                       f"(the vocabulary: {''.join(vocab.itos)!r})")
    if not prompt:
        raise CLIError("the prompt is empty; give at least one character")
    ids = vocab.encode(prompt)
    g = np.random.default_rng(seed)
    if hasattr(model, "transformer"):  # GPT
        bs = model.config.block_size
        out = model.generate(Tensor._make(ids[None, -bs:], False, None), length, temperature=temperature,
                             top_k=top_k, top_p=top_p, generator=g)
        new = np.asarray(out._data)[0, min(len(ids), bs):]
    else:
        new = model.generate(ids, length, temperature=temperature, top_k=top_k, top_p=top_p, generator=g)
    return prompt + vocab.decode(new)


def run(args):
    from ..text import CharVocab
    from .checkpoint import load_model
    model, meta, _ = load_model(args.checkpoint, "best" if args.best else "last")
    if meta["preprocess"]["kind"] != "chars":
        raise CLIError(f"{args.checkpoint} is a '{meta['model']['name']}' image model; generate needs a "
                       "character model (char_rnn or gpt)")
    vocab = CharVocab(meta["preprocess"]["vocab"])
    prompt = args.prompt if args.prompt is not None else ("\n" if "\n" in vocab.stoi else vocab.itos[0])
    for i in range(args.num_samples):
        seed = None if args.seed is None else args.seed + i
        text = sample(model, vocab, prompt, args.length, args.temperature, args.top_k, args.top_p, seed)
        if args.num_samples > 1:
            print(f"--- sample {i + 1}")
        sys.stdout.write(text + "\n")
    return 0
