"""SpecAugment (Park et al. 2019): TimeMasking and FrequencyMasking, active in
training mode only, as torchaudio's transforms."""
from ...nn.module import Module
from ..functional.masking import mask_along_axis, mask_along_axis_iid


class _AxisMasking(Module):
    def __init__(self, mask_param, axis, iid_masks, p=1.0, generator=None):
        super().__init__()
        if mask_param < 0:
            raise ValueError(f"{type(self).__name__}: mask_param must be non-negative, got {mask_param}")
        self.mask_param, self.axis, self.iid_masks, self.p = mask_param, axis, iid_masks, p
        self.generator = generator

    def forward(self, specgram, mask_value=0.0):
        if not self.training:
            return specgram
        nd = specgram.dim()
        axis = nd - 2 if self.axis == "freq" else nd - 1
        if self.iid_masks and nd >= 3:
            return mask_along_axis_iid(specgram, self.mask_param, mask_value, axis, self.p, self.generator)
        return mask_along_axis(specgram, self.mask_param, mask_value, axis, self.p, self.generator)


class FrequencyMasking(_AxisMasking):
    """Zero a band of up to ``freq_mask_param`` consecutive frequency bins."""

    def __init__(self, freq_mask_param, iid_masks=False, *, generator=None):
        super().__init__(freq_mask_param, "freq", iid_masks, 1.0, generator)


class TimeMasking(_AxisMasking):
    """Zero up to ``time_mask_param`` consecutive frames (at most a fraction ``p`` of them)."""

    def __init__(self, time_mask_param, iid_masks=False, p=1.0, *, generator=None):
        super().__init__(time_mask_param, "time", iid_masks, p, generator)
