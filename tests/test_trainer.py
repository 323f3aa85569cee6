"""The trainer: every model trains on tiny data, resuming is bit-identical, a NaN stops the run and
keeps the last checkpoint, and nothing float64 appears in parameters, gradients or optimiser state."""
import os

import numpy as np
import pytest

import minigan as mg
from minigan import io
from minigan.data import Dataset
from minigan.gan import callbacks as cb
from minigan.gan import models, run
from minigan.gan.trainer import NonFiniteLossError, TrainConfig


def tiny_dataset(kind, n=16, seed=0):
    """Random data of the right shape for each model family (labels in 0..2)."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 3).astype(np.int64)
    if kind == "points":
        data = rng.standard_normal((n, 2), dtype=np.float32)
        meta = {"name": "tiny-points", "kind": "points", "shape": (2,), "num_classes": 3,
                "modes": np.zeros((3, 2), np.float32), "std": 0.02}
    else:
        c, size = {"img28": (1, 28), "img64": (3, 64), "img8": (1, 8)}[kind]
        data = rng.uniform(-1, 1, (n, c, size, size)).astype(np.float32)
        meta = {"name": f"tiny-{kind}", "kind": "images", "shape": (c, size, size), "num_classes": 3}
    return Dataset(data, labels, meta)


MODEL_DATA = {"mlp": "img8", "cgan": "img8", "dcgan": "img28", "cdcgan": "img28", "dcgan64": "img64",
              "toy": "points"}


def make_trainer(model="toy", iters=4, batch_size=4, dataset=None, **settings):
    cfg = TrainConfig(model=model, dataset="tiny", iters=iters, batch_size=batch_size, **settings).resolved()
    return run.build(cfg, dataset or tiny_dataset(MODEL_DATA[model]))


def float_arrays(trainer):
    """Every floating array a run holds: parameters, gradients, buffers, optimiser state, EMA."""
    for module in (trainer.G, trainer.D):
        for name, p in module.named_parameters():
            yield name, p.data
            if p.grad is not None:
                yield name + ".grad", p.grad.data
        for name, b in module.named_buffers():
            yield name, b.data
    for opt in (trainer.opt_g, trainer.opt_d):
        for index, slots in opt.state_dict()["state"].items():
            for key, value in slots.items():
                yield f"opt {index} {key}", np.asarray(value)
    if trainer.ema is not None:
        yield from trainer.ema.shadow.items()


def assert_float32(trainer):
    checked = 0
    for name, array in float_arrays(trainer):
        if array.dtype.kind in "fc":
            assert array.dtype == np.float32, f"{name} is {array.dtype}"
            checked += 1
    assert checked > 10


@pytest.mark.parametrize("model", models.MODELS)
def test_every_model_trains_and_stays_float32(model):
    batch = 2 if model == "dcgan64" else 4
    trainer = make_trainer(model, iters=2, batch_size=batch, ema=0.9)
    if model == "dcgan64":  # the full-width W3 nets are slow on a CPU; the layout is what matters here
        mg.manual_seed(0)
        trainer = run.Trainer(trainer.config, models.DCGAN64Generator(nz=100, ngf=4),
                              models.DCGAN64Discriminator(ndf=4), trainer.loader)
    before = {k: v.copy() for k, v in trainer.G.state_dict().items()}
    logs = trainer.train()
    assert logs["iteration"] == 2 and np.isfinite([logs["d_loss"], logs["g_loss"]]).all()
    assert any(not np.array_equal(before[k], v) for k, v in trainer.G.state_dict().items())
    assert_float32(trainer)
    z = cb.fixed_noise(3, trainer.nz, 0)
    labels = np.array([0, 1, 2]) if trainer.conditional else None
    samples = trainer.sample(z, labels)
    assert samples.dtype == np.float32
    assert samples.shape == (3,) + tuple(trainer.loader.data.shape[1:])


@pytest.mark.parametrize("loss", ["minimax", "wasserstein", "wgan-gp", "hinge", "least-squares", "relativistic",
                                  "relativistic-pairing"])
def test_every_loss_trains_the_toy_model(loss):
    trainer = make_trainer("toy", iters=2, loss=loss, n_critic=2, r1=0.1 if loss == "hinge" else 0.0)
    logs = trainer.train()
    assert np.isfinite(logs["d_loss"]) and np.isfinite(logs["g_loss"])
    assert_float32(trainer)


@pytest.mark.parametrize("model, d_batch", [("dcgan", "joint"), ("dcgan", "separate"), ("mlp", "joint"),
                                            ("cdcgan", "joint")])
def test_the_relativistic_generator_loss_gets_the_real_batch_logits_from_the_d_it_faces(model, d_batch):
    """G's relativistic loss compares its fakes with a real batch scored by the updated D: the G step
    passes that batch whatever D's normalisation or batching, and its logits are D's for it."""
    trainer = make_trainer(model, iters=1, batch_size=4, loss="relativistic", d_batch=d_batch)
    adversarial, seen = trainer.loss.g_loss, []

    def recorded(fake_logits, real_logits=None):
        seen.append((fake_logits.shape, real_logits.shape))
        with mg.no_grad():
            real, labels = trainer._last_real
            expected = trainer.discriminate_pair(real, trainer._last_fake, labels)[0]
        np.testing.assert_allclose(real_logits.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
        return adversarial(fake_logits, real_logits)
    trainer.loss.g_loss = recorded
    pair = trainer.discriminate_pair

    def remembered(real, fake, labels=None, features=False):
        trainer._last_real, trainer._last_fake = (real, labels), fake.detach()
        return pair(real, fake, labels, features)
    trainer.discriminate_pair = remembered
    logs = trainer.train()
    assert seen == [((4, 1), (4, 1))] and np.isfinite(logs["g_loss"])
    assert_float32(trainer)


@pytest.mark.parametrize("d_norm", ["batch", "layer"])
@pytest.mark.parametrize("settings", [{"loss": "wgan-gp"}, {"r1": 1.0}])
def test_gradient_penalties_train_a_dcgan_critic(settings, d_norm):
    """The penalty's backward runs through D's normalisation, training-mode batch norm included."""
    trainer = make_trainer("dcgan", iters=1, batch_size=4, d_norm=d_norm, **settings)
    norm = trainer.D.main[3]
    assert type(norm).__name__ == {"batch": "BatchNorm2d", "layer": "GroupNorm"}[d_norm]
    before = {k: v.copy() for k, v in trainer.D.state_dict().items()}
    logs = trainer.train()
    assert np.isfinite(logs["d_loss"]) and np.isfinite(logs["g_loss"])
    assert all(np.isfinite(p.grad.data).all() for p in trainer.D.parameters())
    assert any(not np.array_equal(before[k], v) for k, v in trainer.D.state_dict().items() if "weight" in k)
    assert_float32(trainer)


def test_the_label_tricks_with_a_loss_without_targets_name_the_losses_to_pass():
    with pytest.raises(run.RunError, match="need a loss with targets \\(pass --loss minimax, non-saturating or "
                                         "least-squares\\), not relativistic-pairing"):
        make_trainer("dcgan", iters=1, loss="relativistic-pairing", label_smoothing=0.1)


@pytest.mark.parametrize("model", sorted(run.MODEL_DEFAULTS))
def test_dcgan_defaults_to_the_relativistic_loss_and_the_other_models_to_the_non_saturating(model):
    expected = "relativistic" if model == "dcgan" else "non-saturating"
    assert run.resolve_config(model=model, dataset="mnist").loss == expected
    assert run.resolve_config(model=model, dataset="mnist", loss="lsgan").loss == "least-squares", "the flag wins"


def test_the_default_dcgan_with_a_label_trick_asks_for_a_loss_with_targets():
    cfg = run.resolve_config(label_flip=0.1, iters=1, batch_size=4)
    with pytest.raises(run.RunError, match="need a loss with targets .* not relativistic$"):
        run.build(cfg, tiny_dataset(MODEL_DATA["dcgan"]))


@pytest.mark.parametrize("settings, d_norm", [({}, "layer"), ({"r1": 0.0}, "batch"), ({"model": "cdcgan"}, "batch"),
                                              ({"loss": "wgan-gp", "r1": 0.0}, "layer"), ({"r1": 1.0}, "layer"),
                                              ({"r1": 1.0, "d_norm": "batch"}, "batch")])
def test_a_gradient_penalty_gives_d_layer_norm_unless_told(settings, d_norm):
    """dcgan's default has the R1 penalty, so layer norm in D; --r1 0 gives the batch norm back."""
    cfg = run.resolve_config(**settings)
    assert cfg.d_norm == d_norm
    assert TrainConfig.from_dict({k: v for k, v in cfg.to_dict().items() if k != "d_norm"}).d_norm == "batch", \
        "a config.json from before d_norm had batch norm in every D"


