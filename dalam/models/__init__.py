"""Reference models with PyTorch-compatible state_dict layouts.

Each model's module loads on first use, so ``import dalam.models`` stays cheap."""
import importlib as _importlib

# name -> submodule; each area adds its models here
_MODELS = {
    "GPT": "gpt", "GPTConfig": "gpt",
    "BertModel": "bert", "BertConfig": "bert", "SentenceEmbedder": "bert",
    "CharRNN": "char_rnn",
    "LeNet5": "lenet", "ResNet": "resnet", "BasicBlock": "resnet", "resnet8": "resnet",
    "resnet14": "resnet", "resnet20": "resnet",
    "MLPGenerator": "gan", "MLPDiscriminator": "gan", "DCGANGenerator": "gan",
    "DCGANDiscriminator": "gan", "ConditionalGenerator": "gan", "ConditionalDiscriminator": "gan",
    "GANTrainer": "gan", "gradient_penalty": "gan", "latent_interpolation": "gan",
    "Autoencoder": "autoencoder", "ConvAutoencoder": "autoencoder",
    "VAE": "vae", "vae_loss": "vae",
    "BiasedMF": "recommend", "GMF": "recommend", "MLPRec": "recommend", "NeuMF": "recommend",
    "AutoRec": "recommend", "TwoTower": "recommend", "SASRec": "recommend",
    "CLIP": "clip", "clip_loss": "clip", "SmallImageEncoder": "clip",
}


def __getattr__(name):
    if name in _MODELS:
        return getattr(_importlib.import_module(f".{_MODELS[name]}", __name__), name)
    raise AttributeError(f"module 'dalam.models' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_MODELS))
