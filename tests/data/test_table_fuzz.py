"""Fuzzing the table readers: whatever bytes a file holds, ``read_table`` gives a sound Table or a
one-line ``ChainruleError``, never another exception, never a hang, never an allocation out of
proportion to the file.

Two seeded hypothesis runs, about 60 s together on a 2-core machine (each example's count is
tuned in ``CSV_EXAMPLES`` / ``PARQUET_EXAMPLES``):

* CSV: arbitrary bytes, and CSV-like text built from the things that trip readers (quotes, embedded
  delimiters and newlines, BOMs, NUL, CR-only line ends, ragged rows, empty and duplicate names,
  numbers in every spelling, missing-value texts, mostly-numeric columns with strays, other
  encodings), then mutated (bytes flipped, cut, inserted). Peak Python memory while reading is
  checked against the file's size (tracemalloc).
* Parquet: valid files of random tables, mutated. pyarrow decodes in a child process with a memory
  and time limit (``table._read_parquet``), so its crashes (it aborts or segfaults on some corrupted
  files) and its allocations stay there; a mutated file costs about half a second, so this run is short.
"""

import atexit
import csv
import io
import os
import shutil
import signal
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from chainrule.data import Table, read_table
from chainrule.errors import ChainruleError

CSV_EXAMPLES = 8000
PARQUET_EXAMPLES = 20
PER_INPUT_SECONDS = 20  # a single read taking longer than this is a hang
#: Peak Python memory while reading may be this many times the file's size, plus MEMORY_SLACK bytes:
#: a CSV cell costs a str object and pointers (~60 bytes for a 2-byte cell ``a,``), never more.
MEMORY_PER_BYTE = 100
MEMORY_SLACK = 2**20

TRIED = {"csv": 0, "csv_tables": 0, "parquet": 0, "parquet_tables": 0}

_DIR = Path(tempfile.mkdtemp(prefix="chainrule-fuzz-"))  # one file rewritten per input (not tmp_path: per test)
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang(f"a read took more than {PER_INPUT_SECONDS} s")


def _check_result(t):
    """A Table's invariants: equal-length 1-D columns, float64 or object-of-str, a file line per row."""
    assert isinstance(t, Table)
    n = len(t)
    assert n >= 1 or not t.columns
    for name in t.columns:
        assert isinstance(name, str)
        col = t[name]
        assert col.ndim == 1 and len(col) == n
        assert col.dtype in (np.float64, object)
        if col.dtype == object:
            assert all(v is None or type(v) is str for v in col)
    if t.lines is not None:
        assert len(t.lines) == n and (np.diff(t.lines) > 0).all()
        assert t.where(n - 1).endswith(f" line {t.lines[-1]}")


def _read(path, **kwargs):
    """read_table(path), timed out and memory-checked; returns the Table or the ChainruleError."""
    size = os.path.getsize(path)
    use_alarm = hasattr(signal, "setitimer")
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, PER_INPUT_SECONDS)
    tracemalloc.start()
    try:
        try:
            result = read_table(path, **kwargs)
        except ChainruleError as e:
            result = e
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    assert peak <= MEMORY_PER_BYTE * size + MEMORY_SLACK, f"{peak} bytes allocated reading a {size}-byte file"
    if isinstance(result, ChainruleError):
        msg = str(result)
        assert msg and "\n" not in msg and "Traceback" not in msg, msg
    else:
        _check_result(result)
    return result


# ---- CSV ---------------------------------------------------------------------------------------

NAMES = ["a", "b", "x", "y", "id", "名前", "col,1", 'q"uote', "a b", "é", "Unnamed: 0", "nan", "?", "1", "price",
         "label", "z", "w", "v", "u"]
ODD_NAMES = ["", " ", "a", "n\nl", "\ufeffbom", "\t", "x\x00"]
CELLS = ["", "NA", "NaN", "nan", "?", "n/a?", "-", "1", "0", "-0", "1.5", "1e3", "1E-3", "1e400", "-1e400", "inf",
         "-inf", "Infinity", "1_000", "0x10", "١٢٣", "１２", " 7 ", "1,5", "3.", ".5", "+2", "--1", "1e", "e1", "True",
         "False", "oslo", '"quoted"', "a\nb", "a\rb", "x,y", "x;y", "x\ty", '"', '""', "\x00", "\ufeff", "\u2028",
         "😀", " ", "9" * 400, "1" * 30, "\\", "a\\\nb"]
ALPHABET = "abc xyz019.,;\t\"'\n\r-+eE_?é😀\x00\\"


def _cell(rng):
    r = rng.random()
    if r < 0.45:
        return rng.choice(CELLS)
    if r < 0.6:
        return str(rng.randint(-(10**20), 10**20))
    if r < 0.75:
        return repr(rng.choice([rng.uniform(-1e6, 1e6), rng.expovariate(1e-3), float("nan"), float("inf")]))
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))