def test_dcgan_takes_r1_on_a_quarter_of_the_batch_and_older_runs_on_all_of_it():
    cfg = run.resolve_config()
    assert (cfg.model, cfg.r1, cfg.r1_batch, cfg.iters, cfg.batch_size) == ("dcgan", 10.0, 32, 1500, 128)
    assert TrainConfig.from_dict({k: v for k, v in cfg.to_dict().items() if k != "r1_batch"}).r1_batch is None, \
        "a config.json from before r1_batch took the penalty on the whole batch"


def test_dcgan_samples_g_itself_and_the_toy_its_ema():
    """Round eighteen: with the R1 penalty G beat its EMA on every seed, so dcgan's default has none;
    the toy keeps its EMA, and --ema still gives one (the previous default, --ema 0.999)."""
    assert run.resolve_config().ema == 0.0
    assert run.resolve_config(model="toy", dataset="ring8").ema == 0.999
    assert run.resolve_config(ema=0.999).ema == 0.999, "the flag wins"
    trainer = run.build(run.resolve_config(iters=1, batch_size=4), tiny_dataset(MODEL_DATA["dcgan"]))
    assert trainer.ema is None and trainer.sampling_generator() is trainer.G


@pytest.mark.parametrize("loss, r1", [("non-saturating", 10.0), ("hinge", 10.0), ("wasserstein", 0.0),
                                      ("wgan-gp", 0.0)])
