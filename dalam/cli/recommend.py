"""Top-N movie recommendations from a trained recommender run folder (made by
examples/movielens_rating.py or examples/movielens_ranking.py), with the
movies that explain each one: among the movies the user rated 4 or 5, the
nearest to the recommendation in the model's item-embedding space (cosine).

    dalam recommend runs/movielens_rating/mf_u1 --user 42
    dalam recommend RUN_DIR --user 42 --top 20 --plot items.png   # + item-embedding PCA by genre

--user is the MovieLens user id (1..943, as in u.data).  Movies the user has
already rated are not recommended.  The data is found as MovieLens100K finds it
(--data, $DALAM_DATA, ~/.cache/dalam)."""
import numpy as np

from .main import CLIError


def add_arguments(p):
    p.add_argument("run_dir", help="run folder with model.safetensors and run.json")
    p.add_argument("--user", type=int, required=True, help="MovieLens user id (1-based, as in u.data)")
    p.add_argument("--top", type=int, default=10, help="how many movies (default 10)")
    p.add_argument("--explain", type=int, default=2, help="explaining movies per recommendation")
    p.add_argument("--data", default=None, help="folder holding movielens/ml-100k")
    p.add_argument("--plot", default=None, help="write a PNG of the item embeddings (PCA, by genre)")


def explain(item_vecs, liked, recs, k=2):
    """Per recommended item, the ``k`` liked items nearest in cosine similarity:
    a list of [(item, cosine)]."""
    v = item_vecs / np.maximum(np.linalg.norm(item_vecs, axis=1, keepdims=True), 1e-8)
    out = []
    for i in recs:
        if len(liked) == 0:
            out.append([])
            continue
        sims = v[liked] @ v[i]
        best = np.argsort(-sims, kind="stable")[:k]
        out.append([(int(liked[b]), float(sims[b])) for b in best])
    return out


def plot_items(item_vecs, ds, path):
    """2-D PCA of item embeddings of the movies with >= 20 ratings.  Movies
    listed under a single genre are coloured by it (multi-genre movies in
    grey), so genres the model has learned to separate show as regions; the
    most-rated movies are labelled."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise CLIError("--plot needs matplotlib: pip install 'dalam[plot]'") from e
    x = item_vecs - item_vecs.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    xy = x @ vt[:2].T
    counts = np.bincount(ds.ratings.item, minlength=ds.num_items)
    shown = counts >= 20  # embeddings of rarely rated movies are mostly noise
    single = ds.genres.sum(1) == 1
    genre = ds.primary_genre()
    fig, ax = plt.subplots(figsize=(10, 8))
    m = shown & ~single
    ax.scatter(xy[m, 0], xy[m, 1], s=6, color="0.8", label=f"several genres ({m.sum()})")
    cmap = plt.get_cmap("tab10")
    gs = [g for g in np.unique(genre[shown & single]) if (shown & single & (genre == g)).sum() >= 5]
    for c, g in enumerate(gs):
        m = shown & single & (genre == g)
        ax.scatter(xy[m, 0], xy[m, 1], s=14, alpha=0.85, color=cmap(c % 10),
                   label=f"{ds.genre_names[g]} only ({m.sum()})")
    for i in np.argsort(-counts)[:15]:
        ax.annotate(ds.titles[i][:24], xy[i], fontsize=7, alpha=0.7)
    ax.set_title(f"Item embeddings (PCA) of {shown.sum()} movies with >= 20 ratings; "
                 "single-genre movies coloured")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args):
    from ..datasets import MovieLens100K
    from ..models.recommend.fit import load_run
    try:
        model, info = load_run(args.run_dir)
    except (FileNotFoundError, ValueError) as e:
        raise CLIError(str(e)) from None
    try:
        ds = MovieLens100K(root=args.data)
    except (FileNotFoundError, RuntimeError) as e:
        raise CLIError(f"MovieLens 100K data: {e}") from None
    if not 1 <= args.user <= ds.num_users:
        raise CLIError(f"--user {args.user}: MovieLens user ids run from 1 to {ds.num_users}")
    if args.top < 1:
        raise CLIError("--top must be at least 1")
    u = args.user - 1
    scores = np.asarray(model.score_all(np.array([u])))[0].astype(np.float64)
    r = ds.ratings
    rated = r.item[r.user == u]
    scores[rated] = -np.inf
    recs = np.argsort(-scores, kind="stable")[:args.top]
    liked = r.item[(r.user == u) & (r.rating >= 4)]
    vecs = model.item_embeddings()
    why = explain(vecs, liked, recs, args.explain)
    kind = "predicted rating" if info["model"] in ("BiasedMF", "TwoTower") else "score (logit)"
    print(f"user {args.user} ({ds.user_age[u]}, {ds.user_gender[u]}, "
          f"{ds.occupations[ds.user_occupation[u]]}): {len(rated)} movies rated, {len(liked)} "
          f"rated 4-5; model {info['model']} from {args.run_dir}")
    print(f"{'#':>2}  {kind:>16}  title  <- because they liked (cosine)")
    for k, (i, w) in enumerate(zip(recs, why), 1):
        because = "; ".join(f"{ds.titles[j]} ({s:.2f})" for j, s in w) or "-"
        print(f"{k:>2}  {scores[i]:>16.3f}  {ds.titles[i]}  <- {because}")
    if args.plot:
        plot_items(vecs, ds, args.plot)
        print(f"wrote {args.plot}")
