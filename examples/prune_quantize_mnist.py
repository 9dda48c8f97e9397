"""Prune and quantise the MNIST CNN: accuracy, size and batch-1 latency.

Starts from the base CNN of examples/_compress_common.py (trained once, 2
epochs, cached in runs/compress/), then:
1. unstructured magnitude pruning at 50/80/90/95% of the conv+linear weights:
   one-shot (global and per layer) and iterative (prune, fine-tune, prune
   further...);
2. structured channel pruning of both convs (25/50/75% of the channels): a
   really smaller model; accuracy before and after a short fine-tune,
   parameters, file size, batch-1 latency;
3. post-training int8 quantisation (BatchNorm folded, per-channel weights,
   activation ranges from 10 calibration batches): accuracy, file size and
   batch-1 latency against float32.

    OPENBLAS_NUM_THREADS=1 python examples/prune_quantize_mnist.py
"""
import argparse
import copy
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _compress_common as cc  # noqa: E402

import dalam  # noqa: E402
from dalam import compress  # noqa: E402
from dalam.compress import prune  # noqa: E402


def finetune(model, xtr, ytr, steps, lr, seed):
    """``steps`` Adam steps, learning rate warmed up to ``lr`` then cosine-decayed
    to 0 (the base model ended its one-cycle schedule at lr 0: a constant lr
    first undoes some of that convergence); masks re-applied after each step."""
    n = steps * 128
    opt = dalam.optim.Adam(model.parameters(), lr=lr)
    if prune.is_pruned(model):
        compress.mask_optimizer(opt, model)
    off = (seed * n) % (len(xtr) - n)  # a different slice of the training set per round
    cc.train(model, xtr[off:off + n], ytr[off:off + n], epochs=1, optimizer=opt, seed=seed, log_every=0,
             onecycle=True)
    return model.eval()