def test_the_wgans_recipes_leave_out_dcgans_r1_penalty_unless_asked(loss, r1):
    """Another loss keeps dcgan's R1 default, but the WGANs' critics have their own constraint."""
    assert run.resolve_config(loss=loss).r1 == r1
    assert run.resolve_config(loss=loss, r1=1.0).r1 == 1.0, "the flag wins"


@pytest.mark.parametrize("d_norm, pairs", [("batch", 2), ("layer", 1)])
def test_the_g_step_passes_the_real_batch_again_only_for_batch_norm(d_norm, pairs):
    """With the joint batch, the G step runs D on real and fake together only when D's batch norm mixes
    them; a layer-norm D gives the fakes the same logits alone."""
    trainer = make_trainer("dcgan", iters=1, d_batch="joint", d_norm=d_norm)
    calls = []
    pair = trainer.discriminate_pair
    trainer.discriminate_pair = lambda *a, **k: calls.append(1) or pair(*a, **k)
    trainer.train()
    assert len(calls) == pairs  # the D step's, and the G step's with batch norm


@pytest.mark.parametrize("model", ["dcgan", "cdcgan", "dcgan64"])
def test_r1_is_each_samples_own_penalty_only_without_batch_norm(model):
    """R1 sums D's logits before differentiating, which gives each sample's own gradient only when its
    logit depends on it alone: with layer norm the batch's penalty is the mean of the one-sample
    penalties; with batch norm it is not."""
    from minigan.gan.regularisers import r1_penalty
    data = tiny_dataset(MODEL_DATA[model], n=4)
    x = mg.tensor(data.data)
    labels = data.labels
    for d_norm, equal in (("layer", True), ("batch", False)):
        trainer = make_trainer(model, iters=1, dataset=data, d_norm=d_norm)
        critic = trainer.critic(labels if trainer.conditional else None)
        whole = r1_penalty(critic, x, 1.0).item()
        one_at_a_time = []
        for i in range(len(x)):
            if d_norm == "batch":
                # one sample cannot be batch-normalised in training mode; score it in the batch instead,
                # with the gradient of its own logit alone
                xi = mg.tensor(data.data, requires_grad=True)
                (g,) = mg.grad(critic(xi)[i].sum(), [xi])
                one_at_a_time.append(0.5 * float((g.numpy()[i] ** 2).sum()))
            else:
                one = trainer.critic(labels[i:i + 1] if trainer.conditional else None)
                one_at_a_time.append(r1_penalty(one, x[i:i + 1], 1.0).item())
        assert np.isclose(whole, np.mean(one_at_a_time), rtol=1e-4) == equal, (d_norm, whole, one_at_a_time)


