"""dalam.audio against librosa (the oracle: torchaudio cannot be installed
beside torch 2.13, librosa is numpy-based, widely used and defines the same
STFT / mel / DCT maths), float64 gradchecks of every differentiable transform,
seeded augmentation, and audio-file errors."""
import numpy as np
import pytest

import dalam
import dalam.audio as A
from dalam.audio import functional as AF, transforms as AT
from dalam.autograd import gradcheck

librosa = pytest.importorskip("librosa")   # test-only oracle, in the dev extra
soundfile = pytest.importorskip("soundfile")

R = np.random.default_rng(0)
SR = 8000


def _sig(n=4000, dtype=np.float32, seed=0):
    r = np.random.default_rng(seed)
    t = np.arange(n) / SR
    return (0.5 * np.sin(2 * np.pi * 440 * t) + 0.1 * r.standard_normal(n)).astype(dtype)


def _rel(a, b):
    return np.abs(np.asarray(a, np.float64) - b).max() / np.abs(b).max()


@pytest.mark.parametrize("n_fft,hop,win,center,normalized,power", [
    (256, 80, None, True, False, 2.0), (200, 50, 160, True, True, 1.0), (128, 64, None, False, False, 2.0),
    (255, 60, None, True, False, 1.5)])
def test_spectrogram_matches_librosa(n_fft, hop, win, center, normalized, power):
    x = _sig()
    S = AT.Spectrogram(n_fft, win_length=win, hop_length=hop, center=center, normalized=normalized,
                       power=power)(dalam.tensor(x))
    assert S.dtype == np.float32
    D = librosa.stft(x.astype(np.float64), n_fft=n_fft, hop_length=hop, win_length=win, center=center,
                     pad_mode="reflect")
    mag = np.abs(D)
    if normalized:
        w = librosa.filters.get_window("hann", win or n_fft, fftbins=True)
        mag = mag / np.sqrt((w ** 2).sum())
    assert S.shape == mag.shape
    assert _rel(S.numpy(), mag ** power) < 1e-4


