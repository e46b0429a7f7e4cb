"""`chainrule train / evaluate / predict / info` end to end, through the console script, on small CSV files.

Every run is small (120 rows, --epochs 3 --hidden 8 --batch-size 16) so it takes about a second; the
models that several tests need are trained once per module.
"""

import csv
import importlib.util
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.io import read_model_file

SMALL = ["--epochs", "3", "--hidden", "8", "--batch-size", "16"]
HEADER = ["age", "income", "city", "grade", "label", "price"]
FEATURES_FOR_LABEL = ["age", "income", "city", "grade", "price"]
HAS_MPL = importlib.util.find_spec("matplotlib") is not None


# --------------------------------------------------------------------------- helpers


def _command():
    """The installed console script next to the running interpreter, else `python -m chainrule`."""
    here = Path(sys.executable).parent / ("chainrule.exe" if os.name == "nt" else "chainrule")
    if here.exists():
        return [str(here)]
    found = shutil.which("chainrule")
    return [found] if found else [sys.executable, "-m", "chainrule"]


def run(*args, cwd=None, timeout=120):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([*_command(), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)


def ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-2000:]}\nstderr:\n{r.stderr[-2000:]}"
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    return r


def fails_cleanly(r, *mentions):
    """Exit 2, one line on stderr (starting 'chainrule') that mentions each of ``mentions``, no traceback."""
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert "Traceback" not in r.stdout, r.stdout[-3000:]
    assert r.returncode == 2, f"exit {r.returncode}\nstdout:\n{r.stdout[-1000:]}\nstderr:\n{r.stderr[-1000:]}"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert line.startswith("chainrule") and "error" in line, line
    for m in mentions:
        assert str(m) in line, f"{m!r} not in {line!r}"
    return line


def make_rows(n=120, seed=0, missing=True):
    """Rows of a small mixed table; with ``missing`` some incomes and cities are left empty."""
    rng = np.random.default_rng(seed)
    cities = ["oslo", "bergen", "trondheim"]
    rows = []
    for i in range(n):
        age = int(rng.integers(18, 70))
        income = round(float(rng.normal(50, 10)), 2)
        city = cities[i % 3]
        grade = int(rng.integers(0, 3))
        label = "yes" if age + (8 if city == "oslo" else 0) + 5 * grade > 50 else "no"
        price = round(2 * age + income / 3 + float(rng.normal()), 3)
        gap_income, gap_city = missing and i % 17 == 0, missing and i % 23 == 0
        rows.append([str(age), "" if gap_income else str(income), "" if gap_city else city, str(grade), label,
                     str(price)])
    return rows


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def without(header, rows, column):
    j = header.index(column)
    return [h for h in header if h != column], [r[:j] + r[j + 1 :] for r in rows]


def weights(path):
    return cr.load_state(str(path))


def same_weights(a, b):
    wa, wb = weights(a), weights(b)
    assert set(wa) == set(wb)
    return all(np.array_equal(wa[k], wb[k]) for k in wa)


def read_csv_text(text):
    return list(csv.reader(io.StringIO(text)))


def strict_json(text):
    def refuse(name):
        raise ValueError(f"not valid JSON: {name}")

    return json.loads(text, parse_constant=refuse)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    rows = make_rows()
    return {"dir": d, "rows": rows, "csv": write_csv(d / "train.csv", HEADER, rows)}


@pytest.fixture(scope="module")
def clf(data):
    """A classification model trained once (task inferred from the text target)."""
    d = data["dir"] / "clf"
    d.mkdir()
    r = ok(run("train", data["csv"], "--target", "label", *SMALL, "--output", d / "model.crm",
               "--metrics-json", d / "metrics.json"))
    return {"model": d / "model.crm", "dir": d, "run": r}


@pytest.fixture(scope="module")
def reg(data):
    d = data["dir"] / "reg"
    d.mkdir()
    r = ok(run("train", data["csv"], "--target", "price", "--task", "regression", *SMALL,
               "--output", d / "model.crm", "--metrics-json", d / "metrics.json"))
    return {"model": d / "model.crm", "dir": d, "run": r}


