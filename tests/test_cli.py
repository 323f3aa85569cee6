"""The ``minigan`` command: train, sample, eval and info on tiny settings, and one clear line (exit
status 2) for every kind of bad input, with nothing already in a run folder lost."""
import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from minigan import cli, io

TOY = ["train", "--model", "toy", "--dataset", "ring8", "--iters", "4", "--batch-size", "8", "--sample-every", "2",
       "--checkpoint-every", "2"]


def run_cli(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def snapshot(folder):
    """Every file under ``folder`` with a hash of its bytes."""
    result = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                result[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return result


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "toy"
    assert cli.main(TOY + ["--out", str(out), "--ema", "0.9"]) == 0
    return out


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "cgan"
    assert cli.main(["train", "--model", "cgan", "--iters", "2", "--batch-size", "8", "--out", str(out)]) == 0
    return out


def test_train_writes_a_complete_run_folder(toy_run):
    names = set(os.listdir(toy_run))
    assert {"config.json", "checkpoint.npz", "losses.csv", "losses.png", "scores.png", "samples.png", "progress.gif",
            "metrics.json", "samples"} <= names
    assert sorted(os.listdir(toy_run / "samples")) == ["iter_0000002.png", "iter_0000004.png"]
    config = json.loads((toy_run / "config.json").read_text())
    assert config["iters"] == 4 and config["batch_size"] == 8 and config["seed"] == 0
    assert config["model"] == "toy" and config["loss"] == "non-saturating" and config["ema"] == 0.9
    log = io.read_csv_log(str(toy_run / "losses.csv"))
    assert list(log["iteration"]) == [1, 2, 3, 4]
    metrics = json.loads((toy_run / "metrics.json").read_text())
    assert metrics["num_modes"] == 8 and metrics["num_samples"] == 2500 and metrics["iteration"] == 4
    _, meta = io.load_checkpoint(str(toy_run / "checkpoint.npz"))
    assert meta["iteration"] == 4


def test_config_json_keys_are_the_train_flags_resolved(toy_run):
    config = json.loads((toy_run / "config.json").read_text())
    train = next(a for a in cli._parser()._subparsers._group_actions[0].choices.values() if a.prog.endswith("train"))
    flags = {a.dest for a in train._actions} - {"help", "resume"}
    assert set(config) == flags
    assert config["nz"] == 2 and config["lr_g"] == config["lr_d"] == config["lr"]  # what was used, not null


def test_train_prints_where_the_pictures_are(tmp_path, capsys):
    status, out, _ = run_cli(capsys, *TOY, "--out", tmp_path / "r")
    assert status == 0
    assert os.path.join(str(tmp_path / "r"), "samples.png") in out


@pytest.mark.parametrize("errors", [{}, {"numba_cpu": "ModuleNotFoundError: No module named 'numba'"}])
def test_train_says_when_it_falls_back_to_the_reference_kernels(tmp_path, capsys, monkeypatch, errors):
    from minigan import kernels
    monkeypatch.setattr(kernels, "load_errors", lambda: errors)
    status, out, _ = run_cli(capsys, *TOY, "--out", tmp_path / "r")
    assert status == 0
    notes = [line for line in out.splitlines() if "reference kernels" in line]
    if errors:
        assert notes == ["minigan: note: the Numba CPU kernels did not load (ModuleNotFoundError: No module "
                         "named 'numba'), so this run uses the NumPy reference kernels and takes about 1.5x "
                         "as long; pip install numba (part of 'minigan[cli]')"]
    else:
        assert notes == []


def test_resume_continues_to_more_iterations(toy_run, tmp_path, capsys):
    run = tmp_path / "copy"
    shutil.copytree(toy_run, run)
    # A picture from beyond the checkpoint (as an interrupted run leaves) is stale and must go.
    shutil.copy(run / "samples" / "iter_0000004.png", run / "samples" / "iter_0000005.png")
    status, _, err = run_cli(capsys, "train", "--resume", run, "--iters", "6")
    assert status == 0, err
    assert list(io.read_csv_log(str(run / "losses.csv"))["iteration"]) == [1, 2, 3, 4, 5, 6]
    assert sorted(os.listdir(run / "samples")) == ["iter_0000002.png", "iter_0000004.png", "iter_0000006.png"]
    assert json.loads((run / "config.json").read_text())["iters"] == 6


@pytest.mark.parametrize("ext", [".npy", ".npz", ".png"])
def test_sample_points(toy_run, tmp_path, capsys, ext):
    target = tmp_path / f"points{ext}"
    status, out, err = run_cli(capsys, "sample", toy_run, "-n", 10, "-o", target, "--seed", 3)
    assert status == 0, err
    if ext == ".npy":
        points = np.load(target)
    elif ext == ".npz":
        with np.load(target) as archive:
            points = archive["points"]
    else:
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return
    assert points.dtype == np.float32 and points.shape == (10, 2)


def test_sample_is_repeatable_from_its_seed(toy_run, tmp_path, capsys):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        assert run_cli(capsys, "sample", toy_run, "-n", 5, "-o", tmp_path / f"{name}.npy", "--seed", seed)[0] == 0
    a, b, c = (np.load(tmp_path / f"{n}.npy") for n in "abc")
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sample_images_with_a_label(cgan_run, tmp_path, capsys):
    status, _, err = run_cli(capsys, "sample", cgan_run, "-n", 6, "-o", tmp_path / "sevens.npz", "--label", 7)
    assert status == 0, err
    with np.load(tmp_path / "sevens.npz") as archive:
        images = archive["images"]
    assert images.dtype == np.float32 and images.shape == (6, 1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1


def test_eval_writes_metrics(cgan_run, capsys):
    os.remove(cgan_run / "metrics.json")
    status, out, err = run_cli(capsys, "eval", cgan_run)
    assert status == 0, err
    metrics = json.loads((cgan_run / "metrics.json").read_text())
    assert len(metrics["class_share"]) == 10 and metrics["num_samples"] == 5000
    assert "frechet_distance" in out


def test_info_lists_versions_devices_and_kernels(capsys):
    status, out, _ = run_cli(capsys, "info")
    assert status == 0
    assert "numpy" in out and "cuda:" in out and "im2col, cpu: " in out


def test_the_installed_entry_point_runs():
    exe = shutil.which("minigan")
    if exe is None:
        pytest.skip("the minigan command is not installed (pip install -e .)")
    result = subprocess.run([exe, "train", "--iters", "0"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == ("minigan: error: --iters must be at least 1 (got 0): it is the number "
                                     "of generator steps")
    result = subprocess.run([exe, "info"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "minigan 0.1.0" in result.stdout


def test_import_minigan_needs_numpy_only():
    code = ("import sys; import minigan, minigan.gan, minigan.cli; "
            "bad = [m for m in ('PIL', 'tqdm', 'cupy', 'torch') if m in sys.modules]; print(bad)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- bad input: one line, exit status 2, nothing lost ----------------------------------------------

def write_images(folder, sizes):
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    for i, size in enumerate(sizes):
        Image.new("L", size, color=i * 40).save(folder / f"{i}.png")
    return folder


def bad_cases(tmp_path, toy_run):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    mixed = write_images(tmp_path / "mixed", [(28, 28), (32, 32)])
    few = write_images(tmp_path / "few", [(28, 28)] * 4)
    stopped = tmp_path / "stopped"  # a run that failed before its first checkpoint
    stopped.mkdir()
    (stopped / "config.json").write_text((toy_run / "config.json").read_text())
    edited = tmp_path / "edited"  # a config.json edited by hand, with a value of the wrong type
    shutil.copytree(toy_run, edited)
    config = json.loads((edited / "config.json").read_text())
    (edited / "config.json").write_text(json.dumps(dict(config, batch_size="eight")))
    (tmp_path / "folder.png").mkdir(exist_ok=True)
    return {
        "unknown model": (["train", "--model", "stylegan"], "invalid choice: 'stylegan'"),
        "unknown loss": (["train", "--loss", "wasserstein-ish"], "unknown loss 'wasserstein-ish'"),
        "no usable files": (["train", "--dataset", empty], "holds no images"),
        "mixed sizes": (["train", "--dataset", mixed, "--model", "mlp"], "images differ in size"),
        "batch too large": (["train", "--dataset", few, "--model", "mlp", "--batch-size", "8"],
                            "--batch-size 8 is larger than the data set (4 samples); use --batch-size 4 or less"),
        "iters 0": (["train", "--iters", "0"], "--iters must be at least 1"),
        "resume as another model": (["train", "--resume", toy_run, "--model", "mlp"],
                                    "trained with model='toy'; --resume cannot change it"),
        "out holds a run": ([*TOY, "--out", toy_run], "already holds a run"),
        "unknown data set": (["train", "--dataset", "cifar99"], "unknown data set 'cifar99'"),
        "missing data folder": (["train", "--dataset", tmp_path / "nowhere"], "nowhere: no such folder"),
        "data set is a file": (["train", "--dataset", empty / "notes.txt"], "is a file; give the folder"),
        "not a run folder": (["sample", tmp_path, "-n", "4", "-o", tmp_path / "x.npy"], "not a minigan run folder"),
        "bad sample file": (["sample", toy_run, "-n", "4", "-o", tmp_path / "x.jpg"], "must end in .png, .npy or .npz"),
        "sample into a folder": (["sample", toy_run, "-n", "4", "-o", tmp_path / "folder.png"], "is a folder"),
        "sample where nothing can be written": (["sample", toy_run, "-n", "4", "-o", empty / "notes.txt" / "x.npy"],
                                                "cannot write there"),
        "config edited by hand": (["train", "--resume", edited, "--iters", "6"],
                                  "config.json is not a valid run configuration (config: batch_size must be a whole "
                                  "number, not 'eight')"),
        "label without classes": (["sample", toy_run, "-n", "4", "-o", tmp_path / "x.npy", "--label", "3"],
                                  "--label needs a conditional model"),
        "no command": ([], "give a command"),
        "bad number": (["train", "--iters", "many"], "invalid int value: 'many'"),
        "out is a file": ([*TOY, "--out", empty / "notes.txt"], "is a file, not a folder"),
        "nz 0": ([*TOY, "--nz", "0"], "--nz, the size of the noise vector, must be at least 1"),
        "negative r1": ([*TOY, "--r1", "-1"], "--r1 is a penalty weight >= 0"),
        "r1-batch 0": ([*TOY, "--r1", "1", "--r1-batch", "0"],
                       "--r1-batch, the real samples per batch that the R1 penalty is taken on, must be at least 1 "
                       "(got 0)"),
        "infinite lr": ([*TOY, "--lr", "inf"], "--lr must be a positive number"),
        "negative lr-g": ([*TOY, "--lr-g", "-1"], "--lr-g must be a positive number (got -1.0)"),
        "negative sample-every": ([*TOY, "--sample-every", "-1"], "--sample-every must be >= 0"),
        "negative feature matching": ([*TOY, "--feature-matching", "-1"], "--feature-matching is a weight >= 0"),
        "negative mmd": ([*TOY, "--mmd", "-1"], "--mmd is a weight >= 0"),
        "unknown d-norm": ([*TOY, "--d-norm", "group"], "invalid choice: 'group'"),
        "conditional without labels": (["train", "--model", "cgan", "--dataset", few],
                                       "sub-folder per class) or --model mlp"),
        "run stopped before a checkpoint": ([*TOY, "--out", stopped], "stopped before its first checkpoint"),
        "resume without a checkpoint": (["train", "--resume", stopped], "has no checkpoint.npz"),
    }


def test_train_flags_are_the_commands_settings():
    flags = cli.train_flags(["--r1", "0", "--iters", "7", "--r1-batch", "16"])
    assert (flags["r1"], flags["iters"], flags["r1_batch"]) == (0.0, 7, 16)
    assert flags["loss"] is None and flags["seed"] is None, "a flag not given is None: the defaults decide"


CASES = ["unknown model", "unknown loss", "no usable files", "mixed sizes", "batch too large", "iters 0",
         "resume as another model", "out holds a run", "unknown data set", "missing data folder", "data set is a file",
         "not a run folder", "bad sample file", "sample into a folder", "sample where nothing can be written",
         "config edited by hand", "label without classes", "no command", "bad number", "out is a file", "nz 0",
         "negative r1", "r1-batch 0", "infinite lr", "negative lr-g", "negative sample-every", "negative feature matching",
         "negative mmd", "unknown d-norm", "conditional without labels", "run stopped before a checkpoint",
         "resume without a checkpoint"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_one_clear_line(case, toy_run, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a default --out would land here, not in the repository
    argv, message = bad_cases(tmp_path, toy_run)[case]
    before = snapshot(toy_run)
    status, out, err = run_cli(capsys, *argv)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0] and "Traceback" not in err
    assert out == ""  # no "training ..." line before the error
    assert snapshot(toy_run) == before
    assert not os.path.exists(tmp_path / "runs")


def test_a_run_on_a_relative_folder_resumes_and_samples_from_anywhere(tmp_path, capsys, monkeypatch):
    """config.json records an image folder given relative to the working directory as an absolute path."""
    write_images(tmp_path / "digits", [(28, 28)] * 4)
    monkeypatch.chdir(tmp_path)
    status, _, err = run_cli(capsys, "train", "--model", "mlp", "--dataset", "digits", "--iters", "2",
                             "--batch-size", "2", "--out", "run")
    assert status == 0, err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["dataset"] == str(tmp_path / "digits")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    status, _, err = run_cli(capsys, "train", "--resume", tmp_path / "run", "--iters", "3")
    assert status == 0, err
    status, _, err = run_cli(capsys, "sample", tmp_path / "run", "-n", "2", "-o", "two.npy")
    assert status == 0 and np.load(elsewhere / "two.npy").shape == (2, 1, 28, 28), err


def test_a_checkpoint_from_another_model_is_refused(toy_run, cgan_run, tmp_path, capsys):
    run = tmp_path / "swapped"
    shutil.copytree(cgan_run, run)
    shutil.copy(toy_run / "checkpoint.npz", run / "checkpoint.npz")
    before = snapshot(run)
    for argv in (["sample", run, "-n", "4", "-o", tmp_path / "x.npy"], ["eval", run], ["train", "--resume", run]):
        status, _, err = run_cli(capsys, *argv)
        assert status == 2
        assert err.strip().splitlines() == [f"minigan: error: {run}/checkpoint.npz holds a 'toy' model, not "
                                            "'cgan'; use the run's own --model or start a new run"]
    assert snapshot(run) == before


def test_a_truncated_checkpoint_gives_one_line(toy_run, tmp_path, capsys):
    run = tmp_path / "broken"
    shutil.copytree(toy_run, run)
    data = (run / "checkpoint.npz").read_bytes()
    (run / "checkpoint.npz").write_bytes(data[: len(data) // 2])
    status, _, err = run_cli(capsys, "sample", run, "-n", "4", "-o", tmp_path / "x.npy")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "truncated, corrupted" in err and "restore it from a copy, or start a new run" in err


def test_a_nan_stops_training_with_the_iteration(tmp_path, capsys, monkeypatch):
    from minigan.gan import losses
    calls = {"n": 0}
    original = losses.NonSaturating.g_loss

    def poisoned(self, fake_logits, real_logits=None):
        calls["n"] += 1
        loss = original(self, fake_logits, real_logits)
        return loss * float("nan") if calls["n"] == 3 else loss

    monkeypatch.setattr(losses.NonSaturating, "g_loss", poisoned)
    out = tmp_path / "nan"
    status, _, err = run_cli(capsys, *TOY, "--out", out)
    assert status == 1
    assert "generator loss became nan at iteration 3" in err and len(err.strip().splitlines()) == 1
    _, meta = io.load_checkpoint(str(out / "checkpoint.npz"))
    assert meta["iteration"] == 2


def test_a_diverging_run_is_reported_once_without_numpy_warnings(tmp_path, capsys, recwarn):
    status, _, err = run_cli(capsys, *TOY, "--lr", "1e6", "--out", tmp_path / "diverged")
    assert status == 1
    assert err.strip().splitlines() == ["minigan: training stopped: the discriminator loss became inf at iteration "
                                        "2; no checkpoint had been written yet. Try a lower --lr, another --loss or "
                                        "--seed"]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_missing_pillow_is_one_line_saying_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `import PIL` fail as if it were not installed
    status, _, err = run_cli(capsys, *TOY, "--out", tmp_path / "r")
    assert status == 2
    assert err.strip().splitlines() == ["minigan: the command needs Pillow to draw pictures: pip install "
                                        "'minigan[cli]' (or pip install pillow tqdm)"]
    assert not os.path.exists(tmp_path / "r")
