"""The README's Python examples run as written (the training loop with fewer iterations), so the
walkthrough a learner copies from cannot drift from the code."""
import os
import re


README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def python_blocks():
    with open(README, encoding="utf-8") as f:
        return re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)


def block_with(marker):
    found = [b for b in python_blocks() if marker in b]
    assert len(found) == 1, f"expected one README example containing {marker!r}, found {len(found)}"
    return found[0]


def run(source):
    exec(compile(source, README, "exec"), {"__name__": "readme_example"})


def test_every_example_is_checked_here():
    assert len(python_blocks()) == 3


def test_api_tour(capsys):
    run(block_with("mg.grad(D(x).sum(), x, create_graph=True)"))
    assert capsys.readouterr().out.split()[-1] == "float32"


def test_training_loop_walkthrough():
    source = block_with("for it in range(1500):")
    run(source.replace("for it in range(1500):", "for it in range(2):"))


def test_gpu_example(device, capsys):
    # On a machine without a GPU the cuda case skips; the cpu case checks the same lines on NumPy.
    run(block_with('mg.cuda.is_available()').replace('"cuda"', f'"{device}"'))
    expected = "cuda:0" if device == "cuda" else "cpu"
    assert capsys.readouterr().out.split()[-1] == expected