@pytest.fixture(scope="module")
def ckpt(data):
    """A 2-epoch run that saved a checkpoint after every epoch (copy it before use)."""
    d = data["dir"] / "ckpt"
    d.mkdir()
    ok(run("train", data["csv"], "--target", "label", "--epochs", "2", "--hidden", "8", "--batch-size", "16",
           "--output", d / "part.crm", "--checkpoint-dir", d / "ck"))
    assert (d / "ck" / "checkpoint.safetensors").is_file()
    return d / "ck"


# --------------------------------------------------------------------------- end to end: classification


def test_train_prints_what_it_did_and_writes_model_and_plot(clf):
    out = clf["run"].stdout
    model = clf["model"]
    assert out.startswith("Training a classification network on")
    assert "72 train / 24 validation / 24 test rows" in out
    assert f"Model written to {model}" in out
    assert model.is_file()
    png = model.with_suffix(".png")
    if HAS_MPL:
        assert f"Training curves written to {png}" in out
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert "matplotlib is not installed" in out
    test_line = [ln for ln in out.splitlines() if ln.startswith("Test ")]
    assert len(test_line) == 1 and "accuracy" in test_line[0] and "roc_auc" in test_line[0]
    baseline = [ln for ln in out.splitlines() if ln.startswith("Baseline")]
    assert len(baseline) == 1
    assert "accuracy" in baseline[0] and "majority class" in baseline[0]
    assert clf["run"].stderr.strip() == ""


def test_metrics_json_has_validation_and_test_metrics(clf):
    metrics = strict_json((clf["dir"] / "metrics.json").read_text())
    for split in ("validation", "test"):
        for k in ("loss", "accuracy", "roc_auc", "f1"):
            assert isinstance(metrics[split][k], float), (split, k)
        assert 0 <= metrics[split]["accuracy"] <= 1
    # the same test metrics are in the model file
    _, meta = read_model_file(clf["model"])
    assert meta["metrics"]["test"] == pytest.approx(metrics["test"])


def test_evaluate_text_and_json(clf, data):
    r = ok(run("evaluate", clf["model"], data["csv"]))
    lines = r.stdout.strip().splitlines()
    assert lines[0] == f"{data['csv']}: 120 rows"
    for k in ("accuracy", "roc_auc", "f1", "log_loss"):
        assert k in lines[1]

    r = ok(run("evaluate", clf["model"], data["csv"], "--json"))
    assert len(r.stdout.strip().splitlines()) == 1
    res = strict_json(r.stdout)
    assert isinstance(res, dict)
    for k in ("accuracy", "roc_auc", "f1", "log_loss"):
        assert isinstance(res[k], float)
    assert 0 <= res["accuracy"] <= 1 and 0 <= res["roc_auc"] <= 1 and res["log_loss"] > 0
    assert res["n"] == 120


def test_evaluate_json_is_valid_json_when_roc_auc_is_undefined(clf, data, tmp_path):
    # an evaluation file whose rows all have one label: ROC AUC is undefined, but the output must stay JSON
    rows = [r for r in data["rows"] if r[4] == "yes"][:20]
    path = write_csv(tmp_path / "yes.csv", HEADER, rows)
    r = ok(run("evaluate", clf["model"], path, "--json"))
    res = strict_json(r.stdout)  # NaN is not JSON (RFC 8259): use null
    assert res["accuracy"] is not None


def test_predict_to_file_and_stdout(clf, data, tmp_path):
    header, rows = without(HEADER, data["rows"], "label")  # no target needed to predict
    path = write_csv(tmp_path / "new.csv", header, rows)
    out = tmp_path / "pred.csv"
    r = ok(run("predict", clf["model"], path, "--output", out))
    assert str(out) in r.stdout
    table = read_csv_text(out.read_text())
    assert table[0] == ["prediction", "proba_no", "proba_yes"]
    body = table[1:]
    assert len(body) == 120
    assert {row[0] for row in body} <= {"yes", "no"}
    for row in body:
        p = [float(v) for v in row[1:]]
        assert all(0 <= v <= 1 for v in p)
        assert sum(p) == pytest.approx(1, abs=1e-5)
        assert row[0] == ("yes" if p[1] > p[0] else "no")

    r = ok(run("predict", clf["model"], path))
    assert r.stdout == out.read_text()


