"""Smoke tests of the benchmark harness (benchmarks/): tiny sizes, and no assertion on speed.

They check that a run covers every implementation in the kernel registry, writes its JSON and
markdown, measures memory in a fresh process, finds the GEMMs of a W2 iteration, and that the minigan
and PyTorch versions of a workload are the same computation.
"""
import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import interpolation, main, timing, workloads  # noqa: E402
import minigan as mg  # noqa: E402
import minigan.functional as F  # noqa: E402
from minigan import kernels  # noqa: E402


def _latest(out):
    with open(os.path.join(out, "latest.json")) as f:
        return json.load(f)


def test_kernel_run_times_every_registered_implementation(tmp_path):
    assert main(["--quick", "--kernels-only", "--no-torch", "--out", str(tmp_path)]) == 0
    result = _latest(tmp_path)
    timed = {(r["group"], r["impl"]) for r in result["kernels"]}
    for primitive, _, name in kernels.implementations(device="cpu"):
        assert (primitive, name) in timed, (primitive, name)
    assert all(r["median_s"] > 0 and r["repeats"] == 2 for r in result["kernels"])
    ops = {r["group"] for r in result["kernels"]}
    assert {"conv2d forward+backward", "conv_transpose2d forward", "F.batch_norm forward+backward"} <= ops
    assert result["machine"]["numpy"] == np.__version__
    text = (tmp_path / "latest.md").read_text()
    assert "## Kernels" in text and "## Workloads" not in text
    assert len(list(tmp_path.glob("*.json"))) == 2  # timestamped and latest


def test_workload_run_reports_times_memory_and_gemm_share(tmp_path):
    argv = ["--quick", "--no-kernels", "--workloads", "w2", "--batch", "4", "--no-torch", "--out", str(tmp_path)]
    assert main(argv) == 0
    result = _latest(tmp_path)
    [row] = result["workloads"]
    assert row["workload"] == "W2" and row["batch"] == 4 and row["minigan"]["median_s"] > 0 and "torch" not in row
    [memory] = result["memory"]
    assert (memory["workload"], memory["framework"], memory["batch"]) == ("W2", "minigan", 4)
    assert 0 < memory["baseline_mb"] <= memory["peak_mb"]
    profile = result["profile"]
    assert profile["workload"] == "W2"
    # conv2d, its weight gradient and conv_transpose2d each hold a GEMM line, and so does Linear
    lines = profile["gemm"]["gemm_by_line"]
    assert any("conv.py" in where for where in lines) and any("linear.py" in where for where in lines)
    assert 0 < profile["gemm"]["gemm_share"] < 1 and profile["cprofile"]["top"]
    assert "GEMM" in (tmp_path / "latest.md").read_text()


def test_unknown_workload_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--workloads", "W9", "--out", str(tmp_path)])
    assert "W9" in capsys.readouterr().err


