"""Every message a page sends is checked here before anything acts on it:
JSON objects only, a known ``type``, known fields only, every value of the
right type and inside its bounds.  A bad message gets one clear error back
and changes nothing; it never reaches dalam."""
import json
import math

from .bridge import ACTIVATIONS, DEFAULT_CONFIG, OPTIMIZERS, REGULARIZATIONS
from .data import DATASETS
from .features import FEATURES
from .presets import BY_ID

MAX_MESSAGE_BYTES = 16 * 1024
MAX_HIDDEN_LAYERS = 8
MAX_NEURONS = 16


class ProtocolError(ValueError):
    """A message the server refuses; the text goes back to the page as is."""


def _number(name, lo, hi, integer=False):
    def check(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not isinstance(v, int)):
            raise ProtocolError(f"{name}: expected {'an integer' if integer else 'a number'}, "
                                f"got {type(v).__name__}")
        if isinstance(v, float) and not math.isfinite(v):
            raise ProtocolError(f"{name}: expected a finite number, got {v}")
        if not lo <= v <= hi:
            raise ProtocolError(f"{name}: expected a value in [{lo}, {hi}], got {v}")
        return int(v) if integer else float(v)
    return check


def _choice(name, options):
    def check(v):
        if not isinstance(v, str) or v not in options:
            shown = v if isinstance(v, str) and len(v) < 40 else type(v).__name__
            raise ProtocolError(f"{name}: expected one of {', '.join(options)}; got {shown!r}")
        return v
    return check


def _hidden(v):
    if not isinstance(v, list):
        raise ProtocolError(f"hidden: expected a list of layer widths, got {type(v).__name__}")
    if len(v) > MAX_HIDDEN_LAYERS:
        raise ProtocolError(f"hidden: at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(v)}")
    return [_number(f"hidden[{i}]", 1, MAX_NEURONS, integer=True)(w) for i, w in enumerate(v)]


def _features(v):
    if not isinstance(v, list) or not v:
        raise ProtocolError("features: expected a non-empty list of feature names")
    if len(v) > len(FEATURES):
        raise ProtocolError(f"features: at most {len(FEATURES)} features, got {len(v)}")
    names = [_choice(f"features[{i}]", tuple(FEATURES))(f) for i, f in enumerate(v)]
    if len(set(names)) != len(names):
        raise ProtocolError("features: each feature may appear once")
    return [f for f in FEATURES if f in names]   # canonical order, as the page draws them


CONFIG_FIELDS = {
    "dataset": _choice("dataset", DATASETS),
    "n_points": _number("n_points", 40, 1000, integer=True),
    "noise": _number("noise", 0.0, 0.5),
    "train_ratio": _number("train_ratio", 0.1, 0.9),
    "seed": _number("seed", 0, 2 ** 31 - 1, integer=True),
    "features": _features,
    "hidden": _hidden,
    "activation": _choice("activation", tuple(ACTIVATIONS)),
    "regularization": _choice("regularization", REGULARIZATIONS),
    "reg_rate": _number("reg_rate", 0.0, 1.0),
    "dropout": _number("dropout", 0.0, 0.9),
    "optimizer": _choice("optimizer", OPTIMIZERS),
    "lr": _number("lr", 1e-5, 30.0),
    "batch_size": _number("batch_size", 1, 512, integer=True),
}


def validate_config(partial, base=None):
    """``base`` (default: the defaults) updated by ``partial``; every field checked."""
    if not isinstance(partial, dict):
        raise ProtocolError(f"config: expected an object, got {type(partial).__name__}")
    unknown = sorted(set(partial) - set(CONFIG_FIELDS))
    if unknown:
        raise ProtocolError(f"config: unknown field {str(unknown[0])[:40]!r}; "
                            f"known fields: {', '.join(CONFIG_FIELDS)}")
    out = dict(base or DEFAULT_CONFIG)
    for k, v in partial.items():
        out[k] = CONFIG_FIELDS[k](v)
    return out


def _config_fields(v):
    """The fields a config message changes, each checked (merged by the session)."""
    full = validate_config(v)
    return {k: full[k] for k in v}


def _weight(v):
    if not isinstance(v, list) or len(v) != 3:
        raise ProtocolError("weight: expected [layer, to, from] (three integers)")
    return tuple(_number(f"weight[{i}]", 0, 1000, integer=True)(x) for i, x in enumerate(v))


def _preset(v):
    return _choice("name", tuple(BY_ID))(v)


# message type -> {field: (validator, required)}
MESSAGES = {
    "config": {"config": (_config_fields, True)},
    "preset": {"name": (_preset, True)},
    "play": {},
    "pause": {},
    "reset": {},
    "step": {"n": (_number("n", 1, 1000, integer=True), False)},
    "inspect": {"point": (_number("point", 0, 100_000, integer=True), True), "weight": (_weight, False)},
    "export": {},
    "ping": {},
}


def parse(text):
    """Raw WebSocket text -> (type, fields, id).  Raises ProtocolError with a
    message meant for the page; ``id`` (an optional integer) is echoed in the reply."""
    if isinstance(text, (bytes, bytearray)):
        raise ProtocolError("messages must be JSON text, not binary")
    if len(text) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message too long: {len(text)} characters (limit {MAX_MESSAGE_BYTES})")
    try:
        msg = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise ProtocolError(f"not valid JSON: {str(e)[:80]}") from None
    if not isinstance(msg, dict):
        raise ProtocolError(f"expected a JSON object with a 'type', got {type(msg).__name__}")
    mid = msg.get("id")
    if mid is not None and (isinstance(mid, bool) or not isinstance(mid, int) or not 0 <= mid < 2 ** 53):
        raise ProtocolError("id: expected a non-negative integer")
    kind = msg.get("type")
    if not isinstance(kind, str) or kind not in MESSAGES:
        shown = kind if isinstance(kind, str) and len(kind) < 40 else type(kind).__name__
        raise ProtocolError(f"type: expected one of {', '.join(MESSAGES)}; got {shown!r}")
    spec = MESSAGES[kind]
    unknown = sorted(set(msg) - set(spec) - {"type", "id"})
    if unknown:
        raise ProtocolError(f"{kind}: unknown field {str(unknown[0])[:40]!r}"
                            + (f"; allowed: {', '.join(spec)}" if spec else "; it takes no fields"))
    fields = {}
    for name, (check, required) in spec.items():
        if name in msg:
            fields[name] = check(msg[name])
        elif required:
            raise ProtocolError(f"{kind}: missing field {name!r}")
    return kind, fields, mid


def _reject_constant(name):
    raise ValueError(f"{name} is not allowed")