def test_predict_with_unknown_category_and_missing_values(clf, tmp_path):
    rows = [["30", "", "paris", "1", "120.5"], ["", "", "", "", ""], ["45", "55.5", "oslo", "7", ""]]
    path = write_csv(tmp_path / "odd.csv", FEATURES_FOR_LABEL, rows)
    r = ok(run("predict", clf["model"], path))
    table = read_csv_text(r.stdout)
    assert len(table) == 4
    for row in table[1:]:
        assert row[0] in ("yes", "no")
        assert sum(float(v) for v in row[1:]) == pytest.approx(1, abs=1e-5)


def test_info(clf):
    r = ok(run("info", clf["model"]))
    out = r.stdout
    n_params = sum(v.size for v in weights(clf["model"]).values())
    assert str(clf["model"]) in out
    assert "Sequential" in out and "Linear(in_features=7, out_features=8" in out
    assert f"Parameters: {n_params:,}" in out
    assert "Task: classification, target 'label'" in out
    assert "Classes: no, yes" in out
    assert "Preprocessing: 7 features: age, income, city=bergen, city=oslo, city=trondheim, grade, price" in out
    assert "Trained for 3 epochs" in out
    assert "Test metrics:" in out and "roc_auc" in out


# --------------------------------------------------------------------------- regression and task inference


def test_regression_end_to_end(reg, data):
    out = reg["run"].stdout
    assert out.startswith("Training a regression network on")
    baseline = [ln for ln in out.splitlines() if ln.startswith("Baseline")]
    assert len(baseline) == 1 and "mse" in baseline[0] and "(mean)" in baseline[0]
    metrics = strict_json((reg["dir"] / "metrics.json").read_text())
    for split in ("validation", "test"):
        assert {"mse", "mae", "r2"} <= set(metrics[split])
        assert "accuracy" not in metrics[split]

    res = strict_json(ok(run("evaluate", reg["model"], data["csv"], "--json")).stdout)
    assert {"mse", "mae", "r2"} <= set(res)
    assert "accuracy" not in res and "roc_auc" not in res
    assert res["mse"] >= 0 and res["mae"] >= 0

    table = read_csv_text(ok(run("predict", reg["model"], data["csv"])).stdout)
    assert table[0] == ["prediction"]
    assert len(table) == 121
    values = [float(row[0]) for row in table[1:]]
    assert all(np.isfinite(values))

    info = ok(run("info", reg["model"])).stdout
    assert "Task: regression, target 'price'" in info
    assert "Classes:" not in info


def test_task_is_inferred(data, tmp_path):
    # a float target: regression
    r = ok(run("train", data["csv"], "--target", "price", *SMALL, "--output", tmp_path / "p.crm"))
    assert r.stdout.startswith("Training a regression network")
    # integers with few values: classification, labels kept as they are in the data
    model = tmp_path / "g.crm"
    r = ok(run("train", data["csv"], "--target", "grade", *SMALL, "--output", model))
    assert r.stdout.startswith("Training a classification network")
    assert "Classes: 0, 1, 2" in ok(run("info", model)).stdout
    table = read_csv_text(ok(run("predict", model, data["csv"])).stdout)
    assert table[0] == ["prediction", "proba_0", "proba_1", "proba_2"]
    assert {row[0] for row in table[1:]} <= {"0", "1", "2"}
    for row in table[1:]:
        assert sum(float(v) for v in row[1:]) == pytest.approx(1, abs=1e-5)


# --------------------------------------------------------------------------- --config


needs_tomllib = pytest.mark.skipif(sys.version_info < (3, 11), reason="--config needs tomllib (Python 3.11+)")


