"""Checkpoints (round trip, atomicity, damaged files), pictures (grids, GIFs, charts) and CSV logs."""
import json
import os
import zipfile

import numpy as np
import pytest

from minigan import io


def _state(rng):
    return {
        "G": {"main.0.weight": rng.standard_normal((4, 3)).astype(np.float32),
              "main.1.running_var": np.ones(4, np.float32),
              "main.1.num_batches_tracked": np.array(7, np.int64)},
        "optD": {"state": {0: {"step": 12, "exp_avg": rng.standard_normal(5).astype(np.float32)},
                           3: {"step": np.float32(2.5), "exp_avg_sq": rng.random((2, 2))}},
                 "param_groups": [{"lr": 2e-4, "betas": (0.5, 0.999), "eps": 1e-8, "params": [0, 3],
                                   "name": None, "amsgrad": False}]},
    }


def _assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def test_pack_unpack_keys_and_round_trip(rng):
    state = _state(rng)
    arrays, tree = io.pack_state(state)
    assert set(arrays) == {"G/main.0.weight", "G/main.1.running_var", "G/main.1.num_batches_tracked",
                           "optD/state/0/exp_avg", "optD/state/3/step", "optD/state/3/exp_avg_sq"}
    json.dumps(tree)  # the tree is JSON-able
    _assert_same(io.unpack_state(arrays, json.loads(json.dumps(tree))), state)


def test_pack_refuses_what_it_cannot_store():
    with pytest.raises(TypeError, match="at a/b.*set"):
        io.pack_state({"a": {"b": {1, 2}}})
    with pytest.raises(ValueError, match="reserved"):
        io.pack_state({"__array__": 1})
    with pytest.raises(ValueError, match="read the same"):
        io.pack_state({"s": {1: np.zeros(1), "1": np.zeros(1)}})


def test_checkpoint_round_trip(tmp_path, rng):
    state = _state(rng)
    metadata = {"iteration": 1200, "config": {"iters": 2000, "batch_size": 64, "lr": 2e-4},
                "rng_state": np.random.default_rng(3).bit_generator.state}
    path = str(tmp_path / "ck.npz")
    io.save_checkpoint(path, state, metadata)
    got_state, got_meta = io.load_checkpoint(path)
    _assert_same(got_state, state)
    assert got_meta == metadata  # including the generator state's 128-bit integers
    with np.load(path, allow_pickle=False) as archive:  # a plain npz, readable without minigan
        np.testing.assert_array_equal(archive["G/main.0.weight"], state["G"]["main.0.weight"])
    assert os.listdir(tmp_path) == ["ck.npz"]  # no temporary file left behind


def test_checkpoint_write_failure_keeps_old_file(tmp_path, rng, monkeypatch):
    path = str(tmp_path / "ck.npz")
    io.save_checkpoint(path, {"w": np.arange(3.0)}, {"iteration": 1})
    before = open(path, "rb").read()

    def exploding_savez(f, **arrays):
        f.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")
    monkeypatch.setattr(io.np, "savez", exploding_savez)
    with pytest.raises(OSError, match="disk full"):
        io.save_checkpoint(path, {"w": np.arange(5.0)}, {"iteration": 2})
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["ck.npz"]
    monkeypatch.undo()
    _, meta = io.load_checkpoint(path)
    assert meta["iteration"] == 1


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "no_meta", "empty"])
def test_damaged_checkpoint_gives_clear_error(tmp_path, rng, damage):
    path = str(tmp_path / "ck.npz")
    io.save_checkpoint(path, _state(rng), {"iteration": 5})
    raw = open(path, "rb").read()
    if damage == "truncate":
        raw = raw[: len(raw) * 2 // 3]
    elif damage == "flip":  # damage inside an array's bytes: only the CRC can tell
        with np.load(path) as archive:
            needle = archive["G/main.0.weight"].tobytes()[:8]
        at = raw.index(needle)
        raw = raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1:]
    elif damage == "garbage":
        raw = b"this is not a checkpoint at all" * 10
    elif damage == "empty":
        raw = b""
    if damage == "no_meta":
        np.savez(path, w=np.zeros(3))
    else:
        open(path, "wb").write(raw)
    with pytest.raises(ValueError, match="cannot read checkpoint") as info:
        io.load_checkpoint(path)
    assert path in str(info.value)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        io.load_checkpoint(str(tmp_path / "nope.npz"))


def test_checkpoint_refuses_pickles(tmp_path):
    path = str(tmp_path / "ck.npz")
    with zipfile.ZipFile(path, "w") as z:  # an object array needs pickle to be read
        import io as std_io
        buffer = std_io.BytesIO()
        np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
        z.writestr("__meta__.npy", buffer.getvalue())
    with pytest.raises(ValueError, match="cannot read checkpoint.*pickled objects.*restore it from a copy") as info:
        io.load_checkpoint(path)
    assert "allow_pickle" not in str(info.value)  # NumPy's advice to load it unsafely is not passed on