@pytest.mark.skipif("__import__('minigan').cuda.is_available()", reason="checks the error without a GPU")
def test_device_cuda_without_a_gpu_says_why(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--quick", "--device", "cuda", "--out", str(tmp_path)])
    assert "--device cuda:" in capsys.readouterr().err


@pytest.mark.gpu
@pytest.mark.skipif("not __import__('minigan').cuda.is_available()", reason="no CUDA GPU here")
def test_a_cuda_run_times_every_cuda_implementation_and_both_frameworks(tmp_path):
    torch = pytest.importorskip("torch")
    assert main(["--quick", "--device", "cuda", "--workloads", "w1,w2", "--batch", "4", "--out", str(tmp_path)]) == 0
    result = _latest(tmp_path)
    timed = {(r["group"], r["impl"]) for r in result["kernels"]}
    for primitive, _, name in kernels.implementations(device="cuda"):
        assert (primitive, name) in timed, (primitive, name)
    assert all(r["median_s"] > 0 for r in result["kernels"])
    assert [row["workload"] for row in result["workloads"]] == ["W1", "W2"]
    if torch.cuda.is_available():
        assert all(row["torch"]["median_s"] > 0 for row in result["workloads"])
    assert result["machine"]["device"] == "cuda" and result["machine"]["gpus"]
    assert "memory" not in result and "profile" not in result  # they measure the CPU
    assert "Workloads on cuda" in (tmp_path / "latest.md").read_text()


def test_interleaved_runs_blocks_in_alternating_order():
    calls = []
    candidates = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    result = timing.interleaved(candidates, repeats=4, rounds=2, block=3, pause=0)
    # each round: per candidate one untimed call, then 2 samples of 3 calls; the second round reversed
    assert calls == ["a"] * 7 + ["b"] * 7 + ["b"] * 7 + ["a"] * 7
    assert result["a"]["repeats"] == result["b"]["repeats"] == 4
    assert result["a"]["min_s"] <= result["a"]["median_s"] <= result["a"]["max_s"]


@pytest.mark.parametrize("name", ["W1", "W2", "W2R1", "W3"])
def test_minigan_and_torch_run_the_same_workload(name):
    """Same layers, same weights, same real batch: the first D loss agrees, and so do the parameter
    counts. (The noise comes from each framework's own generator, so the losses differ slightly.)"""
    torch = pytest.importorskip("torch")
    mine, theirs = workloads.make(name, "minigan", 2), workloads.make(name, "torch", 2)
    assert [tuple(p.shape) for p in mine.D.parameters()] == [tuple(p.shape) for p in theirs.D.parameters()]
    assert [tuple(p.shape) for p in mine.G.parameters()] == [tuple(p.shape) for p in theirs.G.parameters()]
    # D on the real batch alone is deterministic: compare it exactly across frameworks
    with torch.no_grad():
        expected = theirs.D(theirs.real).numpy()
    np.testing.assert_allclose(mine.D(mine.real).numpy(), expected, rtol=1e-4, atol=1e-5)
    loss_d, loss_g = mine.step()
    assert np.isfinite(loss_d.item()) and np.isfinite(loss_g.item())


def test_mode_collapse_draws_both_settings_side_by_side(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    from benchmarks import mode_collapse
    mode_collapse.main(["--iters", "3", "--seeds", "0", "--out", str(tmp_path)])
    text = (tmp_path / "ring8.md").read_text()
    assert "| 0 | plain | " in text and "| 0 | fix | " in text
    assert "--loss non-saturating --r1 0 --ema 0" in text and "--iters 3 --seeds 0" in text
    with Image.open(tmp_path / "ring8.png") as picture:  # two scatter panels under their headers
        assert picture.width == 2 * mode_collapse.PANEL + 12 and picture.height > mode_collapse.PANEL
    with Image.open(tmp_path / "ring8-plain-over-time.png") as picture:  # 3 iterations: the final picture alone
        assert picture.width == mode_collapse.SNAPSHOT


def test_joint_batch_times_the_three_ways_d_can_see_a_batch(capsys):
    from benchmarks import joint_batch
    assert joint_batch.main(["--rounds", "2", "--block", "1", "--batch", "4", "--threads", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "ms" not in line]
    assert [row.split(" | ")[0] for row in rows] == [
        "| separate", "| joint, concatenated at D's input", "| joint, forward_joint (default)"]
    assert rows[-1].endswith("| 1.00x |")


def test_joint_batch_also_times_gs_extra_terms_when_asked(capsys):
    from benchmarks import joint_batch
    assert joint_batch.main(["--rounds", "2", "--block", "1", "--batch", "4", "--threads", "1", "--g-terms"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "ms" not in line]
    assert [row.split(" | ")[0] for row in rows][-2:] == ["| default + feature matching 100", "| default + MMD 100"]
    made = joint_batch.trainers(4, g_terms=True)
    assert made["default + MMD 100"].config.mmd == 100.0 and made["default + MMD 100"].config.d_batch == "joint"


def test_joint_batch_times_the_non_saturating_loss_unless_told(capsys):
    from benchmarks import joint_batch
    assert {t.config.loss for t in joint_batch.trainers(4).values()} == {"non-saturating"}
    assert {t.config.loss for t in joint_batch.trainers(4, loss="rasgan").values()} == {"relativistic"}
    assert joint_batch.main(["--rounds", "1", "--block", "1", "--batch", "4", "--threads", "1", "--loss", "rasgan"]) == 0
    assert "DCGAN-28 with the relativistic loss on cpu" in capsys.readouterr().out


def test_joint_batch_also_times_the_reference_kernels_when_asked(capsys):
    from benchmarks import joint_batch
    from minigan import kernels
    from minigan.kernels import reference
    assert joint_batch.main(["--rounds", "2", "--block", "1", "--batch", "4", "--threads", "1",
                             "--reference-kernels"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "ms" not in line]
    assert rows[-1].startswith("| default, NumPy reference kernels | ")
    chosen = kernels.get("leaky_relu")
    seen = []
    joint_batch.pinned_to_reference(lambda: seen.extend(kernels.get(p) for p in ("im2col", "leaky_relu")))()
    assert seen == [reference.im2col, reference.leaky_relu]
    assert kernels.get("leaky_relu") is chosen  # unpinned afterwards


def test_concat_at_input_hides_forward_joint_but_gives_the_same_logits():
    from benchmarks import joint_batch
    made = joint_batch.trainers(4)
    plain, default = made["joint, concatenated at D's input"], made["joint, forward_joint (default)"]
    assert not hasattr(plain.D, "forward_joint") and hasattr(default.D, "forward_joint")
    real, _ = default.next_batch()
    fake = default.generate(default.noise(4))
    for a, b in zip(plain.discriminate_pair(real, fake), default.discriminate_pair(real, fake)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_mnist_quality_reports_the_command_that_reproduces_it():
    import argparse
    from benchmarks import mnist_quality
    default = argparse.Namespace(seeds=[0, 1], iters=None, no_torch=False, device="cpu", loss=None, r1=None,
                                 r1_batch=None, ema=None, output=mnist_quality.DEFAULT_OUTPUT)
    assert mnist_quality.reproduce(default) == "python -m benchmarks.mnist_quality --seeds 0 1"
    other = argparse.Namespace(seeds=[2, 5], iters=300, no_torch=True, device="cuda", loss="relativistic",
                               r1=None, r1_batch=None, ema=None, output="out dir/q.md")
    assert mnist_quality.reproduce(other) == ("python -m benchmarks.mnist_quality --seeds 2 5 --iters 300 "
                                              "--loss relativistic --no-torch --device cuda --output 'out dir/q.md'")
    with_r1 = argparse.Namespace(seeds=[0], iters=2000, no_torch=False, device="cpu", loss=None, r1=10.0,
                                 r1_batch=None, ema=None, output=mnist_quality.DEFAULT_OUTPUT)
    assert mnist_quality.reproduce(with_r1) == "python -m benchmarks.mnist_quality --seeds 0 --iters 2000 --r1 10"
    # --r1 0 switches a default penalty off, so it is passed on; --r1-batch follows it
    without_r1 = argparse.Namespace(seeds=[0], iters=None, no_torch=False, device="cpu", loss=None, r1=0.0,
                                    r1_batch=None, ema=None, output=mnist_quality.DEFAULT_OUTPUT)
    assert mnist_quality.reproduce(without_r1) == "python -m benchmarks.mnist_quality --seeds 0 --r1 0"
    subset = argparse.Namespace(seeds=[0], iters=None, no_torch=False, device="cpu", loss=None, r1=10.0,
                                r1_batch=32, ema=None, output=mnist_quality.DEFAULT_OUTPUT)
    assert mnist_quality.reproduce(subset) == "python -m benchmarks.mnist_quality --seeds 0 --r1 10 --r1-batch 32"
    older = argparse.Namespace(seeds=[0], iters=1000, no_torch=False, device="cpu", loss=None, r1=0.0,
                               r1_batch=None, ema=0.999, output=mnist_quality.DEFAULT_OUTPUT)
    assert mnist_quality.reproduce(older) == ("python -m benchmarks.mnist_quality --seeds 0 --iters 1000 --r1 0 "
                                              "--ema 0.999")


def test_trainer_step_times_each_recipe_in_turn(monkeypatch):
    """benchmarks.trainer_step: one Trainer per recipe (parsed as `minigan train` flags), each stepped one
    iteration per call through benchmarks.timing.interleaved (an untimed call per block, then samples)."""
    from benchmarks import trainer_step
    trainers, build = [], trainer_step.build_trainer
    monkeypatch.setattr(trainer_step, "build_trainer", lambda r: trainers.append(build(r)) or trainers[-1])
    monkeypatch.setattr(trainer_step, "interleaved",
                        lambda candidates, **kw: timing.interleaved(candidates, pause=0, **kw))
    recipes = ["--batch-size 4", "--batch-size 4 --r1 0"]
    result = trainer_step.time_recipes(recipes, repeats=2, rounds=2)
    assert list(result) == recipes and all(r["repeats"] == 2 and r["median_s"] > 0 for r in result.values())
    assert [t.config.r1 for t in trainers] == [10.0, 0.0]
    assert [t.iteration for t in trainers] == [4, 4]  # two rounds of an untimed and a timed iteration


def test_pytorchs_r1_penalty_is_minigans():
    """The PyTorch run of a recipe with --r1 adds the same penalty as minigan: value, and its gradient
    with respect to the critic's weights (a double backward in both)."""
    torch = pytest.importorskip("torch")
    from benchmarks.mnist_quality import torch_r1
    from minigan.gan.regularisers import r1_penalty
    rng = np.random.default_rng(3)
    real, w = rng.standard_normal((5, 1, 4, 4)), rng.standard_normal((16, 3))
    w_t, w_m = torch.tensor(w, requires_grad=True), mg.tensor(w, requires_grad=True)
    value_t = torch_r1(torch, lambda x: torch.tanh(x.flatten(1) @ w_t).pow(2).sum(1), torch.tensor(real), 10)
    value_m = r1_penalty(lambda x: ((x.reshape(5, 16) @ w_m).tanh() ** 2).sum(axis=1), mg.tensor(real), 10)
    value_t.backward()
    value_m.backward()
    np.testing.assert_allclose(value_t.item(), value_m.item(), rtol=1e-12)
    np.testing.assert_allclose(w_t.grad.numpy(), w_m.grad.numpy(), rtol=1e-10)


def test_pytorchs_layer_normalised_d_is_minigans():
    """--d-norm layer in the PyTorch loop: W2's D with GroupNorm(1, 128) for its batch norm computes what
    minigan's DCGAN-28 discriminator with norm="layer" does, given the same weights."""
    torch = pytest.importorskip("torch")
    from benchmarks.mnist_quality import layer_normalised
    from minigan.gan.models import DCGAN28Discriminator
    mg.manual_seed(4)
    mine = DCGAN28Discriminator(norm="layer")
    theirs = layer_normalised(torch, workloads.build(torch.nn, workloads.w2().discriminator))
    assert sum(isinstance(m, torch.nn.GroupNorm) for m in theirs) == 1
    with torch.no_grad():
        for p, q in zip(theirs.parameters(), mine.parameters(), strict=True):
            p.copy_(torch.from_numpy(q.numpy()))
    x = np.random.default_rng(4).uniform(-1, 1, (6, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), mine(mg.tensor(x)).numpy(),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("loss", ["non-saturating", "relativistic", "rpgan"])
def test_mnist_quality_torch_losses_equal_minigans(loss):
    """The PyTorch loop's losses are minigan's, value for value, on the same logits."""
    torch = pytest.importorskip("torch")
    from benchmarks import mnist_quality
    from minigan.gan.losses import get_loss
    rng = np.random.default_rng(5)
    r, f = rng.standard_normal((6, 1)), rng.standard_normal((6, 1)) - 1
    d_of, g_of = mnist_quality.torch_losses(torch, loss)
    ours = get_loss(loss)
    rt, ft, rm, fm = torch.tensor(r), torch.tensor(f), mg.tensor(r), mg.tensor(f)
    np.testing.assert_allclose(d_of(rt, ft).item(), ours.d_loss(rm, fm).item(), rtol=1e-12)
    np.testing.assert_allclose(g_of(ft, rt).item(), ours.g_loss(fm, rm).item(), rtol=1e-12)


def test_mnist_quality_report_does_not_round_a_miss_up_to_the_target():
    from benchmarks import mnist_quality
    row = {"framework": "minigan", "seed": 6, "iters": 1000, "min_class_share": 0.0496, "kl_uniform": 0.053,
           "frechet_distance": 111.9, "frechet_floor_real_vs_real": 2.5, "confident_share": 0.336,
           "confident_share_real": 0.928, "seconds": 285.0, "config": {"d_batch": "joint", "ema": 0.999},
           "class_share": [0.071, 0.079, 0.1702, 0.0786, 0.1268, 0.0496, 0.106, 0.1184, 0.0844, 0.116]}
    text = mnist_quality.report([row], "python -m benchmarks.mnist_quality --seeds 6")
    assert "| minigan | 6 | 1000 | 4.96% | 0.053 | 111.9 | 2.50 | 33.6% | 285 |" in text
    assert "(92.8% of held-out real digits)" in text
    assert "| minigan | 6 | 7.1% | 7.9% | 17.0% | 7.9% | 12.7% | 5.0% | 10.6% | 11.8% | 8.4% | 11.6% |" in text
    assert "mean of" not in text  # one run has no average over seeds


def test_mnist_quality_averages_each_digit_over_the_seeds():
    from benchmarks import mnist_quality
    def run(seed, share):
        return {"framework": "minigan", "seed": seed, "iters": 1000, "min_class_share": min(share),
                "kl_uniform": 0.05, "frechet_distance": 110.0, "frechet_floor_real_vs_real": 2.5,
                "confident_share": 0.34, "confident_share_real": 0.928, "seconds": 290.0, "class_share": share}
    # Digit 1 is short on the first seed and digit 5 on the second; averaged, 5 is the rarer (6.5%).
    a = [0.1, 0.04, 0.14, 0.1, 0.1, 0.09, 0.1, 0.11, 0.11, 0.11]
    b = [0.1, 0.12, 0.14, 0.1, 0.1, 0.04, 0.1, 0.1, 0.1, 0.1]
    text = mnist_quality.report([run(0, a), run(1, b)], "python -m benchmarks.mnist_quality --seeds 0 1 --no-torch")
    assert ("| minigan | mean of 2 | 10.0% | 8.0% | 14.0% | 10.0% | 10.0% | **6.50%** | 10.0% | 10.5% | 10.5% "
            "| 10.5% |") in text


def test_pytorchs_mmd_is_minigans():
    """The PyTorch run of a recipe with --mmd adds the same term as minigan, value and gradient."""
    torch = pytest.importorskip("torch")
    import minigan as mg
    from benchmarks.mnist_quality import torch_mmd
    from minigan.gan import losses
    rng = np.random.default_rng(7)
    real = rng.standard_normal((6, 20)).astype(np.float32)
    fake = (rng.standard_normal((5, 20)) + 0.3).astype(np.float32)
    fake_t, fake_m = torch.tensor(fake, requires_grad=True), mg.tensor(fake, requires_grad=True)
    value_t, value_m = torch_mmd(torch.tensor(real), fake_t), losses.mmd(mg.tensor(real), fake_m)
    value_t.backward()
    value_m.backward()
    np.testing.assert_allclose(value_t.item(), value_m.item(), rtol=1e-5)
    np.testing.assert_allclose(fake_t.grad.numpy(), fake_m.grad.numpy(), rtol=1e-4, atol=1e-7)


def test_classified_samples_are_the_ones_the_classifier_assigns_to_the_digit():
    from benchmarks import classified_samples
    from minigan.data.datasets import images_to_data_space
    from minigan.data.embedded import load_mnist_embedded
    images, labels = load_mnist_embedded()
    pick = np.concatenate([np.flatnonzero(labels == 2)[:40], np.flatnonzero(labels == 7)[:40]])
    digits = images_to_data_space(images[pick])
    chosen, called = classified_samples.classified(digits, 2)
    assert len(chosen) == called and 35 <= called <= 45  # the classifier reads 97% of real digits right
    assert (chosen < 40).mean() > 0.9
    sure, called_again = classified_samples.classified(digits, 2, min_prob=0.99)
    assert called_again == called and set(sure) <= set(chosen)
    from minigan.metrics.classifier import class_probabilities
    probs = class_probabilities(np.array([[0.0, np.log(3.0)]]))
    np.testing.assert_allclose(probs, [[0.25, 0.75]])


def test_classified_samples_draws_a_grid_from_an_mnist_run_and_refuses_other_runs(tmp_path, capsys):
    from benchmarks import classified_samples
    from minigan import cli
    mnist, toy = tmp_path / "dcgan", tmp_path / "toy"
    assert cli.main(["train", "--iters", "1", "--batch-size", "8", "--out", str(mnist)]) == 0
    assert cli.main(["train", "--model", "toy", "--iters", "1", "--batch-size", "8", "--out", str(toy)]) == 0
    capsys.readouterr()
    png = tmp_path / "grid.png"
    codes = [classified_samples.main([str(mnist), "--digit", str(d), "-n", "50", "-o", str(png)]) for d in range(10)]
    assert 0 in codes and set(codes) <= {0, 1}  # a digit nothing was assigned to has nothing to draw
    assert png.stat().st_size > 0
    real = tmp_path / "real.png"
    assert classified_samples.main([str(mnist), "--digit", str(codes.index(0)), "-n", "50", "-o", str(png),
                                    "--real", str(real)]) == 0
    assert real.stat().st_size > 0
    assert "samples classified as" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        classified_samples.main([str(toy), "--digit", "2", "-o", str(png)])
    assert "the classifier reads 28x28 MNIST digits only" in capsys.readouterr().err


def test_mnist_quality_pictures_show_the_first_samples_that_scoring_draws():
    from benchmarks import mnist_quality
    from minigan.gan.evaluation import draw
    np.testing.assert_array_equal(mnist_quality.scored_noise(3), draw(lambda z, labels: z, 100, 500, 3)[:64])


@pytest.mark.parametrize("name, shape, kwargs", [(n, (2, 2) + s[2:], k) for n, s, k in interpolation.CASES])
def test_interpolation_benchmark_gathers_what_interpolate_computes(name, shape, kwargs):
    x = mg.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    np.testing.assert_allclose(interpolation.gather_resize(x, kwargs).numpy(), F.interpolate(x, **kwargs).numpy(),
                               rtol=1e-5, atol=1e-5, err_msg=name)


def test_interpolation_benchmark_runs(capsys):
    assert interpolation.main(["--quick", "--threads", "1", "--no-torch"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "case" not in line]
    assert len(rows) == len(interpolation.CASES) and all("(1.00x)" in row for row in rows)


def test_learning_curve_rows_are_what_the_command_reports_when_stopped_there(tmp_path, capsys):
    """benchmarks.learning_curve scores a run on its way without changing its path: the row at
    iteration 3 is the metrics.json of a 3-iteration `minigan train`, the last row that of a 6-iteration one."""
    from benchmarks import learning_curve
    from minigan import cli
    recipe = ["--model", "toy", "--dataset", "ring8", "--batch-size", "8", "--seed", "3"]
    reported = {}
    for iters in (3, 6):
        out = tmp_path / f"run{iters}"
        assert cli.main(["train", *recipe, "--iters", str(iters), "--out", str(out)]) == 0
        with open(out / "metrics.json") as f:
            reported[iters] = json.load(f)
    rows = learning_curve.curve(" ".join(recipe + ["--iters", "6"]), every=3)
    assert [r[0] for r in rows] == [3, 6]
    for iteration, seconds, metrics in rows:
        assert seconds > 0
        assert metrics == {k: v for k, v in reported[iteration].items() if k != "iteration"}
    learning_curve.main([" ".join(recipe + ["--iters", "4"]), "--every", "3"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-4:-2] == ["| iteration | training | modes | high quality |", "|---|---|---|---|"]
    assert lines[-2].startswith("| 3 | ") and lines[-1].startswith("| 4 | ") and " of 8 | " in lines[-1]