@needs_tomllib
def test_config_file_options_and_command_line_wins(data, tmp_path):
    model = tmp_path / "cfg.crm"
    cfg = tmp_path / "train.toml"
    cfg.write_text(
        "target = 'label'\nepochs = 2\nhidden = [8]\nbatch-size = 16\nlr = 0.01\n"
        f"output = '{model.as_posix()}'\n"
    )
    r = ok(run("train", data["csv"], "--config", cfg, "--epochs", "3"))
    assert f"Model written to {model.as_posix()}" in r.stdout.replace(os.sep, "/")
    _, meta = read_model_file(model)
    opts = meta["options"]
    assert opts["epochs"] == 3  # the command line wins
    assert opts["hidden"] == [8] and opts["batch_size"] == 16 and opts["lr"] == 0.01 and opts["target"] == "label"
    assert len(meta["history"]["loss"]) == 3
    assert weights(model)["0.weight"].shape == (8, 7)


@needs_tomllib
@pytest.mark.parametrize(
    "text, mentions",
    [
        ("epochs = 2\nbogus = 1\n", ["unknown option", "bogus"]),
        ("epochs = = 2\n", ["not valid TOML"]),
        ("epochs = 2\n[section\n", ["not valid TOML"]),
    ],
    ids=["unknown-key", "invalid-toml", "invalid-table"],
)
def test_config_errors(data, tmp_path, text, mentions):
    cfg = tmp_path / "train.toml"
    cfg.write_text(text)
    line = fails_cleanly(run("train", data["csv"], "--target", "label", "--config", cfg,
                             "--output", tmp_path / "m.crm"), *mentions)
    assert str(cfg) in line
    assert not (tmp_path / "m.crm").exists()


@needs_tomllib
@pytest.mark.parametrize("text, key", [("epochs = 0\n", "epochs"), ("seed = 'abc'\n", "seed")],
                         ids=["epochs-0", "seed-text"])
def test_config_bad_value_names_the_option(data, tmp_path, text, key):
    cfg = tmp_path / "train.toml"
    cfg.write_text(text)
    fails_cleanly(run("train", data["csv"], "--target", "label", "--config", cfg, "--output", tmp_path / "m.crm"),
                  key)


def test_config_file_missing(data, tmp_path):
    fails_cleanly(run("train", data["csv"], "--target", "label", "--config", tmp_path / "nope.toml"), "nope.toml")


# --------------------------------------------------------------------------- checkpoints, resume, determinism


def test_resume_continues_and_matches_an_uninterrupted_run(data, ckpt, tmp_path):
    ck = tmp_path / "ck"
    shutil.copytree(ckpt, ck)
    args = ["train", data["csv"], "--target", "label", "--epochs", "4", "--hidden", "8", "--batch-size", "16"]
    resumed = tmp_path / "resumed.crm"
    r = ok(run(*args, "--output", resumed, "--checkpoint-dir", ck, "--resume"))
    assert "Epoch 1/4" not in r.stdout and "Epoch 2/4" not in r.stdout
    assert "Epoch 3/4" in r.stdout and "Epoch 4/4" in r.stdout
    _, meta = read_model_file(resumed)
    assert len(meta["history"]["loss"]) == 4
    assert "Trained for 4 epochs" in ok(run("info", resumed)).stdout

    full = tmp_path / "full.crm"
    ok(run(*args, "--output", full))
    assert same_weights(resumed, full)


def test_resume_without_a_checkpoint_starts_afresh(data, tmp_path):
    ck = tmp_path / "new-ck"
    r = ok(run("train", data["csv"], "--target", "label", *SMALL, "--output", tmp_path / "m.crm",
               "--checkpoint-dir", ck, "--resume"))
    assert "Epoch 1/3" in r.stdout
    assert (ck / "checkpoint.safetensors").is_file()


def test_two_identical_commands_give_identical_weights(data, tmp_path):
    args = ["train", data["csv"], "--target", "label", *SMALL, "--output", "model.crm"]
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        ok(run(*args, cwd=tmp_path / name))
    assert same_weights(tmp_path / "a" / "model.crm", tmp_path / "b" / "model.crm")


# --------------------------------------------------------------------------- bad input: exit 2, one line


