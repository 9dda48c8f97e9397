"""Semantic search with the real all-MiniLM-L6-v2 running in dalam.

Embeds a small corpus once, then ranks it for each query by cosine
similarity (the embeddings are L2-normalised, so cosine = dot product)::

    python examples/semantic_search.py
    python examples/semantic_search.py "how do plants make food?"
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import numpy as np

from dalam.models.bert import SentenceEmbedder

CORPUS = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "A cheetah is running behind its prey.",
    "Photosynthesis turns sunlight, water and carbon dioxide into sugar.",
    "Neural networks learn by gradient descent on a loss function.",
    "The stock market fell sharply on Monday.",
    "Paris is the capital of France.",
]

QUERIES = [
    "A man is eating pasta.",
    "Someone in a gorilla costume is playing a set of drums.",
    "A cheetah chases prey on across a field.",
    "How do computers learn from data?",
    "Which city is the French capital?",
]


def search(embedder, corpus_emb, query, k=3):
    q = embedder.encode([query])[0]
    scores = corpus_emb @ q
    top = np.argsort(-scores)[:k]
    return [(int(i), float(scores[i])) for i in top]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    queries = argv or QUERIES
    embedder = SentenceEmbedder.from_pretrained()
    corpus_emb = embedder.encode(CORPUS)
    for query in queries:
        print(f"\nQuery: {query}")
        for rank, (i, s) in enumerate(search(embedder, corpus_emb, query), 1):
            print(f"  {rank}. {s:.4f}  {CORPUS[i]}")


if __name__ == "__main__":
    main()
