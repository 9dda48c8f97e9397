"""Explaining an MNIST CNN: saliency, SmoothGrad, Integrated Gradients,
Grad-CAM and occlusion maps for one test digit (a PNG), the completeness error
of Integrated Gradients, and the cascading parameter-randomisation sanity check
of Adebayo et al. (2018) with Spearman rank correlations per layer.  If the
all-MiniLM-L6-v2 weights are installed, also attention rollout for a sentence.

    python examples/explain_mnist.py            # reuses runs/adversarial_mnist/clean_w32.safetensors
                                                # (trains it, ~2 min, if missing)
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import _mnist01 as M  # noqa: E402
import dalam  # noqa: E402
from dalam.explain import (attention_rollout, cascading_randomization, grad_cam,  # noqa: E402
                           integrated_gradients, occlusion, saliency, save_heatmaps, smoothgrad)

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--model-path", default="runs/adversarial_mnist/clean_w32.safetensors")
ap.add_argument("--robust-path", default="runs/adversarial_mnist/adv_w32_eps0.1_clean.safetensors",
                help="if this adversarially trained model (adversarial_mnist.py) exists, its maps too")
ap.add_argument("--index", type=int, default=0, help="test image to explain")
ap.add_argument("--n-ig", type=int, default=100, help="test images for the IG completeness figure")
ap.add_argument("--n-sanity", type=int, default=50, help="test images for the sanity check")
ap.add_argument("--figures", default="docs/figures")
ap.add_argument("--data", default=None)
ap.add_argument("--seed", type=int, default=0)


def explanations(model):
    """The maps compared, each as ``f(model, x, target)``; Grad-CAM on the
    model it is given (the sanity check passes a randomised copy)."""
    return {
        "gradient": lambda m, x, t: saliency(m, x, t),
        "SmoothGrad": lambda m, x, t: smoothgrad(m, x, t, n_samples=16,
                                                  generator=np.random.default_rng(0)),
        "Integrated Gradients": lambda m, x, t: integrated_gradients(m, x, t, steps=64),
        "Grad-CAM": lambda m, x, t: grad_cam(m, x, m[5], t),
    }


def main(args):
    t0 = time.time()
    xtr, ytr, xte, yte = M.load01(args.data)
    model = M.clean_model(args.model_path, xtr, ytr, epochs=2, seed=args.seed)
    print(f"model: W2 CNN, clean test accuracy {100 * M.accuracy(model, xte, yte):.2f}%")
    methods = explanations(model)

    # 1. maps for one digit
    i = args.index
    x = xte[i:i + 1]
    pred = int(model(dalam.tensor(x)).detach().numpy().argmax())
    maps = {name: f(model, x, pred) for name, f in methods.items()}
    maps["occlusion (4x4)"] = occlusion(model, x, pred, window=4, stride=2)
    os.makedirs(args.figures, exist_ok=True)
    path = save_heatmaps(os.path.join(args.figures, "explain_mnist_digit.png"), x[0], maps,
                         title=f"test image {i}: label {yte[i]}, predicted {pred}", dpi=80)
    print(f"heat-maps of test image {i} (label {yte[i]}, predicted {pred}) -> {path}")
    if args.robust_path and os.path.exists(args.robust_path):
        robust = M.build(32)
        robust.load_state_dict(dalam.load(args.robust_path))
        robust.eval()
        rmaps = {name: f(robust, x, pred) for name, f in methods.items()}
        rmaps["occlusion (4x4)"] = occlusion(robust, x, pred, window=4, stride=2)
        path = save_heatmaps(os.path.join(args.figures, "explain_mnist_digit_robust.png"), x[0], rmaps,
                             title="the same digit, adversarially trained model (PGD, eps 0.1)",
                             dpi=80)
        print(f"heat-maps from the adversarially trained model -> {path}")

    # 2. Integrated Gradients completeness (sum of attributions vs f(x) - f(0)), 64 steps
    xs = xte[:args.n_ig]
    _, info = integrated_gradients(model, xs, steps=64, return_error=True)
    rel = info["relative_error"]
    print(f"Integrated Gradients, 64 steps (trapezoid), black baseline, {len(xs)} test images: "
          f"completeness error |sum(attr) - (f(x) - f(0))| / |f(x) - f(0)|: mean {100 * rel.mean():.3f}%, "
          f"median {100 * np.median(rel):.3f}%, max {100 * rel.max():.3f}%")

    # 3. cascading randomisation sanity check (Adebayo et al. 2018)
    xs = xte[:args.n_sanity]
    names = {"": "none (trained)", "10": "fc2 (logits)", "8": "fc1", "4": "conv2", "1": "conv1"}
    table = {}
    runs = [(name, f, None) for name, f in methods.items()]
    runs.append(("IG, digit pixels only", methods["Integrated Gradients"], xs > 0))
    for name, f, mask in runs:
        res = cascading_randomization(model, xs, f, seed=args.seed, mask=mask)
        table[name] = [r["spearman"] for r in res]
        layers = [names.get(r["layer"], r["layer"]) for r in res]
    print(f"\nSanity check: Spearman rank correlation (of |map|) between the trained model's maps and "
          f"the maps after randomising the layers cumulatively from the top, mean over {len(xs)} "
          "test images:")
    print("| randomised up to | " + " | ".join(table) + " |")
    print("|---|" + "---|" * len(table))
    for k, layer in enumerate(layers):
        print(f"| {layer} | " + " | ".join(f"{table[m][k]:.3f}" for m in table) + " |")

    # 4. attention rollout for a sentence with MiniLM, when its weights are installed
    try:
        from dalam.models.bert import SentenceEmbedder
        emb = SentenceEmbedder.from_pretrained()
    except ImportError as e:
        print(f"\n(attention rollout skipped: {e})")
    else:
        sentence = "the movie was surprisingly good despite its slow start"
        ids, mask, types = emb.tokenize([sentence])
        r = attention_rollout(emb.model, ids, attention_mask=mask)
        tokens = [emb.tokenizer.id_to_token(int(t)) for t in ids[0]]
        share = r[0].mean(0)  # mean pooling: every position's rollout, averaged
        top = np.argsort(-share)[:6]
        print(f"\nAttention rollout, all-MiniLM-L6-v2 (6 layers), '{sentence}': share of each input token "
              "in the mean-pooled output, top 6: " +
              ", ".join(f"{tokens[k]} {share[k]:.3f}" for k in top))
    print(f"\ntotal {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main(ap.parse_args())