# -- pictures ---------------------------------------------------------------------------------------------
def _open(path):
    from PIL import Image
    with Image.open(path) as picture:
        picture.load()
        return picture.copy()


def test_make_grid_layout_and_values():
    images = np.full((5, 1, 4, 3), -1.0, np.float32)
    images[2, 0, 1, 2] = 1.0
    images[4] = 0.0
    grid = io.make_grid(images, nrow=2, padding=1, pad_value=1.0)
    assert grid.shape == (3 * 5 + 1, 2 * 4 + 1) and grid.dtype == np.uint8
    assert grid[0, 0] == 255  # padding
    assert grid[1 + 5 + 1, 1 + 2] == 255  # image 2 sits at row 1, column 0
    assert grid[1, 1] == 0
    assert grid[1 + 2 * 5, 1] == 128  # 0.0 maps to mid-grey
    assert (grid[11:15, 5:8] == 255).all()  # the empty sixth cell is left as padding
    rgb = io.make_grid(np.zeros((2, 3, 4, 4), np.float32), nrow=8, padding=0)
    assert rgb.shape == (4, 8, 3)
    with pytest.raises(ValueError, match="C = 1 or 3"):
        io.make_grid(np.zeros((2, 2, 4, 4)))


def test_save_image_grid_and_gif(tmp_path, rng):
    pytest.importorskip("PIL")
    images = np.tanh(rng.standard_normal((16, 1, 28, 28))).astype(np.float32)
    path = io.save_image_grid(str(tmp_path / "grid.png"), images, nrow=4, padding=2, scale=2)
    picture = _open(path)
    assert picture.size == (2 * (4 * 30 + 2), 2 * (4 * 30 + 2))
    np.testing.assert_array_equal(np.asarray(picture)[::2, ::2], io.make_grid(images, nrow=4))
    frames = [io.make_grid(images[i:i + 4], nrow=2) for i in range(0, 16, 4)]
    gif = io.save_gif(str(tmp_path / "run.gif"), frames, captions=[f"iteration {i}" for i in range(4)])
    from PIL import Image
    with Image.open(gif) as animation:
        assert animation.n_frames == 4 and animation.size == (frames[0].shape[1], frames[0].shape[0] + 22)
    with pytest.raises(ValueError, match="captions"):
        io.save_gif(str(tmp_path / "x.gif"), frames, captions=["one"])


def test_loss_plot(tmp_path, rng):
    pytest.importorskip("PIL")
    n = 500
    log = {"iteration": np.arange(1, n + 1, dtype=np.float64),
           "d_loss": 0.7 + 0.1 * rng.standard_normal(n), "g_loss": 2.0 + 0.3 * rng.standard_normal(n)}
    log["g_loss"][10] = np.nan  # a gap, not a crash
    path = io.plot_losses(str(tmp_path / "losses.png"), log, title="test")
    picture = np.asarray(_open(path).convert("RGB")).astype(int)
    assert picture.shape == (450, 800, 3)
    blue, orange = np.array([31, 119, 180]), np.array([255, 127, 14])
    assert (np.abs(picture - blue).sum(axis=2) < 30).sum() > 500  # both lines are drawn
    assert (np.abs(picture - orange).sum(axis=2) < 30).sum() > 500
    empty = {"iteration": np.zeros(0), "d_loss": np.zeros(0), "g_loss": np.zeros(0)}  # nothing logged yet
    assert _open(io.plot_losses(str(tmp_path / "empty.png"), empty)).size == (800, 450)
    with pytest.raises(ValueError, match="no column 'd_loss'"):
        io.plot_losses(str(tmp_path / "x.png"), {"iteration": np.arange(3)})


def test_the_loss_plots_legend_goes_where_it_hides_no_line():
    pytest.importorskip("PIL")
    from minigan.plots import _Chart
    steps = np.arange(100.0)
    chart = _Chart((800, 450), (0.0, 99.0), (0.0, 10.0), [0, 50, 99], [0, 5, 10])
    entries = [("D loss", (0, 0, 0), "line"), ("G loss", (0, 0, 0), "line")]
    rising = np.concatenate([steps / 10, steps / 20])  # both lines end high on the right
    assert chart.quietest_corner(entries, np.tile(steps, 2), rising) == "upper left"
    assert chart.quietest_corner(entries, np.tile(steps, 2), np.full(200, 5.0)) == "upper right"  # room: stays
    high = np.full(200, 9.5)  # both lines along the top: the legend goes below them
    assert chart.quietest_corner(entries, np.tile(steps, 2), high) == "lower right"