def test_missing_data_file(tmp_path):
    fails_cleanly(run("train", tmp_path / "nope.csv", "--target", "label", *SMALL, "--output", tmp_path / "m.crm"),
                  "nope.csv", "no such file")


def test_folder_given_as_csv(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    fails_cleanly(run("train", folder, "--target", "label", *SMALL, "--output", tmp_path / "m.crm"),
                  "folder.csv", "folder")


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root (or Windows) reads a chmod 000 file anyway")
def test_unreadable_file(data, tmp_path):
    path = tmp_path / "secret.csv"
    shutil.copy(data["csv"], path)
    path.chmod(0)
    try:
        fails_cleanly(run("train", path, "--target", "label", *SMALL, "--output", tmp_path / "m.crm"),
                      "secret.csv", "permission denied")
    finally:
        path.chmod(0o600)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    fails_cleanly(run("train", path, "--target", "label", *SMALL, "--output", tmp_path / "m.crm"), "empty.csv",
                  "empty")


def test_header_only_file(tmp_path):
    path = write_csv(tmp_path / "header.csv", HEADER, [])
    fails_cleanly(run("train", path, "--target", "label", *SMALL, "--output", tmp_path / "m.crm"), "header.csv",
                  "no data rows")


def test_target_column_that_does_not_exist(data, tmp_path):
    fails_cleanly(run("train", data["csv"], "--target", "nope", *SMALL, "--output", tmp_path / "m.crm"),
                  "'nope'", *HEADER)
    assert not (tmp_path / "m.crm").exists()


def test_target_with_one_class(data, tmp_path):
    rows = [r[:4] + ["yes"] + r[5:] for r in data["rows"]]
    path = write_csv(tmp_path / "one.csv", HEADER, rows)
    fails_cleanly(run("train", path, "--target", "label", *SMALL, "--output", tmp_path / "m.crm"), "'label'",
                  "single class")


def test_non_numeric_value_at_predict_time(clf, data, tmp_path):
    rows = [list(r) for r in data["rows"][:5]]
    rows[3][0] = "abc"
    path = write_csv(tmp_path / "bad.csv", HEADER, rows)
    fails_cleanly(run("predict", clf["model"], path), "'age'", "'abc'", "bad.csv")
    fails_cleanly(run("evaluate", clf["model"], path), "'age'", "'abc'")


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_csv_lacking_a_needed_column(clf, data, tmp_path, command):
    header, rows = without(HEADER, data["rows"][:5], "city")
    path = write_csv(tmp_path / "nocity.csv", header, rows)
    fails_cleanly(run(command, clf["model"], path), "'city'", "missing")


def test_evaluate_without_the_target_column(clf, data, tmp_path):
    header, rows = without(HEADER, data["rows"][:5], "label")
    path = write_csv(tmp_path / "nolabel.csv", header, rows)
    fails_cleanly(run("evaluate", clf["model"], path), "'label'", "nolabel.csv")


def test_evaluate_with_an_unseen_label(clf, data, tmp_path):
    rows = [list(r) for r in data["rows"][:5]]
    rows[2][4] = "maybe"
    path = write_csv(tmp_path / "maybe.csv", HEADER, rows)
    fails_cleanly(run("evaluate", clf["model"], path), "'label'", "'maybe'")


INVALID_OPTIONS = [
    (["--epochs", "0"], ["--epochs"]),
    (["--lr", "-1"], ["--lr"]),
    (["--lr", "nan"], ["--lr"]),
    (["--lr", "0"], ["--lr"]),
    (["--hidden", "8,x"], ["--hidden", "8,x"]),
    (["--hidden", "0"], ["--hidden"]),
    (["--val-split", "1.5"], ["--val-split"]),
    (["--val-split", "0.5", "--test-split", "0.45"], ["--val-split", "--test-split"]),
    (["--batch-size", "0"], ["--batch-size"]),
    (["--optimizer", "nope"], ["--optimizer", "'nope'"]),
    (["--activation", "nope"], ["--activation", "'nope'"]),
    (["--task", "nope"], ["--task", "'nope'"]),
    (["--bogus"], ["--bogus"]),
    (["--seed", "-1"], ["--seed"]),
]


@pytest.mark.parametrize("option, mentions", [pytest.param(o, m, id=" ".join(o)) for o, m in INVALID_OPTIONS])
def test_invalid_option_values(data, tmp_path, option, mentions):
    out = tmp_path / "m.crm"
    fails_cleanly(run("train", data["csv"], "--target", "label", "--epochs", "2", "--output", out, *option),
                  *mentions)
    assert not out.exists()


def test_resume_without_checkpoint_dir(data, tmp_path):
    fails_cleanly(run("train", data["csv"], "--target", "label", *SMALL, "--output", tmp_path / "m.crm",
                      "--resume"), "resume")


def _bytes(content):
    def make(path):
        path.write_bytes(content)
        return path

    return make


def _state_file(path):
    cr.save_state({"w": np.zeros(3, dtype=np.float32)}, str(path))
    return path


def _plain_model_file(path):
    cr.save(cr.nn.Sequential(cr.nn.Linear(2, 2)), str(path))
    return path


@pytest.mark.parametrize(
    "command, make, mentions",
    [
        pytest.param("evaluate", _bytes(np.random.default_rng(0).bytes(300)), [], id="evaluate-random-bytes"),
        pytest.param("predict", _bytes(np.random.default_rng(1).bytes(300)), [], id="predict-random-bytes"),
        pytest.param("predict", _bytes(pickle.dumps({"weights": [1, 2, 3]})), ["pickle"], id="predict-pickle"),
        pytest.param("evaluate", _bytes(pickle.dumps([1.0, 2.0])), ["pickle"], id="evaluate-pickle"),
        pytest.param("evaluate", _bytes(b""), [], id="evaluate-empty"),
        pytest.param("predict", _state_file, [], id="predict-state-file"),
        pytest.param("evaluate", _plain_model_file, ["preprocessing"], id="evaluate-no-preprocessor"),
        pytest.param("predict", lambda path: path, ["no such file"], id="predict-missing"),
    ],
)
def test_model_path_that_is_not_a_model_file(data, tmp_path, command, make, mentions):
    model = make(tmp_path / "fake.crm")
    fails_cleanly(run(command, model, data["csv"]), "fake.crm", *mentions)


def test_info_on_a_file_that_is_not_a_model(data, tmp_path):
    fails_cleanly(run("info", data["csv"]), "train.csv")
    path = tmp_path / "p.crm"
    path.write_bytes(pickle.dumps([1, 2]))
    fails_cleanly(run("info", path), "p.crm", "pickle")


def test_output_into_a_folder_that_does_not_exist(clf, data, tmp_path):
    fails_cleanly(run("predict", clf["model"], data["csv"], "--output", tmp_path / "nodir" / "p.csv"), "nodir")
    fails_cleanly(run("train", data["csv"], "--target", "label", *SMALL, "--output", tmp_path / "nodir" / "m.crm"),
                  "nodir", "does not exist")
    assert not (tmp_path / "nodir").exists()


@pytest.mark.parametrize("command", ["train", "predict"])
def test_output_that_is_an_existing_folder_names_it(clf, data, tmp_path, command):
    folder = tmp_path / "outdir"
    folder.mkdir()
    if command == "train":
        r = run("train", data["csv"], "--target", "label", *SMALL, "--output", folder)
    else:
        r = run("predict", clf["model"], data["csv"], "--output", folder)
    line = fails_cleanly(r, "outdir")
    assert ".tmp" not in line  # the message names the user's path, not a temporary file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outdir"]  # no temporary file left behind


# --------------------------------------------------------------------------- a failed run damages nothing


@pytest.mark.parametrize(
    "extra",
    [
        ["--target", "nope"],
        ["--target", "label", "--optimizer", "nope"],
        ["--target", "label", "--resume"],
        ["--target", "label", "--metrics-json", "NODIR/metrics.json"],
        ["--target", "label", "--plot", "NODIR/curves.png"],
    ],
    ids=["bad-target", "bad-optimizer", "resume-without-dir", "metrics-json-in-missing-folder",
         "plot-in-missing-folder"],
)
def test_failed_train_leaves_the_previous_model_file_intact(clf, data, tmp_path, extra):
    model = tmp_path / "model.crm"
    shutil.copy(clf["model"], model)
    before = model.read_bytes()
    extra = [e.replace("NODIR", str(tmp_path / "nodir")) for e in extra]
    r = run("train", data["csv"], *SMALL, "--output", model, *extra)
    fails_cleanly(r)
    assert model.read_bytes() == before


def test_failed_train_leaves_the_checkpoint_intact(data, ckpt, tmp_path):
    ck = tmp_path / "ck"
    shutil.copytree(ckpt, ck)
    file = ck / "checkpoint.safetensors"
    before = file.read_bytes()
    base = ["train", data["csv"], "--epochs", "4", "--batch-size", "16", "--output", tmp_path / "m.crm",
            "--checkpoint-dir", ck]
    fails_cleanly(run(*base, "--target", "nope", "--hidden", "8"))
    fails_cleanly(run(*base, "--target", "nope", "--hidden", "8", "--resume"))
    # a checkpoint of another network does not fit: refused, and left as it was
    fails_cleanly(run(*base, "--target", "label", "--hidden", "16", "--resume"), "does not fit")
    assert file.read_bytes() == before
    assert sorted(p.name for p in ck.iterdir()) == ["checkpoint.safetensors"]
    assert not (tmp_path / "m.crm").exists()


def test_resume_with_another_optimizer_fails_cleanly(data, ckpt, tmp_path):
    ck = tmp_path / "ck"
    shutil.copytree(ckpt, ck)
    before = (ck / "checkpoint.safetensors").read_bytes()
    r = run("train", data["csv"], "--target", "label", "--epochs", "4", "--hidden", "8", "--batch-size", "16",
            "--optimizer", "sgd", "--output", tmp_path / "m.crm", "--checkpoint-dir", ck, "--resume")
    fails_cleanly(r, "does not fit")
    assert (ck / "checkpoint.safetensors").read_bytes() == before


def test_plot_never_overwrites_the_model_file(data, tmp_path):
    # --output with a .png suffix: the curves (model.with_suffix('.png') would be the model itself) go to
    # model.curves.png, and the model file stays a model file
    model, curves = tmp_path / "model.png", tmp_path / "model.curves.png"
    r = ok(run("train", data["csv"], "--target", "label", *SMALL, "--output", model))
    assert f"Model written to {model}" in r.stdout
    _, meta = read_model_file(model)
    assert meta["task"] == "classification" and meta["classes"] == ["no", "yes"]
    if HAS_MPL:
        assert f"Training curves written to {curves}" in r.stdout
        assert curves.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["model.curves.png", "model.png"]
    else:
        assert "matplotlib is not installed" in r.stdout
        assert sorted(p.name for p in tmp_path.iterdir()) == ["model.png"]
    # a --plot that names the model file (however spelled) is refused before any work, the model untouched
    before = model.read_bytes()
    for plot in (model, tmp_path / "." / "model.png"):
        r = run("train", data["csv"], "--target", "label", *SMALL, "--output", model, "--plot", plot)
        fails_cleanly(r, "--plot", "is the model file")
        assert r.stdout == ""
    assert model.read_bytes() == before


# --------------------------------------------------------------------------- the main job and the demo


def test_no_arguments_runs_the_main_job(tmp_path):
    r = ok(run(cwd=tmp_path))
    test_line = [ln for ln in r.stdout.splitlines() if ln.startswith("Test ")]
    assert len(test_line) == 1 and "roc_auc" in test_line[0] and "accuracy" in test_line[0]
    assert "German credit" in r.stdout
    assert any(ln.startswith("Baseline") for ln in r.stdout.splitlines())
    assert (tmp_path / "model.crm").is_file()
    assert "Classes:" in ok(run("info", "model.crm", cwd=tmp_path)).stdout


def test_demo_still_runs():
    r = ok(run("demo"))
    assert "XOR(1, 1) = 0" in r.stdout