@st.composite
def csv_like(draw):
    """CSV-like bytes: the shape from hypothesis, the cells from a random generator it seeds (for speed)."""
    import random

    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    d = draw(st.sampled_from([",", ";", "\t", "|", ","]))
    n_cols = draw(st.integers(1, 6))
    header = rng.sample(NAMES, n_cols)
    if not draw(st.integers(0, 4)):
        header[rng.randrange(n_cols)] = rng.choice(ODD_NAMES)  # empty, duplicate or odd names
    n_rows = draw(st.integers(1, 40)) if draw(st.integers(0, 9)) else 0
    numeric = {j for j in range(n_cols) if rng.random() < 0.5}
    strays = draw(st.sampled_from([0.0, 0.0, 0.02, 0.3]))  # share of non-numbers in a numeric column
    ragged = draw(st.sampled_from([0.0, 0.0, 0.0, 0.05]))
    rows = []
    for _ in range(n_rows):
        width = rng.randint(0, n_cols + 2) if rng.random() < ragged else n_cols
        rows.append([repr(round(rng.uniform(-1e3, 1e3), rng.randint(0, 6))) if j in numeric and rng.random() >= strays
                     else _cell(rng) for j in range(width)])
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE]))
    buf = io.StringIO()
    try:
        w = csv.writer(buf, delimiter=d, quoting=quoting, escapechar="\\",
                       lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
        w.writerow(header)
        w.writerows(rows)
        text = buf.getvalue()
    except csv.Error:
        text = "\n".join(d.join(r) for r in [header, *rows])
    if draw(st.booleans()):
        text = "\ufeff" + text
    if not draw(st.integers(0, 4)):
        text = text.replace("\n", "\n\n")  # blank lines
    encoding = draw(st.sampled_from(["utf-8"] * 12 + ["latin-1", "utf-16", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    for _ in range(draw(st.integers(0, 3)) if not draw(st.integers(0, 2)) else 0):  # mutations
        if not data:
            break
        i = rng.randrange(len(data))
        op = rng.randrange(4)
        if op == 0:
            data = data[:i] + bytes([rng.randrange(256)]) + data[i + 1 :]
        elif op == 1:
            data = data[:i]
        elif op == 2:
            data = data[:i] + rng.randbytes(rng.randint(1, 8)) + data[i:]
        else:
            data = data[:i] + data[i + rng.randint(1, 16) :]
    return data


CSV_INPUTS = st.one_of(st.binary(max_size=600), csv_like(), csv_like())
READ_OPTIONS = st.fixed_dictionaries({}, optional={
    "delimiter": st.sampled_from([",", ";", "\t", "|"]),
    "na_values": st.lists(st.sampled_from(["n/a?", "-", "x", "", " NA "]), max_size=3),
})


@seed(20260)
@settings(max_examples=CSV_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(data=CSV_INPUTS, suffix=st.sampled_from([".csv", ".csv", ".tsv", ".txt"]), options=READ_OPTIONS)
def _fuzz_csv(data, suffix, options):
    path = _DIR / f"input{suffix}"
    path.write_bytes(data)
    result = _read(path, **options)
    TRIED["csv"] += 1
    TRIED["csv_tables"] += isinstance(result, Table)


def test_csv_reader_gives_a_table_or_a_chainrule_error():
    TRIED["csv"] = TRIED["csv_tables"] = 0
    _fuzz_csv()
    print(f"\nCSV fuzz: {TRIED['csv']} inputs, {TRIED['csv_tables']} read as tables, the rest refused")
    assert TRIED["csv"] >= CSV_EXAMPLES
    assert TRIED["csv_tables"] >= TRIED["csv"] * 0.1  # the structured inputs do get through the parser


# ---- Parquet -----------------------------------------------------------------------------------


@st.composite
def parquet_bytes(draw):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    n = draw(st.integers(1, 40))
    cols = {}
    for j in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["int", "float", "str", "bool", "date", "dict"]))
        if kind == "int":
            cols[f"c{j}"] = pa.array(draw(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
                                                   min_size=n, max_size=n)), pa.int64())
        elif kind == "float":
            cols[f"c{j}"] = pa.array(draw(st.lists(st.floats(), min_size=n, max_size=n)), pa.float64())
        elif kind == "str":
            cols[f"c{j}"] = pa.array(draw(st.lists(st.one_of(st.none(), st.text(max_size=5)), min_size=n,
                                                   max_size=n)), pa.string())
        elif kind == "bool":
            cols[f"c{j}"] = pa.array(draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)))
        elif kind == "date":
            cols[f"c{j}"] = pa.array(draw(st.lists(st.integers(-(10**6), 10**6), min_size=n, max_size=n)),
                                     pa.int32()).cast(pa.date32())
        else:
            cols[f"c{j}"] = pa.array([f"k{i % 3}" for i in range(n)]).dictionary_encode()
    buf = io.BytesIO()
    pq.write_table(pa.table(cols), buf, compression=draw(st.sampled_from(["snappy", "none", "gzip", "zstd"])))
    data = bytearray(buf.getvalue())
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(4, len(data) - 5))  # keep the PAR1 magic: get past the cheap check, into pyarrow
        op = draw(st.integers(0, 2))
        if op == 0:
            data[i] = draw(st.integers(0, 255))
        elif op == 1:
            data[i : i + 4] = draw(st.binary(min_size=4, max_size=4))
        else:
            del data[i : i + draw(st.integers(1, 12))]
    return bytes(data)


@seed(20261)
@settings(max_examples=PARQUET_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=parquet_bytes())
def _fuzz_parquet(data):
    path = _DIR / "input.parquet"
    path.write_bytes(data)
    result = _read(path)  # (tracemalloc sees the parent only; the child's memory is limited by rlimit)
    TRIED["parquet"] += 1
    TRIED["parquet_tables"] += isinstance(result, Table)


def test_parquet_reader_gives_a_table_or_a_chainrule_error():
    pytest.importorskip("pyarrow")
    TRIED["parquet"] = TRIED["parquet_tables"] = 0
    _fuzz_parquet()
    print(f"\nParquet fuzz: {TRIED['parquet']} inputs, {TRIED['parquet_tables']} read as tables, the rest refused")
    assert TRIED["parquet"] >= PARQUET_EXAMPLES