def test_points_plot(tmp_path, rng):
    pytest.importorskip("PIL")
    from minigan.data import TOY_SETS
    ring = TOY_SETS["ring8"]
    points, _ = ring.sample(1000, rng)
    path = io.plot_points(str(tmp_path / "points.png"), points, ring.modes, ring.std, title="ring8")
    picture = np.asarray(_open(path).convert("RGB")).astype(int)
    assert picture.shape == (560, 560, 3)
    reddish = (picture[..., 0] - picture[..., 1] > 80) & (picture[..., 0] - picture[..., 2] > 80)
    assert reddish.sum() > 60  # the modes are marked
    plain = np.asarray(_open(io.plot_points(str(tmp_path / "plain.png"), points)).convert("RGB")).astype(int)
    assert ((plain[..., 0] - plain[..., 1] > 80) & (plain[..., 0] - plain[..., 2] > 80)).sum() == 0
    with pytest.raises(ValueError, match="\\(N, 2\\)"):
        io.plot_points(str(tmp_path / "x.png"), np.zeros((3, 3)))
    # Labels beside the rings add red ink outside them; a wrong count is refused.
    labelled = io.plot_points(str(tmp_path / "labelled.png"), points, ring.modes, ring.std,
                              mode_labels=[str(100 + k) for k in range(8)])
    labelled = np.asarray(_open(labelled).convert("RGB")).astype(int)
    assert ((labelled[..., 0] - labelled[..., 1] > 80) & (labelled[..., 0] - labelled[..., 2] > 80)).sum() > reddish.sum() + 100
    with pytest.raises(ValueError, match="mode_labels"):
        io.plot_points(str(tmp_path / "x.png"), points, ring.modes, ring.std, mode_labels=["1"])


def test_nice_ticks():
    from minigan.plots import nice_ticks
    ticks, step = nice_ticks(0.13, 3.7)
    assert step == 1.0 and ticks[0] <= 0.13 and ticks[-1] >= 3.7
    ticks, step = nice_ticks(1, 2000, count=7)
    assert step == 500 and ticks == [0, 500, 1000, 1500, 2000]
    ticks, _ = nice_ticks(5.0, 5.0)  # a flat line still gets a range
    assert ticks[0] < 5.0 < ticks[-1]


# -- CSV logs ---------------------------------------------------------------------------------------------
def test_csv_log_writes_and_resumes(tmp_path):
    path = str(tmp_path / "losses.csv")
    fields = ["iteration", "d_loss", "g_loss"]
    with io.CsvLog(path, fields) as log:
        for i in range(1, 6):
            log.write({"iteration": i, "d_loss": 0.1 * i, "g_loss": np.float32(1.0 / 3.0)})
    columns = io.read_csv_log(path)
    np.testing.assert_array_equal(columns["iteration"], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(columns["d_loss"], [0.1 * i for i in range(1, 6)])  # exact round trip
    assert columns["g_loss"][0] == float(np.float32(1.0 / 3.0))
    with io.CsvLog(path, fields, keep_until=3) as log:  # resumed from iteration 3
        log.write({"iteration": 4, "d_loss": 9.0, "g_loss": 9.0})
    columns = io.read_csv_log(path)
    np.testing.assert_array_equal(columns["iteration"], [1, 2, 3, 4])
    assert columns["d_loss"][3] == 9.0
    with open(path, "a") as f:  # a crash tore the last row
        f.write("5,0.3")
    np.testing.assert_array_equal(io.read_csv_log(path)["iteration"], [1, 2, 3, 4])
    with io.CsvLog(path, fields, keep_until=10) as log:
        log.write({"iteration": 5, "d_loss": 1.0, "g_loss": 1.0})
    np.testing.assert_array_equal(io.read_csv_log(path)["iteration"], [1, 2, 3, 4, 5])
    with io.CsvLog(path, fields) as log:  # a fresh run starts over
        pass
    assert io.read_csv_log(path)["iteration"].size == 0
    with pytest.raises(ValueError, match="columns"):
        io.CsvLog(path, ["iteration", "other"], keep_until=1)


def test_save_json_is_atomic_and_readable(tmp_path):
    path = str(tmp_path / "config.json")
    io.save_json(path, {"iters": 10, "lr": 2e-4})
    assert json.load(open(path)) == {"iters": 10, "lr": 2e-4}
    with pytest.raises(TypeError):
        io.save_json(path, {"bad": object()})
    assert json.load(open(path)) == {"iters": 10, "lr": 2e-4}
    assert os.listdir(tmp_path) == ["config.json"]
