"""``chainrule explain`` and the main job's closing explanation, on a model trained by ``chainrule train``."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.data import datasets

CSV = str(datasets.german_credit_path())


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain_cli")
    path = folder / "m.crm"
    assert main(["train", "--epochs", "8", "--no-plot", "--output", str(path)]) == 0
    return path


def test_train_ends_with_one_refused_applicant_explained(capsys, tmp_path):
    assert main(["train", "--epochs", "8", "--no-plot", "--output", str(tmp_path / "m.crm")]) == 0
    out = capsys.readouterr().out
    tail = out[out.index("Why one refused applicant was refused"):].splitlines()
    assert "refused, P(good) = " in tail[1]
    reasons = [line for line in tail if line.strip()[:2] in ("1.", "2.", "3.", "4.")]
    assert 1 <= len(reasons) <= 4 and all("(-" in line for line in reasons)  # only what lowered P(good)
    assert any(line.strip().startswith("approved if") or "no counterfactual" in line for line in tail)


def test_explain_rows_json_plot_and_checks(model, tmp_path, capsys):
    out_json, out_png = tmp_path / "e.json", tmp_path / "e.png"
    argv = ["explain", str(model), CSV, "--rows", "0:12", "--counterfactuals", "2", "--reasons", "3",
            "--immutable", "age,foreign_worker", "--json", str(out_json), "--plot", str(out_png), "--check"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    result = json.loads(out_json.read_text())
    reports = result["reports"]
    assert [r["row"] for r in reports] == list(range(12))
    refused = [r for r in reports if r["decision"] == "refused"]
    assert refused, "the model refuses nobody among the first 12 rows"
    columns = set(datasets.german_credit().columns)
    for r in refused:
        assert r["probability"] < 0.5 and 1 <= len(r["reasons"]) <= 3
        assert all(x["name"] in columns and x["contribution"] < 0 for x in r["reasons"])
        assert abs(r["delta"]) < 1e-5  # DeepLIFT's values add up to P(good) minus the baseline's
        for cf in r["counterfactuals"]:
            assert "age" not in cf["changes"] and "foreign_worker" not in cf["changes"]
            assert cf["probability"] >= 0.5
    assert set(result["checks"]) == {"randomisation", "deletion", "insertion"}
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"12 applicants explained: {len(refused)} refused" in text
    # the same run twice gives the same figures
    assert main(argv[:-5] + ["--json", str(tmp_path / "f.json")]) == 0
    again = json.loads((tmp_path / "f.json").read_text())["reports"]
    assert [r.get("reasons") for r in again] == [r.get("reasons") for r in reports]


@pytest.mark.parametrize("extra,mentions", [
    (["--row", "5000"], "out of range"),
    (["--rows", "5:2"], "--rows"),
    (["--immutable", "height"], "height"),
    (["--method", "magic"], "invalid choice"),
    (["--reasons", "0"], "--reasons"),
    (["--threshold", "1.5"], "--threshold"),
    (["--favourable", "excellent"], "excellent"),
])
def test_bad_input_is_one_line_and_exit_2(model, extra, mentions, capsys):
    assert main(["explain", str(model), CSV, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert mentions in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_regression_model_is_refused_cleanly(tmp_path, capsys):
    path = tmp_path / "r.crm"
    assert main(["train", "--target", "credit_amount", "--epochs", "2", "--no-plot", "--output", str(path)]) == 0
    capsys.readouterr()
    assert main(["explain", str(path), CSV]) == 2
    assert "binary classifier" in capsys.readouterr().err


def test_console_script_explains_a_row(model):
    script = Path(sys.executable).parent / "chainrule"
    exe = str(script) if script.exists() else shutil.which("chainrule")
    r = subprocess.run([exe, "explain", str(model), CSV, "--row", "1", "--counterfactuals", "0"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("row 1: ") and "Traceback" not in r.stderr


def _idx(path, array, magic):
    import struct

    path.write_bytes(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape) +
                     array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("method", ["ig", "saliency", "deeplift", "occlusion"])
def test_an_image_model_gets_heat_maps(method, tmp_path, capsys):
    import chainrule as cr
    from chainrule import nn

    rng = np.random.default_rng(0)
    _idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (5, 28, 28)), 2051)
    _idx(tmp_path / "t10k-labels-idx1-ubyte", rng.integers(0, 10, 5), 2049)
    cr.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 14 * 14, 10))
    path = tmp_path / "cnn.crm"
    cr.save(model, path, metadata={"task": "classification", "dataset": "mnist", "classes": list(range(10)),
                                   "options": {"model": "cnn"}})
    png, out = tmp_path / "maps.png", tmp_path / "maps.json"
    assert main(["explain", str(path), str(tmp_path), "--rows", "1:4", "--method", method, "--plot", str(png),
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("image ") == 3 and png.read_bytes()[:4] == b"\x89PNG"
    maps = np.array(json.loads(out.read_text())["attributions"])
    assert maps.shape == (3, 28, 28) and np.abs(maps).sum() > 0
    assert main(["explain", str(path), str(tmp_path), "--method", "shapley"]) == 2
    assert "for tables" in capsys.readouterr().err
    assert main(["explain", str(path), str(tmp_path), "--counterfactuals", "2"]) == 2
    assert "needs a model of a table" in capsys.readouterr().err


def test_one_new_applicant_is_explained_against_the_training_applicants_kept_in_the_model(model, tmp_path, capsys):
    from chainrule.io import read_model_file

    _, meta = read_model_file(model)
    assert len(meta["explain"]["background"]) == 50  # the approved training applicants nearest the cutoff
    argv = ["explain", str(model), CSV, "--all", "--counterfactuals", "0", "--json", str(tmp_path / "a.json")]
    assert main(argv) == 0
    capsys.readouterr()
    first = next(r for r in json.loads((tmp_path / "a.json").read_text())["reports"] if r["decision"] == "refused")
    lines = open(CSV).read().splitlines()
    one = tmp_path / "one.csv"
    one.write_text(lines[0] + "\n" + lines[first["row"] + 1] + "\n")
    assert main(["explain", str(model), str(one), "--json", str(tmp_path / "b.json")]) == 0
    (rep,) = json.loads((tmp_path / "b.json").read_text())["reports"]
    assert rep["decision"] == "refused" and rep["probability"] == pytest.approx(first["probability"], abs=1e-6)
    assert [r["name"] for r in rep["reasons"]] == [r["name"] for r in first["reasons"]]  # the same reasons
    np.testing.assert_allclose([r["contribution"] for r in rep["reasons"]],
                               [r["contribution"] for r in first["reasons"]], atol=1e-6)  # (float32, other batch)
    assert rep["counterfactuals"]  # and a way out, within the ranges of the training applicants kept
