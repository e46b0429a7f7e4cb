"""The key test of checkpoints: a training process killed (SIGKILL) in the middle of an epoch and
resumed in a new process from its last checkpoint ends with exactly the weights of a run that
was never interrupted."""

import json
import os
import select
import signal
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.train.checkpoint import checkpoint_epoch

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

SCRIPT = r'''
import json, sys, time
import numpy as np
import chainrule as cr
from chainrule import nn, optim
from chainrule.train import Callback, EarlyStopping, Trainer

mode, ckpt, out = sys.argv[1], sys.argv[2], sys.argv[3]
cr.manual_seed(1234)
rng = np.random.default_rng(0)
X = rng.standard_normal((384, 12)).astype(np.float32)
y = ((X[:, 0] * X[:, 1] + X[:, 2]) > 0).astype(np.int64)
model = nn.Sequential(
    nn.Linear(12, 32), nn.ReLU(), nn.Dropout(0.3),           # masks from chainrule's default generator
    nn.Linear(32, 32), nn.ReLU(), nn.Dropout(0.2, seed=7),   # masks from the layer's own generator
    nn.Linear(32, 2),
)
opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)


class Pause(Callback):
    """In 'kill' mode: say that epoch 3 has started, then wait to be killed."""

    def on_batch_end(self, batch, logs=None):
        if mode == "kill" and self.trainer.epoch == 2 and batch == 4:
            print("INSIDE-EPOCH-3", flush=True)
            time.sleep(120)


trainer = Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy"], scheduler=sched,
                  callbacks=[EarlyStopping(patience=50), Pause()])
hist = trainer.fit((X[:320], y[:320]), val=(X[320:], y[320:]), epochs=5, batch_size=32, seed=3,
                   checkpoint=ckpt, resume=(mode != "full"), verbose=0)
cr.save_state(model.state_dict(), out)
with open(out + ".json", "w") as f:
    json.dump({"history": hist.history, "initial_epoch": trainer.initial_epoch}, f)
'''


def _run(script, *args, env):
    r = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True, timeout=120,
                       env=env)
    assert r.returncode == 0, r.stderr
    return r


def test_sigkill_mid_epoch_then_resume_gives_the_uninterrupted_weights(tmp_path):
    script = tmp_path / "train_run.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

    # 1. the run that is killed in the middle of its third epoch
    ckpt = tmp_path / "ckpt"
    killed_out = tmp_path / "killed.safetensors"
    proc = subprocess.Popen([sys.executable, str(script), "kill", str(ckpt), str(killed_out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        line = proc.stdout.readline() if ready else ""
        assert line.strip() == "INSIDE-EPOCH-3", f"child did not reach epoch 3: {line!r} {proc.stderr.read()}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert not killed_out.exists()
    ckpt_file = ckpt / "checkpoint.safetensors"
    assert checkpoint_epoch(ckpt_file) == 2  # two complete epochs saved; the third was lost with the process
    assert not [p for p in ckpt.iterdir() if p.name.endswith(".tmp")]

    # 2. a new process resumes from the last checkpoint
    resumed_out = tmp_path / "resumed.safetensors"
    _run(script, "resume", ckpt, resumed_out, env=env)

    # 3. a third process trains without interruption
    full_out = tmp_path / "full.safetensors"
    _run(script, "full", tmp_path / "ckpt_full", full_out, env=env)

    resumed, full = cr.load_state(resumed_out), cr.load_state(full_out)
    assert sorted(resumed) == sorted(full)
    for k in full:
        assert np.array_equal(resumed[k], full[k]), k
    r_info = json.loads((tmp_path / "resumed.safetensors.json").read_text())
    f_info = json.loads((tmp_path / "full.safetensors.json").read_text())
    assert r_info["initial_epoch"] == 2 and f_info["initial_epoch"] == 0
    assert r_info["history"] == f_info["history"]  # every loss, metric and lr, bit for bit
    assert len(f_info["history"]["loss"]) == 5