def main(args):
    xtr, ytr, xte, yte = cc.load()
    if args.test_limit:
        xte, yte = xte[:args.test_limit], yte[:args.test_limit]
    base = cc.base_model((xtr, ytr, xte, yte))
    parts = set(args.only.split(","))
    res = {"criterion": args.criterion}
    t0 = time.time()
    acc0, _ = cc.evaluate(base, xte, yte)
    res["float_acc"] = acc0
    print(f"base CNN: test accuracy {100 * acc0:.2f}% on {len(xte)} images, "
          f"{compress.count_parameters(base):,} parameters", flush=True)

    # ---------------------------------------------------------- 1. unstructured pruning
    levels = [0.5, 0.8, 0.9, 0.95] if "prune" in parts else []
    rows = []
    it = copy.deepcopy(base)
    for i, s in enumerate(levels):
        g = copy.deepcopy(base)
        compress.magnitude_prune(g, s, "global")
        acc_g, _ = cc.evaluate(g, xte, yte)
        layer = copy.deepcopy(base)
        compress.magnitude_prune(layer, s, "layer")
        acc_l, _ = cc.evaluate(layer, xte, yte)
        compress.magnitude_prune(it, s, "global")  # iterative: prune further, then fine-tune
        finetune(it, xtr, ytr, args.ft_steps, args.ft_lr, seed=10 + i)
        acc_ft, _ = cc.evaluate(it, xte, yte)
        per_layer = {n: round(compress.sparsity(m.weight), 4)
                     for n, m in it.named_modules() if type(m).__name__ in ("Conv2d", "Linear")}
        rows.append({"sparsity": s, "measured": compress.sparsity(it), "one_shot_global": acc_g,
                     "one_shot_layer": acc_l, "iterative_finetuned": acc_ft, "per_layer": per_layer})
        print(f"sparsity {100 * s:.0f}% (measured {100 * compress.sparsity(it):.2f}%): one-shot "
              f"global {100 * acc_g:.2f}%, per-layer {100 * acc_l:.2f}%, iterative + fine-tune "
              f"{100 * acc_ft:.2f}%  per-layer sparsity {per_layer}  ({time.time() - t0:.0f} s)",
              flush=True)
    res["unstructured"] = rows

    # ---------------------------------------------------------- 2. channel pruning
    os.makedirs(cc.RUNS, exist_ok=True)
    fpath = os.path.join(cc.RUNS, "float.safetensors")
    dalam.save(base.state_dict(), fpath)
    x1 = xte[:1]
    calib = [xtr[i * 100:(i + 1) * 100] for i in range(10)]
    ch_rows = [{"amount": 0.0, "channels": [32, 64], "params": compress.count_parameters(base),
                "file_bytes": cc.file_size(fpath), "acc": acc0, "acc_ft": acc0}]
    models = [base]
    for amount in (0.25, 0.5, 0.75) if "channel" in parts else ():
        plan = compress.channel_plan(base, amount, criterion=args.criterion)
        small = compress.shrink(base, plan)
        acc_s, _ = cc.evaluate(small, xte, yte)
        finetune(small, xtr, ytr, args.ft_steps, args.ft_lr, seed=20)
        acc_sft, _ = cc.evaluate(small, xte, yte)
        p = os.path.join(cc.RUNS, f"channels_{int(100 * amount)}.safetensors")
        dalam.save(small.state_dict(), p)
        row = {"amount": amount, "channels": [len(v) for v in plan.values()],
               "params": compress.count_parameters(small), "file_bytes": cc.file_size(p),
               "acc": acc_s, "acc_ft": acc_sft}
        qs = compress.quantize(small, calib)  # the shrunk model, then int8
        qp = os.path.join(cc.RUNS, f"channels_{int(100 * amount)}_int8.safetensors")
        compress.save_quantized(qs, qp)
        row["int8_acc"], _ = cc.evaluate(qs, xte, yte)
        row["int8_file_bytes"] = cc.file_size(qp)
        ch_rows.append(row)
        models.append(small)
        print(f"channel pruning {100 * amount:.0f}%: channels {row['channels']}, "
              f"{row['params']:,} params, {row['file_bytes'] / 1e6:.2f} MB, accuracy "
              f"{100 * acc_s:.2f}% -> {100 * acc_sft:.2f}% after fine-tune; int8 of it "
              f"{100 * row['int8_acc']:.2f}%, {row['int8_file_bytes'] / 1e6:.3f} MB  "
              f"({time.time() - t0:.0f} s)", flush=True)
    if len(models) > 1:  # latency: interleaved rounds, each model's best
        lats = [[] for _ in models]
        for _ in range(args.lat_rounds):
            for i, m in enumerate(models):
                lats[i].append(cc.latency_us(m, x1, repeats=3)[0])
        for row, lat in zip(ch_rows, lats):
            row["latency_us"] = min(lat)
        print("channel pruning batch-1 latency (best of rounds, us): "
              + ", ".join(f"{100 * r['amount']:.0f}%: {r['latency_us']:.0f}" for r in ch_rows))
    res["channel"] = ch_rows
    if "int8" not in parts:
        return _write(res, parts, args, t0)

    # ---------------------------------------------------------- 3. int8 quantisation
    qm = compress.quantize(base, calib)
    acc_q, _ = cc.evaluate(qm, xte, yte)
    qpath = os.path.join(cc.RUNS, "int8.safetensors")
    compress.save_quantized(qm, qpath)
    back = compress.load_quantized(qpath, cc.build("cnn"))
    acc_back, _ = cc.evaluate(back, xte, yte)
    folded = compress.fold_batchnorm(base)
    quant = {"float_acc": acc0, "int8_acc": acc_q, "int8_reloaded_acc": acc_back,
             "float_bytes": cc.file_size(fpath), "int8_bytes": cc.file_size(qpath)}
    # latency: interleave the three models and repeat, keeping each one's best
    lats = {"float32": [], "float32_bn_folded": [], "int8": []}
    for _ in range(args.lat_rounds):
        for name, m in (("float32", base), ("float32_bn_folded", folded), ("int8", qm)):
            lats[name].append(cc.latency_us(m, x1, repeats=3)[0])
    quant["latency_us"] = {k: min(v) for k, v in lats.items()}
    xb = xte[:256]
    for name, m in (("float32", base), ("int8", qm)):
        with dalam.no_grad():
            m(dalam.tensor(xb))
            best = min(_timeit(m, xb) for _ in range(3))
        quant[f"{name}_batch256_samples_per_s"] = 256 / best
    res["int8"] = quant
    print(f"int8: accuracy {100 * acc_q:.2f}% (float32 {100 * acc0:.2f}%, reloaded from file "
          f"{100 * acc_back:.2f}%); file {quant['int8_bytes'] / 1e6:.3f} MB vs "
          f"{quant['float_bytes'] / 1e6:.3f} MB ({quant['float_bytes'] / quant['int8_bytes']:.2f}x "
          f"smaller); batch-1 latency (best) {quant['latency_us']}; batch 256: "
          f"{quant['float32_batch256_samples_per_s']:.0f} vs "
          f"{quant['int8_batch256_samples_per_s']:.0f} samples/s (float32 vs int8)", flush=True)
    return _write(res, parts, args, t0)


def _write(res, parts, args, t0):
    tag = "" if parts == {"prune", "channel", "int8"} else "_" + "_".join(sorted(parts))
    out = os.path.join(cc.RUNS, f"prune_quantize{tag}_{args.criterion}.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print(f"wrote {out} ({time.time() - t0:.0f} s)")
    return res


def _timeit(m, xb):
    t0 = time.perf_counter()
    with dalam.no_grad():
        m(dalam.tensor(xb))
    return time.perf_counter() - t0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ft-steps", type=int, default=150, help="fine-tuning steps (batch 128)")
    ap.add_argument("--ft-lr", type=float, default=5e-4, help="peak fine-tuning learning rate")
    ap.add_argument("--criterion", default="l1", choices=["l1", "bn"])
    ap.add_argument("--test-limit", type=int, default=0)
    ap.add_argument("--only", default="prune,channel,int8",
                    help="comma list of the parts to run: prune, channel, int8")
    ap.add_argument("--lat-rounds", type=int, default=5)
    main(ap.parse_args())