@pytest.mark.parametrize("model", ["dcgan", "cdcgan"])
def test_r1_batch_takes_the_penalty_on_the_first_real_samples(model, monkeypatch):
    """r1_batch=K: the D step's R1 penalty is taken on the first K samples of the real batch it trains
    on (with their labels, for a conditional D); None: on all of them."""
    import minigan.gan.trainer as trainer_module
    penalty, calls = trainer_module.r1_penalty, []

    def recording(critic, real, gamma):
        value = penalty(critic, real, gamma)  # a conditional critic given the wrong labels fails here
        calls.append(real.numpy().copy())
        return value

    monkeypatch.setattr(trainer_module, "r1_penalty", recording)
    for r1_batch, size in ((3, 3), (None, 8)):
        trainer = make_trainer(model, iters=1, batch_size=8, r1=1.0, r1_batch=r1_batch)
        batches, next_batch = [], trainer.next_batch
        trainer.next_batch = lambda: batches.append(next_batch()) or batches[-1]
        calls.clear()
        trainer.train()
        assert len(calls) == 1 and len(calls[0]) == size
        np.testing.assert_array_equal(calls[0], batches[0][0].numpy()[:size])


@pytest.mark.parametrize("d_batch", ["separate", "joint"])
@pytest.mark.parametrize("term", ["feature_matching", "mmd"])
def test_a_feature_term_adds_its_weighted_value_to_the_generator_loss(term, d_batch, monkeypatch):
    """With feature_matching (or mmd) set to w, the G step's loss is loss.g_loss(D(G(z))) + w *
    feature_matching(h(x), h(G(z))) (or mmd), h being D's top hidden features, taken from the D the step
    faces; the D step is the same as without the term."""
    import minigan.gan.trainer as trainer_module
    parts, seen = [], []
    measure = getattr(trainer_module, term)

    def recorded_term(real_h, fake_h):
        seen.append((real_h.shape, fake_h.shape, fake_h.requires_grad))
        value = measure(real_h, fake_h)
        parts.append(value.item())
        return value
    monkeypatch.setattr(trainer_module, term, recorded_term)
    logs = {}
    for weight in (0.0, 3.0):
        trainer = make_trainer("dcgan", iters=1, d_batch=d_batch, **{term: weight})
        adversarial = trainer.loss.g_loss

        def recorded(fake_logits, real_logits=None, adversarial=adversarial):
            value = adversarial(fake_logits, real_logits)
            parts.append(value.item())
            return value
        trainer.loss.g_loss = recorded
        logs[weight] = trainer.train()
        assert_float32(trainer)
    assert logs[3.0]["d_loss"] == logs[0.0]["d_loss"]
    plain, adversarial, value = parts  # the unweighted run never computes the term
    assert seen == [((4, 6272), (4, 6272), True)]
    assert adversarial == pytest.approx(plain, rel=1e-6) and value > 0
    assert logs[3.0]["g_loss"] == pytest.approx(adversarial + 3.0 * value, rel=1e-5)


@pytest.mark.parametrize("term, flag", [("feature_matching", "--feature-matching"), ("mmd", "--mmd")])
def test_feature_term_weights_must_be_finite_non_negative_numbers(term, flag):
    trainer = make_trainer("dcgan", iters=1)
    for weight in (-1.0, float("inf")):
        cfg = TrainConfig(model="dcgan", **{term: weight}).resolved()
        with pytest.raises(ValueError, match=f"{term} is a weight >= 0"):
            run.Trainer(cfg, trainer.G, trainer.D, trainer.loader)
        with pytest.raises(run.RunError, match=f"{flag} is a weight >= 0"):
            run.resolve_config(**{term: weight})


def test_wasserstein_keeps_the_critic_clipped():
    trainer = make_trainer("toy", iters=3, loss="wasserstein", optimizer="rmsprop", lr=0.05)
    trainer.train()
    assert max(float(np.abs(p.data).max()) for p in trainer.D.parameters()) <= 0.01


def state_arrays(trainer):
    state, metadata = trainer.state_dict()
    arrays, _ = io.pack_state(state)
    return arrays, metadata


