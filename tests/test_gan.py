"""The GAN library: losses on known logits, gradient penalties against hand computations, tricks."""
import numpy as np
import pytest

import minigan as mg
from minigan.gan import losses, regularisers, tricks

REAL = np.array([[0.5], [-1.0], [2.0], [0.0]])
FAKE = np.array([[-0.3], [1.5], [-2.5], [0.7]])


def softplus(x):
    return np.logaddexp(0.0, x)


# Each loss's value written straight from its paper's formula in float64 NumPy.
EXPECTED = {
    "minimax": (softplus(-REAL).mean() + softplus(FAKE).mean(), -softplus(FAKE).mean()),
    "non-saturating": (softplus(-REAL).mean() + softplus(FAKE).mean(), softplus(-FAKE).mean()),
    "wasserstein": (FAKE.mean() - REAL.mean(), -FAKE.mean()),
    "wgan-gp": (FAKE.mean() - REAL.mean(), -FAKE.mean()),
    "hinge": (np.maximum(0, 1 - REAL).mean() + np.maximum(0, 1 + FAKE).mean(), -FAKE.mean()),
    "least-squares": (0.5 * ((REAL - 1) ** 2).mean() + 0.5 * (FAKE ** 2).mean(), 0.5 * ((FAKE - 1) ** 2).mean()),
    # -log sigma(a) = softplus(-a) and -log(1 - sigma(a)) = softplus(a), a being a difference to the other
    # side's mean logit
    "relativistic": (softplus(-(REAL - FAKE.mean())).mean() + softplus(FAKE - REAL.mean()).mean(),
                     softplus(-(FAKE - REAL.mean())).mean() + softplus(REAL - FAKE.mean()).mean()),
    # -log sigma(r_i - f_i): the i-th real against the i-th fake
    "relativistic-pairing": (softplus(FAKE - REAL).mean(), softplus(REAL - FAKE).mean()),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loss_values_on_known_logits(name, device):
    loss = losses.get_loss(name)
    real = mg.tensor(REAL.astype(np.float32), device=device)
    fake = mg.tensor(FAKE.astype(np.float32), device=device)
    d, g = loss.d_loss(real, fake), loss.g_loss(fake, real)
    assert d.dtype == np.float32 and g.dtype == np.float32
    np.testing.assert_allclose(d.item(), EXPECTED[name][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g.item(), EXPECTED[name][1], rtol=1e-5, atol=1e-6)


def test_feature_matching_is_the_squared_distance_of_batch_mean_features(device):
    rng = np.random.default_rng(3)
    real_np, fake_np = rng.standard_normal((5, 7)), rng.standard_normal((5, 7)) + 0.5
    real = mg.tensor(real_np.astype(np.float32), device=device)
    fake = mg.tensor(fake_np.astype(np.float32), device=device, requires_grad=True)
    value = losses.feature_matching(real, fake)
    assert value.dtype == np.float32 and value.shape == ()
    gap = real_np.mean(axis=0) - fake_np.mean(axis=0)
    np.testing.assert_allclose(value.item(), (gap ** 2).mean(), rtol=1e-5)
    value.backward()
    # d/d fake_ij = -2 gap_j / (F N): every fake sample is pulled toward the real mean alike.
    np.testing.assert_allclose(fake.grad.numpy(), np.tile(-2 * gap / (7 * 5), (5, 1)), rtol=1e-4, atol=1e-7)
    assert losses.feature_matching(real, real).item() == 0.0


def test_feature_matching_gradients_of_both_orders_are_numerically_right():
    from gradcheck import check_double_grad, check_grad
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))]
    check_grad(lambda r, f: losses.feature_matching(r, f), arrays)
    check_double_grad(lambda r, f: losses.feature_matching(r, f), arrays)


