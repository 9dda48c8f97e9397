"""nn utilities: variable-length sequences (rnn), gradient clipping, parametrizations
(weight/spectral norm) and the older hook-based weight_norm/spectral_norm."""
from . import rnn  # noqa: F401
from .rnn import (PackedSequence, pack_padded_sequence, pad_packed_sequence, pad_sequence,  # noqa: F401
                  pack_sequence, unpad_sequence)
from . import clip_grad  # noqa: F401
from .clip_grad import (clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm,  # noqa: F401
                        clip_grads_with_norm_, parameters_to_vector, vector_to_parameters)
from . import parametrize, parametrizations  # noqa: F401,E402
from .hook_norms import weight_norm, remove_weight_norm, spectral_norm, remove_spectral_norm  # noqa: F401,E402