@pytest.mark.parametrize("model, settings", [
    ("toy", {"ema": 0.99, "label_flip": 0.2, "label_smoothing": 0.1, "instance_noise": 0.1,
             "instance_noise_iters": 5}),
    ("dcgan", {"n_critic": 2}),
    ("dcgan", {"d_batch": "joint", "feature_matching": 10.0, "mmd": 10.0, "ema": 0.99}),
    ("cdcgan", {"d_batch": "joint", "ema": 0.99}),
    ("toy", {"loss": "wgan-gp", "n_critic": 2}),
])
def test_resume_is_bit_identical(tmp_path, model, settings):
    # The loader's epoch is 4 batches long, so the runs cross epoch boundaries (reshuffles) too.
    data = tiny_dataset(MODEL_DATA[model], n=8 if model == "dcgan" else 16)
    straight = make_trainer(model, iters=6, dataset=data, **settings)
    straight.train()

    first = make_trainer(model, iters=3, dataset=data, **settings)
    first.train()
    path = str(tmp_path / "checkpoint.npz")
    io.save_checkpoint(path, *first.state_dict())
    del first
    mg.manual_seed(12345)  # whatever happened in between must not matter
    mg.randn(7)
    second = make_trainer(model, iters=6, dataset=data, **settings)
    second.load_state_dict(*io.load_checkpoint(path))
    assert second.iteration == 3
    second.train()

    a, meta_a = state_arrays(straight)
    b, meta_b = state_arrays(second)
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert meta_a["rng_state"] == meta_b["rng_state"] and meta_a["loader"] == meta_b["loader"]


class InjectNaN:
    """Poison D's first weight after ``at`` iterations, so the next iteration's loss is NaN."""

    def __init__(self, at):
        self.at = at

    def on_iteration_end(self, trainer, logs):
        if logs["iteration"] == self.at:
            next(iter(trainer.D.parameters())).data[...] = np.nan


def test_a_nan_loss_stops_the_run_and_keeps_the_last_checkpoint(tmp_path):
    trainer = make_trainer("toy", iters=10)
    checkpoint = cb.Checkpoint(str(tmp_path), every=2)
    trainer.callbacks = [checkpoint, InjectNaN(at=5)]
    with pytest.raises(NonFiniteLossError, match="discriminator loss became nan at iteration 6") as info:
        trainer.train()
    assert info.value.iteration == 6
    state, metadata = io.load_checkpoint(checkpoint.path)
    assert metadata["iteration"] == 4
    assert all(np.isfinite(v).all() for v in state["D"].values())
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz"]  # no half-written file left behind


def test_loading_a_checkpoint_of_another_model_is_refused(tmp_path):
    toy = make_trainer("toy", iters=1)
    toy.train()
    path = str(tmp_path / "c.npz")
    io.save_checkpoint(path, *toy.state_dict())
    mlp = make_trainer("mlp", iters=1)
    with pytest.raises(ValueError, match="generator does not match this model"):
        mlp.load_state_dict(*io.load_checkpoint(path))


def test_model_state_dict_keys_look_like_pytorch():
    G, D = models.build_models("dcgan", (1, 28, 28))
    assert list(G.state_dict())[:6] == ["main.0.weight", "main.0.bias", "main.1.weight", "main.1.bias",
                                        "main.1.running_mean", "main.1.running_var"]
    assert tuple(G.state_dict()["main.4.weight"].shape) == (128, 64, 4, 4)  # ConvTranspose2d: (in, out, kh, kw)
    assert tuple(D.state_dict()["main.6.weight"].shape) == (1, 6272)
    G64, D64 = models.DCGAN64Generator(), models.DCGAN64Discriminator()
    assert tuple(G64.state_dict()["main.0.weight"].shape) == (100, 512, 4, 4)
    assert "main.0.bias" not in G64.state_dict()
    assert tuple(D64.state_dict()["main.11.weight"].shape) == (1, 512, 4, 4)
    cG, cD = models.build_models("cdcgan", (1, 28, 28), num_classes=10)
    assert tuple(cG.state_dict()["label_embedding.weight"].shape) == (10, 10)
    assert tuple(cD.state_dict()["main.0.weight"].shape) == (64, 2, 4, 4)


@pytest.mark.parametrize("name, shape, classes, message", [
    ("dcgan", (3, 64, 64), None, "draws 28x28 images"),
    ("dcgan64", (1, 28, 28), None, "draws 64x64 images"),
    ("toy", (1, 28, 28), None, "use --model toy with the 2-D sets"),
    ("mlp", (2,), None, "use --model toy with the 2-D sets"),
    ("cgan", (1, 28, 28), None, "has no labels"),
    ("gan9000", (1, 28, 28), None, "unknown model 'gan9000'"),
])
def test_models_refuse_data_they_cannot_draw(name, shape, classes, message):
    with pytest.raises(ValueError, match=message):
        models.build_models(name, shape, classes)