def test_spectrogram_batched_and_complex():
    x = np.stack([_sig(seed=0), _sig(seed=1)])
    S = AT.Spectrogram(128, hop_length=32)(dalam.tensor(x))
    assert S.shape == (2, 65, 4000 // 32 + 1)
    Z = AF.spectrogram(dalam.tensor(x[0]), 0, AF.hann_window(128), 128, 32, 128, None, False)
    D = librosa.stft(x[0].astype(np.float64), n_fft=128, hop_length=32, pad_mode="reflect")
    assert Z.shape == (65, D.shape[1], 2)
    assert _rel(Z.numpy()[..., 0], D.real) < 1e-4 and _rel(Z.numpy()[..., 1], D.imag) < 1e-4


@pytest.mark.parametrize("mel_scale,norm", [("htk", None), ("slaney", "slaney"), ("htk", "slaney"),
                                            ("slaney", None)])
def test_melscale_fbanks_and_melspectrogram_match_librosa(mel_scale, norm):
    fb = AF.melscale_fbanks(129, 0.0, 4000.0, 40, SR, norm, mel_scale).numpy()
    ref = librosa.filters.mel(sr=SR, n_fft=256, n_mels=40, fmin=0.0, fmax=4000.0,
                              htk=mel_scale == "htk", norm=norm).T
    assert _rel(fb, ref) < 1e-5
    x = _sig()
    M = AT.MelSpectrogram(SR, n_fft=256, hop_length=80, n_mels=40, f_min=20.0, norm=norm,
                          mel_scale=mel_scale)(dalam.tensor(x))
    RM = librosa.feature.melspectrogram(y=x.astype(np.float64), sr=SR, n_fft=256, hop_length=80,
                                        n_mels=40, fmin=20.0, htk=mel_scale == "htk", norm=norm,
                                        pad_mode="reflect")
    assert _rel(M.numpy(), RM) < 1e-4


def test_amplitude_to_db_and_mfcc_match_librosa():
    x = _sig()
    P = AT.MelSpectrogram(SR, n_fft=256, hop_length=80, n_mels=40)(dalam.tensor(x))
    db = AT.AmplitudeToDB("power", top_db=80.0)(P).numpy()
    ref = librosa.power_to_db(P.numpy().astype(np.float64), ref=1.0, amin=1e-10, top_db=80.0)
    assert np.abs(db - ref).max() < 1e-4 * np.abs(ref).max()
    mag = AT.AmplitudeToDB("magnitude")(P.sqrt()).numpy()
    assert np.allclose(mag, librosa.amplitude_to_db(P.sqrt().numpy(), ref=1.0, amin=1e-5, top_db=None),
                       atol=2e-3)  # librosa's amplitude amin is 1e-5 (power 1e-10): same above it
    m = AT.MFCC(SR, n_mfcc=13, melkwargs=dict(n_fft=256, hop_length=80, n_mels=40))(dalam.tensor(x))
    S = librosa.feature.melspectrogram(y=x.astype(np.float64), sr=SR, n_fft=256, hop_length=80, n_mels=40,
                                       htk=True, norm=None, pad_mode="reflect")
    ref = librosa.feature.mfcc(S=librosa.power_to_db(S, top_db=80.0), n_mfcc=13, dct_type=2, norm="ortho")
    assert m.shape == ref.shape == (13, 4000 // 80 + 1)
    assert _rel(m.numpy(), ref) < 1e-4
    import scipy.fft
    d = AF.create_dct(8, 20, "ortho").numpy()
    assert np.allclose(d.T, scipy.fft.dct(np.eye(20), type=2, norm="ortho", axis=0)[:8], atol=1e-6)


def test_amplitude_to_db_top_db_per_item_like_torchaudio():
    x = np.abs(R.standard_normal((2, 1, 5, 7))).astype(np.float32) + 1e-3
    x[1] *= 1e-6
    y = AF.amplitude_to_DB(dalam.tensor(x), 10.0, 1e-10, 0.0, top_db=20.0).numpy()
    for b in range(2):
        ref = 10 * np.log10(x[b])
        assert np.allclose(y[b], np.maximum(ref, ref.max() - 20.0), atol=1e-4)


def test_gradchecks_float64():
    x = dalam.tensor(_sig(64, np.float64), requires_grad=True)
    for center, mode in ((True, "reflect"), (True, "constant"), (False, "reflect"), (True, "replicate")):
        gradcheck(lambda w: AT.Spectrogram(16, hop_length=5, center=center, pad_mode=mode)(w), (x,))
    gradcheck(lambda w: AF.spectrogram(w, 0, AF.hann_window(12, dtype=np.float64), 16, 6, 12, 1.0, True),
              (x,))
    mel = AT.MelSpectrogram(SR, n_fft=32, hop_length=8, n_mels=6)
    gradcheck(lambda w: mel(w), (x,))
    mf = AT.MFCC(SR, n_mfcc=4, melkwargs=dict(n_fft=32, hop_length=8, n_mels=6))
    gradcheck(lambda w: mf(w), (x,))
    gradcheck(lambda w: AT.Resample(8, 6)(w), (x,))
    gradcheck(lambda w: AT.Resample(6, 8)(w), (x,))
    n = dalam.tensor(R.standard_normal(64), requires_grad=True)
    gradcheck(lambda w, z: A.augment.add_noise(w, z, 10.0), (x, n))
    gradcheck(lambda w: A.augment.time_shift(w, 5), (x,))
    spec = dalam.tensor(np.abs(R.standard_normal((2, 6, 9))) + 0.1, requires_grad=True)
    gradcheck(lambda s: AT.AmplitudeToDB(top_db=3.0)(s), (spec,))
    # the same mask on every call (a fresh seeded generator), so finite differences see one function
    gradcheck(lambda s: AT.TimeMasking(4, True, generator=dalam.Generator().manual_seed(1))(s), (spec,))


def test_resample_quality_and_length():
    x = np.sin(2 * np.pi * 300 * np.arange(8000) / 8000).astype(np.float32)
    y = AT.Resample(8000, 16000)(dalam.tensor(x)).numpy()
    assert y.shape == (16000,)
    ref = np.sin(2 * np.pi * 300 * np.arange(16000) / 16000)
    assert np.abs(y - ref)[200:-200].max() < 2e-3
    z = AT.Resample(44100, 8000)(dalam.tensor(np.sin(2 * np.pi * 300 * np.arange(44100) / 44100)
                                               .astype(np.float32))).numpy()
    assert z.shape == (8000,) and np.abs(z - ref[::2])[200:-200].max() < 2e-3
    import soxr
    s = soxr.resample(x, 8000, 16000)
    assert np.abs(y - s)[200:-200].max() < 3e-3


def test_griffinlim_and_inverse_mel_scale():
    x = _sig(2000)
    S = AT.Spectrogram(128, hop_length=32)(dalam.tensor(x))
    y = AT.GriffinLim(128, n_iter=16, hop_length=32, rand_init=False, length=2000)(S).numpy()
    ref = librosa.griffinlim(np.sqrt(S.numpy().astype(np.float64)), n_iter=16, hop_length=32, n_fft=128,
                             init=None, momentum=0.99, length=2000, pad_mode="reflect")
    assert y.shape == (2000,)
    assert _rel(y, ref) < 1e-4                         # the same algorithm (1.3e-5: float32 round-off)
    S2 = AT.Spectrogram(128, hop_length=32)(dalam.tensor(y)).numpy()
    assert np.linalg.norm(np.sqrt(S2) - np.sqrt(S.numpy())) / np.linalg.norm(np.sqrt(S.numpy())) < 0.3
    mel = AT.MelScale(20, SR, n_stft=65)
    inv = AT.InverseMelScale(65, 20, SR)
    back = inv(mel(S))
    assert back.shape == S.shape and (back.numpy() >= 0).all()
    assert _rel(mel(back).numpy(), mel(S).numpy()) < 0.05


def test_masking_seeded_and_train_only():
    spec = dalam.ones(3, 20, 30)
    a = AT.TimeMasking(10, iid_masks=True, generator=dalam.Generator().manual_seed(3))(spec).numpy()
    b = AT.TimeMasking(10, iid_masks=True, generator=dalam.Generator().manual_seed(3))(spec).numpy()
    assert np.array_equal(a, b) and (a == 0).any()
    cols = (a == 0).all(1)                       # masked frames are whole columns
    assert ((a == 0).any(1) == cols).all()
    assert cols.sum(1).max() < 10
    f = AT.FrequencyMasking(8)
    dalam.manual_seed(5)
    c = f(spec).numpy()
    dalam.manual_seed(5)
    assert np.array_equal(c, f(spec).numpy())
    rows = (c[0] == 0).all(1)
    assert rows.sum() < 8 and np.array_equal(c[0], c[1])   # one shared mask without iid_masks
    f.eval()
    assert np.array_equal(f(spec).numpy(), spec.numpy())


def test_waveform_augmentation():
    x = dalam.tensor(_sig(1000))
    y = A.augment.time_shift(x, 10).numpy()
    assert np.array_equal(y[10:], x.numpy()[:-10]) and (y[:10] == 0).all()
    assert np.array_equal(A.augment.time_shift(x, -3, "roll").numpy(), np.roll(x.numpy(), -3))
    noise = dalam.tensor(R.standard_normal(1000).astype(np.float32))
    for snr in (0.0, 10.0, 25.0):
        z = A.augment.add_noise(x, noise, snr).numpy()
        got = 10 * np.log10((x.numpy() ** 2).sum() / ((z - x.numpy()) ** 2).sum())
        assert abs(got - snr) < 1e-3
    sp = AT.SpeedPerturbation(8000, [0.9, 1.1], generator=dalam.Generator().manual_seed(0))
    y1, _ = sp(x)
    y2, _ = AT.SpeedPerturbation(8000, [0.9, 1.1], generator=dalam.Generator().manual_seed(0))(x)
    assert np.array_equal(y1.numpy(), y2.numpy()) and y1.shape[0] in (1112, 910)
    y, lens = A.augment.speed(x, 8000, 1.25, lengths=[1000])
    assert y.shape == (800,) and lens.tolist() == [800]
    ts = AT.TimeShift(50, generator=dalam.Generator().manual_seed(2))
    assert np.array_equal(ts(x).numpy(), AT.TimeShift(50, generator=dalam.Generator().manual_seed(2))(x).numpy())


def test_load_save_roundtrip_and_errors(tmp_path):
    x = (_sig(800) * 0.5)[None]
    A.save(tmp_path / "a.wav", x, SR)
    y, sr = A.load(tmp_path / "a.wav")
    assert sr == SR and y.shape == (1, 800) and np.abs(y.numpy() - x).max() < 1e-4
    A.save(tmp_path / "a.flac", x, SR)
    assert np.abs(A.load(tmp_path / "a.flac")[0].numpy() - x).max() < 1e-4
    assert A.info(tmp_path / "a.flac")["num_frames"] == 800
    y16, sr16 = A.load(tmp_path / "a.wav", sample_rate=16000)
    assert sr16 == 16000 and y16.shape == (1, 1600)
    (tmp_path / "bad.wav").write_bytes(b"not audio at all" * 10)
    with pytest.raises(ValueError, match="bad.wav: not a readable audio file"):
        A.load(tmp_path / "bad.wav")
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        A.load(tmp_path / "missing.wav")
    A.save(tmp_path / "st.wav", np.stack([x[0], x[0]]), SR)
    with pytest.raises(ValueError, match="st.wav: 2 channels, expected mono"):
        A.load_mono(tmp_path / "st.wav")
    assert A.load_mono(tmp_path / "st.wav", mix_down=True)[0].shape == (800,)
    A.save(tmp_path / "empty.wav", np.zeros((1, 0), np.float32), SR)
    with pytest.raises(ValueError, match="empty.wav: the recording is empty"):
        A.load_mono(tmp_path / "empty.wav")


def test_transform_errors_are_clear():
    with pytest.raises(ValueError, match="too short for centre padding"):
        AT.Spectrogram(256)(dalam.zeros(100))
    with pytest.raises(ValueError, match="MelScale: the spectrogram has 65 frequency bins"):
        AT.MelScale(10, SR, n_stft=129)(dalam.ones(65, 4))
    with pytest.raises(ValueError, match="n_mfcc=50 cannot be larger than n_mels=40"):
        AT.MFCC(SR, 50, melkwargs=dict(n_mels=40))


def test_spectrogram_idiom_in_a_model():
    """A tutorial-style program: features inside nn.Sequential, trained end to end."""
    from dalam import nn
    dalam.manual_seed(0)
    front = AT.MelSpectrogram(SR, n_fft=64, hop_length=32, n_mels=8)
    model = nn.Sequential(nn.Flatten(), nn.LazyLinear(2) if hasattr(nn, "LazyLinear") else nn.Linear(8 * 33, 2))
    x = dalam.tensor(np.stack([_sig(1024, seed=s) * (1 + s % 2) for s in range(8)]))
    y = dalam.tensor(np.arange(8) % 2)
    opt = dalam.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(30):
        loss = nn.functional.cross_entropy(model(AT.AmplitudeToDB()(front(x))), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1


def test_real_recording_mfcc_matches_librosa(data_dir):
    path = f"{data_dir}/fsdd/recordings/4_nicolas_3.wav"
    w, sr = A.load(path)
    y, lsr = soundfile.read(path, dtype="float32")   # the file as libsndfile decodes it
    assert sr == lsr == 8000 and np.allclose(w.numpy()[0], y, atol=1e-6)
    m = AT.MFCC(sr, 20, melkwargs=dict(n_fft=256, hop_length=80, n_mels=40, mel_scale="slaney",
                                       norm="slaney"))(w[0])
    S = librosa.feature.melspectrogram(y=y.astype(np.float64), sr=sr, n_fft=256, hop_length=80, n_mels=40,
                                       pad_mode="reflect")
    ref = librosa.feature.mfcc(S=librosa.power_to_db(S, top_db=80.0), n_mfcc=20)
    assert _rel(m.numpy(), ref) < 1e-4


def test_import_dalam_does_not_load_audio():
    import subprocess
    import sys
    code = "import sys, dalam; assert 'dalam.audio' not in sys.modules and 'soundfile' not in sys.modules; " \
           "dalam.audio.transforms.Spectrogram; assert 'soundfile' not in sys.modules; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "ok", r.stderr