def reference_mmd(x, y):
    """The squared MMD written out pair by pair in float64, for mmd to agree with."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    d = {key: ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) for key, (a, b) in
         {"xx": (x, x), "yy": (y, y), "xy": (x, y)}.items()}
    distinct = np.concatenate([d["xx"][~np.eye(len(x), dtype=bool)], d["yy"][~np.eye(len(y), dtype=bool)],
                               d["xy"].ravel()])
    m = np.median(distinct)
    k = {key: np.mean([np.exp(-v / (s * m)) for s in (0.25, 1.0, 4.0)], axis=0) for key, v in d.items()}
    return k["xx"].mean() + k["yy"].mean() - 2 * k["xy"].mean()


def test_mmd_agrees_with_a_pairwise_computation(device):
    rng = np.random.default_rng(5)
    real_np = rng.standard_normal((6, 40)).astype(np.float32)
    fake_np = (rng.standard_normal((5, 40)) + 0.4).astype(np.float32)
    real, fake = mg.tensor(real_np, device=device), mg.tensor(fake_np, device=device)
    value = losses.mmd(real, fake)
    assert value.dtype == np.float32 and value.shape == ()
    np.testing.assert_allclose(value.item(), reference_mmd(real_np, fake_np), rtol=1e-4)
    assert abs(losses.mmd(real, real).item()) < 1e-6
    same = mg.tensor(np.ones((3, 2), np.float32), device=device)  # no positive distance: any width gives 0
    assert losses.mmd(same, same).item() == 0.0


def test_mmd_sees_a_wrong_mix_that_feature_matching_misses():
    """Real points at -1 and +1 in equal numbers, fake points all at 0: the means agree, so feature
    matching is 0, but the distributions differ and the MMD says so; a fake batch with the real mix
    scores far lower."""
    real = mg.tensor(np.repeat([[-1.0], [1.0]], 8, axis=0).astype(np.float32))
    collapsed = mg.tensor(np.zeros((16, 1), np.float32))
    mixed = mg.tensor(np.repeat([[-0.9], [0.9]], 8, axis=0).astype(np.float32))
    assert losses.feature_matching(real, collapsed).item() == 0.0
    assert losses.mmd(real, collapsed, bandwidth=1.0).item() > 10 * losses.mmd(real, mixed, bandwidth=1.0).item() > 0


def test_mmd_gradients_of_both_orders_are_numerically_right():
    """With the kernel width given: the default width is a median of the inputs, held constant by
    design, which a numerical derivative would move."""
    from gradcheck import check_double_grad, check_grad
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal((3, 3))]
    check_grad(lambda r, f: losses.mmd(r, f, bandwidth=2.0), arrays)
    check_double_grad(lambda r, f: losses.mmd(r, f, bandwidth=2.0), arrays)


def test_mmd_names_the_argument_and_shape_it_cannot_take():
    with pytest.raises(ValueError, match=r"mmd: fake_features must be \(N, F\) vectors, got shape \(2, 3, 4\)"):
        losses.mmd(mg.tensor(np.zeros((2, 3), np.float32)), mg.tensor(np.zeros((2, 3, 4), np.float32)))


def test_minimax_and_non_saturating_generator_gradients_differ_as_the_paper_says():
    # When D rejects a fake confidently (f << 0) the minimax G gradient vanishes, the NS one does not.
    f = mg.tensor(np.array([[-8.0]]), requires_grad=True)
    (g_mm,) = mg.grad(losses.get_loss("minimax").g_loss(f), f)
    (g_ns,) = mg.grad(losses.get_loss("ns").g_loss(f), f)
    assert abs(g_mm.item()) < 1e-3 < abs(g_ns.item())
    np.testing.assert_allclose(g_mm.item(), -1 / (1 + np.exp(8.0)), rtol=1e-9)
    np.testing.assert_allclose(g_ns.item(), -1 / (1 + np.exp(-8.0)), rtol=1e-9)


def test_relativistic_loss_needs_the_real_logits_and_takes_no_targets():
    loss = losses.get_loss("rasgan")
    assert isinstance(loss, losses.RelativisticAverage) and loss.g_needs_real_logits
    fake = mg.tensor(FAKE.astype(np.float32))
    with pytest.raises(ValueError, match="relativistic loss: .*pass real_logits"):
        loss.g_loss(fake)
    with pytest.raises(ValueError, match="relativistic loss: it has no real/fake targets"):
        loss.d_loss(fake, fake, 0.9)


def test_relativistic_pairing_pairs_one_real_with_one_fake():
    loss = losses.get_loss("rpgan")
    assert isinstance(loss, losses.RelativisticPairing) and loss.g_needs_real_logits
    real, fake = mg.tensor(REAL.astype(np.float32)), mg.tensor(FAKE.astype(np.float32))
    with pytest.raises(ValueError, match="relativistic-pairing loss: .*pass real_logits"):
        loss.g_loss(fake)
    with pytest.raises(ValueError, match=r"relativistic-pairing loss: real_logits \(4, 1\) and fake_logits \(3, 1\)"):
        loss.d_loss(real, fake[:3])
    with pytest.raises(ValueError, match="relativistic-pairing loss: it has no real/fake targets"):
        loss.d_loss(real, fake, 0.9)


@pytest.mark.parametrize("name", ["relativistic", "relativistic-pairing"])
def test_relativistic_losses_have_numerically_right_gradients_of_both_orders(name):
    from gradcheck import check_double_grad, check_grad
    loss = losses.get_loss(name)
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((5, 1)), rng.standard_normal((5, 1))]
    for fn in (lambda r, f: loss.d_loss(r, f), lambda r, f: loss.g_loss(f, r)):
        check_grad(fn, arrays)
        check_double_grad(fn, arrays)


def test_unknown_loss_names_the_choices():
    with pytest.raises(ValueError, match="unknown loss 'foo'.*hinge"):
        losses.get_loss("foo")


def test_aliases_resolve():
    assert isinstance(losses.get_loss("wgan"), losses.Wasserstein)
    assert isinstance(losses.get_loss("lsgan"), losses.LeastSquares)


def test_wasserstein_clips_every_critic_parameter():
    class Critic:
        def __init__(self):
            self.w = mg.tensor(np.array([[0.5, -0.003, -2.0]], dtype=np.float32), requires_grad=True)

        def parameters(self):
            return [self.w]

    critic = Critic()
    losses.Wasserstein(clip=0.01).after_d_step(critic)
    np.testing.assert_array_equal(critic.w.data, np.array([[0.01, -0.003, -0.01]], dtype=np.float32))
    assert critic.w.data.dtype == np.float32


@pytest.mark.parametrize("name", ["wasserstein", "wgan-gp", "hinge"])
def test_critic_losses_refuse_label_tricks(name):
    real = mg.tensor(REAL.astype(np.float32))
    with pytest.raises(ValueError, match="label smoothing"):
        losses.get_loss(name).d_loss(real, real, real_target=0.9)


# -- gradient penalties ----------------------------------------------------------------------------

def linear_critic(w, b):
    return lambda x: x.reshape(x.shape[0], -1) @ w + b


def test_wgan_gp_penalty_on_a_linear_critic_matches_the_hand_computation(device):
    # D(x) = x.w + b has gradient w everywhere, so the penalty is (||w|| - 1)^2 whatever alpha is,
    # and its gradient with respect to w is 2 (||w|| - 1) w / ||w||.
    rng = np.random.default_rng(0)
    w_np = rng.standard_normal((12, 1))
    w = mg.tensor(w_np, device=device, requires_grad=True)
    b = mg.tensor(np.array([0.3]), device=device, requires_grad=True)
    real = mg.tensor(rng.standard_normal((5, 3, 2, 2)), device=device)
    fake = mg.tensor(rng.standard_normal((5, 3, 2, 2)), device=device)
    gp = regularisers.gradient_penalty(linear_critic(w, b), real, fake)
    norm = np.linalg.norm(w_np)
    np.testing.assert_allclose(gp.item(), (norm - 1) ** 2, rtol=1e-9)
    gp.backward()  # double backward: the penalty is a function of the gradient
    np.testing.assert_allclose(w.grad.numpy(), 2 * (norm - 1) * w_np / norm, rtol=1e-9)


def test_wgan_gp_draws_one_uniform_alpha_per_sample():
    # D(x) = |x|^2 / 2 has gradient x, so the penalty reads off where each x_hat landed.
    rng = np.random.default_rng(1)
    real_np, fake_np = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    mg.manual_seed(3)
    alpha = mg.rand(6, 1, dtype=np.float64).numpy()
    mg.manual_seed(3)
    gp = regularisers.gradient_penalty(lambda x: (x * x).sum(axis=1) * 0.5, mg.tensor(real_np), mg.tensor(fake_np))
    x_hat = alpha * real_np + (1 - alpha) * fake_np
    expected = ((np.linalg.norm(x_hat, axis=1) - 1) ** 2).mean()
    np.testing.assert_allclose(gp.item(), expected, rtol=1e-9)


def test_wgan_gp_loss_penalty_is_lambda_times_the_gradient_penalty():
    w = mg.tensor(np.full((4, 1), 2.0), requires_grad=True)
    critic = linear_critic(w, 0.0)
    x = mg.tensor(np.zeros((3, 4)))
    np.testing.assert_allclose(losses.WassersteinGP().penalty(critic, x, x).item(), 10 * (4.0 - 1) ** 2)


def test_r1_penalty_matches_the_hand_computation(device):
    rng = np.random.default_rng(2)
    x_np = rng.standard_normal((5, 3))
    scale = mg.tensor(np.array([1.5]), device=device, requires_grad=True)
    # D(x) = s |x|^2 / 2: grad_x D = s x, so R1 = gamma / 2 * s^2 mean |x|^2 and dR1/ds = gamma s mean |x|^2.
    critic = lambda x: (x * x).sum(axis=1) * 0.5 * scale  # noqa: E731
    r1 = regularisers.r1_penalty(critic, mg.tensor(x_np, device=device), gamma=10.0)
    mean_sq = (x_np ** 2).sum(axis=1).mean()
    np.testing.assert_allclose(r1.item(), 5.0 * 1.5 ** 2 * mean_sq, rtol=1e-9)
    r1.backward()
    np.testing.assert_allclose(scale.grad.item(), 10.0 * 1.5 * mean_sq, rtol=1e-9)


def test_gradient_penalty_rejects_mismatched_batches():
    with pytest.raises(ValueError, match=r"gradient_penalty.*\(2, 3\).*\(3, 3\)"):
        regularisers.gradient_penalty(lambda x: x.sum(axis=1), mg.zeros(2, 3), mg.zeros(3, 3))


# -- label tricks and instance noise ---------------------------------------------------------------

def test_one_sided_label_smoothing_changes_only_the_real_target():
    real, fake = mg.tensor(REAL.astype(np.float32)), mg.tensor(FAKE.astype(np.float32))
    target = tricks.real_targets(real, smoothing=0.1)
    d = losses.get_loss("non-saturating").d_loss(real, fake, real_target=target)
    expected = (0.9 * softplus(-REAL) + 0.1 * softplus(REAL)).mean() + softplus(FAKE).mean()
    np.testing.assert_allclose(d.item(), expected, rtol=1e-5)


def test_label_flip_labels_real_samples_zero_with_probability_p():
    mg.manual_seed(0)
    logits = mg.zeros(20000, 1)
    target = tricks.real_targets(logits, smoothing=0.2, flip=0.25)
    values = target.numpy()
    assert target.dtype == np.float32 and values.shape == (20000, 1)
    assert set(np.unique(values)) == {np.float32(0.0), np.float32(0.8)}
    assert abs((values == 0).mean() - 0.25) < 0.015
    assert np.all(tricks.real_targets(logits, flip=1.0).numpy() == 0)


def test_label_tricks_are_off_by_default():
    assert tricks.real_targets(mg.zeros(3, 1)) == 1.0


def test_instance_noise_anneals_to_zero():
    noise = tricks.InstanceNoise(0.5, anneal_iters=100)
    # iterations count from 1: the first has the full std, the 100th a hundredth of it, the 101st none
    assert noise.std_at(1) == 0.5 and noise.std_at(51) == 0.25 and noise.std_at(100) == pytest.approx(0.005)
    assert noise.std_at(101) == 0.0
    assert tricks.InstanceNoise(0.5, anneal_iters=1).std_at(1) == 0.5
    x = mg.zeros(4000, 2)
    mg.manual_seed(0)
    assert abs(float(noise(x, 51).numpy().std()) - 0.25) < 0.01
    assert noise(x, 200) is x
    assert noise(x, 10).dtype == np.float32


# -- EMA and n_critic ------------------------------------------------------------------------------

def test_ema_follows_the_formula_with_its_warm_up():
    layer = mg.nn.Linear(3, 2)
    ema = tricks.EMA(layer, decay=0.9)
    w0 = layer.weight.data.copy()
    layer.weight.data[...] = w0 + 1
    ema.update()  # first update: decay min(0.9, 2 / 11)
    d1 = np.float32(2 / 11)
    expected = d1 * w0 + (1 - d1) * (w0 + 1)
    np.testing.assert_allclose(ema.shadow["weight"], expected, rtol=1e-6)
    for _ in range(200):
        ema.update()  # now 0.9: the shadow converges to the constant weight
    np.testing.assert_allclose(ema.shadow["weight"], w0 + 1, rtol=1e-5)
    assert ema.shadow["weight"].dtype == np.float32
    state = ema.state_dict()
    assert sorted(state) == ["bias", "weight"]
    copy = mg.nn.Linear(3, 2)
    copy.load_state_dict(state)
    np.testing.assert_array_equal(copy.weight.data, ema.shadow["weight"])


def test_ema_state_round_trips_and_checks_shapes():
    layer = mg.nn.Linear(3, 2)
    ema = tricks.EMA(layer, decay=0.5)
    other = tricks.EMA(mg.nn.Linear(3, 2), decay=0.5)
    other.load_state_dict(ema.state_dict())
    np.testing.assert_array_equal(other.shadow["weight"], ema.shadow["weight"])
    with pytest.raises(ValueError, match="'weight' has shape"):
        tricks.EMA(mg.nn.Linear(4, 2)).load_state_dict(ema.state_dict())
    with pytest.raises(ValueError, match="decay"):
        tricks.EMA(layer, decay=1.0)


# -- how D sees real and fake: separate batches or one joint batch --------------------------------

def _pair_trainer(model, d_batch, data_shape, num_classes=None, n=8, iters=3, **settings):
    from minigan.data import Dataset
    from minigan.gan import run
    from minigan.gan.trainer import TrainConfig

    rng = np.random.default_rng(0)
    data = rng.uniform(-1, 1, (n,) + data_shape).astype(np.float32)
    labels = (np.arange(n) % num_classes) if num_classes else None
    meta = {"name": "tiny", "kind": "images", "shape": data_shape, "num_classes": num_classes}
    cfg = TrainConfig(model=model, dataset="tiny", iters=iters, batch_size=4, d_batch=d_batch, **settings).resolved()
    return run.build(cfg, Dataset(data, labels, meta))


@pytest.mark.parametrize("model, classes", [("dcgan", None), ("cdcgan", 3)])
def test_a_joint_batch_normalises_real_and_fake_together(model, classes):
    """DCGAN-28's D has batch norm: with a joint batch the fake logits depend on the real batch they
    share statistics with, with separate batches they do not."""
    rng = np.random.default_rng(1)
    fake = mg.tensor(rng.uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32))
    reals = [mg.tensor(rng.uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32)) for _ in range(2)]
    labels = np.array([0, 1, 2, 0]) if classes else None
    fakes_seen = {}
    for d_batch in ("separate", "joint"):
        trainer = _pair_trainer(model, d_batch, (1, 28, 28), classes)
        fakes_seen[d_batch] = [trainer.discriminate_pair(real, fake, labels)[1].numpy() for real in reals]
        real_logits, _ = trainer.discriminate_pair(reals[0], fake, labels)
        assert real_logits.shape == (4, 1)
    np.testing.assert_array_equal(*fakes_seen["separate"])
    assert np.abs(fakes_seen["joint"][0] - fakes_seen["joint"][1]).max() > 1e-3


@pytest.mark.parametrize("model, shape, classes", [("dcgan", (1, 28, 28), None), ("cdcgan", (1, 28, 28), 3),
                                                   ("dcgan64", (3, 64, 64), None)])
def test_forward_joint_is_d_of_the_concatenated_batch(model, shape, classes):
    """forward_joint runs the layers below the first batch norm on each half apart: the logits and
    every gradient are D(concat([real, fake]))'s, and a real half that needs no gradient (the G step)
    leaves no graph below the batch norm."""
    from minigan.gan.models import build_models
    mg.manual_seed(0)
    _, D = build_models(model, shape, classes)
    rng = np.random.default_rng(2)
    real_np, fake_np = (rng.uniform(-1, 1, (3,) + shape) for _ in range(2))
    labels = np.array([0, 2, 1]) if classes else None
    extra = () if classes is None else (labels,)
    D.to(dtype=np.float64)
    results = {}
    for way in ("concat", "joint"):
        D.zero_grad()
        real, fake = mg.tensor(real_np), mg.tensor(fake_np, requires_grad=True)
        if way == "joint":
            logits = D.forward_joint(real, fake, *extra)
        else:
            both = () if classes is None else (np.concatenate([labels, labels]),)
            logits = D(mg.functional.concat([real, fake], axis=0), *both)
        (logits * mg.tensor(np.arange(6.0).reshape(6, 1))).sum().backward()
        results[way] = [logits.numpy(), fake.grad.numpy()] + [p.grad.numpy() for p in D.parameters()]
    for a, b in zip(results["concat"], results["joint"]):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)

    D.requires_grad_(False)
    logits = D.forward_joint(mg.tensor(real_np), mg.tensor(fake_np, requires_grad=True), *extra)
    seen, stack, conv_batches = set(), [logits.creator], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if type(node).__name__ == "Conv2d":
            conv_batches.append(node.inputs[0].shape[0])
        stack.extend(t.creator for t in node.inputs)
    # Below the first batch norm (two convolutions in each model) only the fake half is in the graph.
    assert sorted(conv_batches) == [3, 3] + ([6, 6, 6] if model == "dcgan64" else [])


@pytest.mark.parametrize("model, shape, classes", [("mlp", (1, 8, 8), None), ("cgan", (1, 8, 8), 3),
                                                   ("dcgan", (1, 28, 28), None), ("cdcgan", (1, 28, 28), 3),
                                                   ("dcgan64", (3, 64, 64), None), ("toy", (2,), None)])
def test_discriminators_return_the_input_of_their_last_layer_as_features(model, shape, classes):
    """``features=True`` adds h (N, F), the input of D's last layer: the logits are that layer of h,
    and are the logits D gives without the flag; forward_joint's features are the joint batch's."""
    from minigan.gan.models import build_models
    mg.manual_seed(0)
    _, D = build_models(model, shape, classes)
    rng = np.random.default_rng(5)
    real, fake = (mg.tensor(rng.uniform(-1, 1, (3,) + shape).astype(np.float32)) for _ in range(2))
    extra = () if classes is None else (np.array([0, 2, 1]),)
    logits, h = D(real, *extra, features=True)
    assert logits.shape == (3, 1) and h.ndim == 2 and h.shape[0] == 3
    np.testing.assert_array_equal(logits.numpy(), D(real, *extra).numpy())
    head = D.main[-1]
    width = int(np.prod(head.weight.shape[1:]))
    assert h.shape[1] == width
    np.testing.assert_allclose(h.numpy() @ head.weight.numpy().reshape(1, width).T
                               + (0 if head.bias is None else head.bias.numpy()), logits.numpy(),
                               rtol=1e-4, atol=1e-5)
    if hasattr(D, "forward_joint"):
        joint, joint_h = D.forward_joint(real, fake, *extra, features=True)
        np.testing.assert_array_equal(joint.numpy(), D.forward_joint(real, fake, *extra).numpy())
        assert joint.shape == (6, 1) and joint_h.shape == (6, width)


def test_without_batch_norm_a_joint_batch_trains_like_separate_ones():
    """The MLP GAN's D has no batch norm, so both ways give D and G the same losses and updates (up to
    rounding: the products run on batches of another size). This checks that the joint G step scores
    the fake half, and the D step splits real from fake the right way round. SGD, because Adam's first
    steps are nearly lr * sign(gradient), which turns rounding in a near-zero gradient into a full step."""
    trainers, logs = {}, {}
    for d_batch in ("separate", "joint"):  # build then train, each in turn: both draw from the global generator
        trainers[d_batch] = _pair_trainer("mlp", d_batch, (1, 8, 8), optimizer="sgd", lr=0.1)
        logs[d_batch] = trainers[d_batch].train()
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert logs["joint"][key] == pytest.approx(logs["separate"][key], rel=1e-4)
    for module in ("G", "D"):
        a = getattr(trainers["separate"], module).state_dict()
        b = getattr(trainers["joint"], module).state_dict()
        for key in a:
            np.testing.assert_allclose(b[key], a[key], rtol=1e-4, atol=1e-6, err_msg=f"{module}.{key}")


def test_n_critic_takes_that_many_discriminator_steps_per_generator_step():
    from minigan.data import Dataset
    from minigan.gan import run
    from minigan.gan.trainer import TrainConfig

    points = np.random.default_rng(0).standard_normal((64, 2), dtype=np.float32)
    meta = {"name": "points", "kind": "points", "shape": (2,), "num_classes": None}
    cfg = TrainConfig(model="toy", dataset="points", iters=2, batch_size=4, n_critic=3).resolved()
    trainer = run.build(cfg, Dataset(points, None, meta))
    steps = {"d": 0, "g": 0, "z": 0}
    for name, opt in (("d", trainer.opt_d), ("g", trainer.opt_g)):
        def counted(original=opt.step, name=name):
            steps[name] += 1
            original()
        opt.step = counted

    def noise(n, original=trainer.noise):
        steps["z"] += 1
        return original(n)
    trainer.noise = noise
    trainer.train()
    # a fresh z for each D step and for the G step, as in the WGAN papers' Algorithm 1
    assert steps == {"d": 6, "g": 2, "z": 8}
    assert trainer.loader.state_dict()["position"] == 6 * 4  # one fresh real batch per critic step