@pytest.mark.parametrize("name", ["dcgan", "dcgan64", "mlp", "toy"])
def test_state_dicts_load_into_the_same_pytorch_network(name):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    shape = {"dcgan": (1, 28, 28), "dcgan64": (3, 64, 64), "mlp": (1, 28, 28), "toy": (2,)}[name]
    mg.manual_seed(0)
    if name == "dcgan64":  # narrow, to stay quick; the layout is the same at any width
        G, D = models.DCGAN64Generator(ngf=4), models.DCGAN64Discriminator(ndf=4)
    else:
        G, D = models.build_models(name, shape)
    if name == "dcgan":
        tG = nn.Sequential(nn.Linear(100, 6272), nn.BatchNorm1d(6272), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
                           nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                           nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
        tD = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1),
                           nn.BatchNorm2d(128), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(6272, 1))
    elif name == "dcgan64":  # pytorch/examples dcgan with ngf = ndf = 4, D without the final Sigmoid
        def up(i, o, s, p):
            return [nn.ConvTranspose2d(i, o, 4, s, p, bias=False), nn.BatchNorm2d(o), nn.ReLU()]

        def down(i, o, bn=True):
            return [nn.Conv2d(i, o, 4, 2, 1, bias=False)] + ([nn.BatchNorm2d(o)] if bn else []) + [nn.LeakyReLU(0.2)]
        tG = nn.Sequential(*up(100, 32, 1, 0), *up(32, 16, 2, 1), *up(16, 8, 2, 1), *up(8, 4, 2, 1),
                           nn.ConvTranspose2d(4, 3, 4, 2, 1, bias=False), nn.Tanh())
        tD = nn.Sequential(*down(3, 4, bn=False), *down(4, 8), *down(8, 16), *down(16, 32),
                           nn.Conv2d(32, 1, 4, 1, 0, bias=False))
    elif name == "mlp":
        tG = nn.Sequential(nn.Linear(100, 128), nn.LeakyReLU(0.2), nn.Linear(128, 256), nn.LeakyReLU(0.2),
                           nn.Linear(256, 784), nn.Tanh())
        tD = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 128), nn.LeakyReLU(0.2),
                           nn.Linear(128, 1))
    else:
        w = G.main[0].weight.shape[0]
        tG = nn.Sequential(nn.Linear(2, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(),
                           nn.Linear(w, 2))
        tD = nn.Sequential(nn.Linear(2, w), nn.LeakyReLU(0.2), nn.Linear(w, w), nn.LeakyReLU(0.2),
                           nn.Linear(w, w), nn.LeakyReLU(0.2), nn.Linear(w, 1))
    for ours, theirs in ((G, tG), (D, tD)):
        theirs.load_state_dict({k.split(".", 1)[1]: torch.from_numpy(v) for k, v in ours.state_dict().items()},
                               strict=True)
        ours.eval()
        theirs.eval()
    z = np.random.default_rng(0).standard_normal((3, G.nz), dtype=np.float32)
    with mg.no_grad():
        x = G(mg.tensor(z))
        logits = D(x).numpy()
    with torch.no_grad():
        tz = torch.from_numpy(z).reshape(3, 100, 1, 1) if name == "dcgan64" else torch.from_numpy(z)
        tx = tG(tz)
        t_logits = tD(tx).reshape(3, 1)
    np.testing.assert_allclose(x.numpy().reshape(tx.shape), tx.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(logits, t_logits.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("loss, unit", [("non-saturating", "mean probability"), ("relativistic", "mean logit")])
def test_the_loss_log_also_charts_what_d_scores_in_the_losss_own_unit(tmp_path, monkeypatch, loss, unit):
    trainer = make_trainer("toy", iters=2, loss=loss)
    log = cb.LossLog(str(tmp_path))
    trainer.callbacks = [log]
    drawn, plot = {}, io.plot_losses

    def recording(path, *args, **options):
        drawn[os.path.basename(path)] = options
        return plot(path, *args, **options)

    monkeypatch.setattr(io, "plot_losses", recording)
    trainer.train()
    assert drawn["losses.png"]["title"] == f"toy, {loss} loss"
    assert drawn["scores.png"]["series"] == {"d_real": "D(x)", "d_fake": "D(G(z))"}
    assert drawn["scores.png"]["ylabel"] == unit
    assert os.path.getsize(tmp_path / "scores.png") > 0
