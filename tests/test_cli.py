"""The ``chainrule`` command: the demo's output, and clean failures on bad arguments."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.cli import main


def _script():
    """The installed console script, next to the running interpreter (else on PATH)."""
    here = Path(sys.executable).parent / ("chainrule.exe" if os.name == "nt" else "chainrule")
    if here.exists():
        return str(here)
    found = shutil.which("chainrule")
    if found is None:
        pytest.skip("the chainrule console script is not installed")
    return found


def _run(*args, timeout=60):
    return subprocess.run([_script(), *args], capture_output=True, text=True, timeout=timeout)


def _check_demo_output(out):
    assert "f = -12" in out
    assert "df/dx = -4" in out
    assert "df/dy = -4" in out
    assert "df/dz = 3" in out
    assert "All four points classified" in out
    for line in ("XOR(0, 0) = 0", "XOR(0, 1) = 1", "XOR(1, 0) = 1", "XOR(1, 1) = 0"):
        assert line in out
    assert "Not solved" not in out


def test_main_runs_demo(capsys):
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    _check_demo_output(out)
    assert err == ""


def test_demo_predictions_are_right(capsys):
    assert main(["demo", "--seed", "1", "--hidden", "6"]) == 0
    out = capsys.readouterr().out
    preds = [line.split("->")[-1].strip() for line in out.splitlines() if "network says" in line]
    assert preds == ["0", "1", "1", "0"]
    assert "2-6-1" in out


def test_console_script_runs_demo():
    r = _run("demo")
    assert r.returncode == 0, r.stderr
    _check_demo_output(r.stdout)
    assert "Traceback" not in r.stderr


def test_version():
    r = _run("--version")
    assert r.returncode == 0
    assert r.stdout.strip().startswith("chainrule ")


@pytest.mark.parametrize(
    "args, mentions",
    [
        (["demo", "--lr", "-1"], "--lr"),
        (["demo", "--lr", "0"], "--lr"),
        (["demo", "--hidden", "abc"], "--hidden"),
        (["demo", "--hidden", "0"], "--hidden"),
        (["demo", "--seed", "x"], "--seed"),
        (["demo", "--bogus"], "--bogus"),
        (["bogus"], "bogus"),
    ],
)
def test_bad_arguments_fail_cleanly(args, mentions):
    r = _run(*args)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert r.stdout == "" or "error" not in r.stdout.lower()
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    # one line says what went wrong (argparse may put its usage line before it)
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1, r.stderr
    assert lines[-1] == errors[0]
    assert mentions in errors[0]
    assert errors[0].startswith("chainrule")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_learning_rate_is_rejected(value):
    r = _run("demo", "--lr", value)
    assert r.returncode == 2, r.stdout[-300:]
    assert "Traceback" not in r.stderr
    assert "--lr" in r.stderr


def test_option_without_subcommand_gives_a_clear_message():
    # `chainrule` alone runs the main job (train); `chainrule --lr -1` must say what is wrong with --lr
    r = _run("--lr", "-1")
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "--lr" in r.stderr.splitlines()[-1]


def test_main_in_process_bad_value_returns_2(capsys):
    assert main(["demo", "--lr", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "chainrule demo: error: --lr must be a positive number, got -1.0"
    assert main(["demo", "--hidden", "0"]) == 2
    assert capsys.readouterr().err.strip() == "chainrule demo: error: --hidden must be at least 1, got 0"


def test_main_in_process_parse_error_returns_2(capsys):
    assert main(["demo", "--hidden", "abc"]) == 2
    err = capsys.readouterr().err
    assert "invalid int value: 'abc'" in err
    assert len(err.strip().splitlines()) == 1


def test_python_dash_m():
    """`python -m chainrule.cli` runs the command (cli/__init__.py has a __main__ block for it)."""
    r = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "demo", "--lr", "-1"], capture_output=True, text=True, timeout=60
    )
    assert "No module named" not in r.stderr
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == "chainrule demo: error: --lr must be a positive number, got -1.0"


@pytest.mark.skipif(os.name == "nt" or shutil.which("sh") is None, reason="./run is a POSIX sh script")
def test_run_script_installs_only_when_the_venv_is_new_or_pyproject_changed(tmp_path):
    """./run used to reinstall with pip on every call (7-9 s of a 10 s run); a stamp in .venv remembers."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "run", repo / "run")
    (repo / "pyproject.toml").write_text("[project]\nname = 'chainrule'\n")
    log = tmp_path / "calls.log"
    # a fake python: `-m venv DIR` makes a venv of fakes (this python, and a chainrule that echoes its arguments)
    fake = tmp_path / "python3"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "python $*" >> "{log}"\n'
        'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then\n'
        '  mkdir -p "$3/bin" && cp "$0" "$3/bin/python"\n'
        '  printf \'#!/bin/sh\\necho "chainrule $*"\\n\' > "$3/bin/chainrule" && chmod +x "$3/bin/chainrule"\n'
        "fi\n"
    )
    fake.chmod(0o755)

    def run_script(*args):
        log.write_text("")
        r = subprocess.run(["sh", str(repo / "run"), *args], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, PYTHON=str(fake)))
        assert r.returncode == 0, r.stderr
        return r.stdout, [line for line in log.read_text().splitlines() if line]

    out, calls = run_script("demo")
    assert out == "chainrule demo\n"
    assert calls == ["python -m venv .venv", "python -m pip install -q -e .[train]"]
    out, calls = run_script("train", "--epochs", "1")
    assert out == "chainrule train --epochs 1\n" and calls == []  # nothing installed the second time
    (repo / "pyproject.toml").write_text("[project]\nname = 'chainrule'\nversion = '0.2'\n")
    assert run_script()[1] == ["python -m pip install -q -e .[train]"]  # pyproject.toml changed
    assert run_script()[1] == []
    (repo / ".venv" / ".chainrule-installed").unlink()
    assert run_script()[1] == ["python -m pip install -q -e .[train]"]
