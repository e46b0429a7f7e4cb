"""Reading and writing safetensors files safely.

A safetensors file is an 8-byte little-endian header length, a JSON header (dtype,
shape and byte range of every tensor, plus string metadata) and the raw bytes. It
holds only numbers and text, so reading one can never run code. Before handing a file
to the ``safetensors`` library we check everything its header claims against the
file itself, so a truncated, corrupted or foreign file fails with a one-line
``ModelFileError`` and never makes us allocate what the header merely claims.
"""

import io
import json
import math
import os
import struct
import tempfile
from pathlib import Path

import numpy as np

from ..errors import ModelFileError

_DTYPES = {"F16": 2, "F32": 4, "F64": 8, "I8": 1, "U8": 1, "I16": 2, "U16": 2, "I32": 4, "U32": 4,
           "I64": 8, "U64": 8, "BOOL": 1}
_MAX_HEADER = 100 * 2**20  # a header larger than 100 MB is not a real one
_LAYOUT = "a safetensors file starts with an 8-byte little-endian header length followed by '{'"


def write_atomic(path, data):
    """Write ``data`` (bytes) to ``path`` atomically: a temporary file in the same folder, then a rename.

    A crash mid-write leaves the previous file intact. ``path`` may also be an open binary file
    (``with open("w.pt", "wb") as f: cr.save(sd, f)``, an ``io.BytesIO``): the bytes are written to
    it in one call, and its owner decides where it lives.
    """
    if hasattr(path, "write"):
        try:
            path.write(data)
        except (OSError, TypeError, ValueError) as e:  # (TypeError: a text file; ValueError: a closed one)
            raise ModelFileError(f"cannot write to {_file_name(path)}: {e} (open it in binary mode, 'wb')") from None
        return
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ModelFileError(f"cannot write {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def write_safetensors(path, arrays, metadata=None):
    """Write a dict of name -> NumPy array as a safetensors file (atomically)."""
    from safetensors.numpy import save

    clean = {k: np.require(v, requirements="C") for k, v in arrays.items()}  # (keeps 0-d arrays 0-d)
    write_atomic(path, save(clean, metadata=metadata))


_CONVERT = ("convert it in PyTorch with `safetensors.torch.save_file(model.state_dict(), \"w.safetensors\")` "
            "and load that file")


def _foreign(head):
    if head[:1] == b"\x80" or head[:2] in (b"cc", b"c_"):
        return ("it is a Python pickle (a PyTorch file from an old torch.save?), which chainrule never loads "
                f"(unpickling can run arbitrary code): {_CONVERT}")
    if head[:2] == b"PK":
        return ("it is a zip archive (a PyTorch .pt/.pth file from torch.save?) holding a pickle, which chainrule "
                f"never loads (unpickling can run arbitrary code): {_CONVERT}")
    if head[:4] == b"\x93NUM":
        return "it is a NumPy .npy file, not a safetensors file"
    text = head[3:] if head[:3] == b"\xef\xbb\xbf" else head  # (a UTF-8 byte-order mark)
    if text and all(32 <= b < 127 or b in b"\t\r\n" for b in text):
        # a real header length this large (>= 0x0909090909090909) is refused anyway: this is text
        return ("it is a text file (a CSV or JSON file?), while a model file is binary safetensors written by"
                f" `chainrule train` or cr.save ({_LAYOUT})")
    return None


def read_safetensors(path):
    """Read a safetensors file: returns (dict of name -> NumPy array, metadata dict).

    ``path`` may also be an open binary file (read from where it stands to its end). Raises
    ModelFileError with a one-line reason for anything that is not a sound safetensors file.
    """
    if hasattr(path, "read"):
        if isinstance(path, io.TextIOBase):
            raise ModelFileError(f"{_file_name(path)}: opened in text mode; open it in binary mode ('rb')")
        try:
            data = path.read()
        except (OSError, ValueError) as e:  # (ValueError: a closed file)
            raise ModelFileError(f"cannot read {_file_name(path)}: {e}") from None
        return _parse(bytes(data), _file_name(path))
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a folder, not a file") from None
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read: {e.strerror}") from None
    return _parse(data, path)


def _file_name(f):
    """How a message names an open file: its path where it has one."""
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else f"the {type(f).__name__}"


def _parse(data, path):
    size = len(data)

    def refuse(reason):
        # a file that is not sound safetensors may still be recognisable: say what it is
        why = _foreign(data[:8])
        return ModelFileError(f"{path}: not a chainrule model file: {why}" if why else f"{path}: {reason}")

    if size < 8:
        raise refuse(f"not a model file: only {size} bytes (truncated?)")
    if data[8:9] != b"{" and (data[:4] == b"PK\x03\x04" or data[:1] == b"\x80"):
        # a zip archive or a pickle (a PyTorch file) by its magic bytes: refused before anything is parsed
        raise refuse("not a chainrule model file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER or n > size - 8:
        if data[8:9] != b"{":  # not even the start of a safetensors file (a CSV file, ...): say what one looks like
            raise refuse(f"not a chainrule model file: {_LAYOUT}, this one starts with {data[:9]!r}")
        raise refuse(f"corrupted or truncated: the header claims {n} bytes but the file holds {size}")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (ValueError, RecursionError):  # (bad UTF-8 or JSON, or a number of more than 4300 digits)
        raise refuse("not a model file: its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise refuse("not a model file: its header is not a JSON object")
    body = size - 8 - n
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError(f"{path}: corrupted: its metadata is not a map of strings")
    for name, info in header.items():
        try:
            dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
            ok = (
                dtype in _DTYPES
                and isinstance(shape, list)
                and all(type(d) is int and d >= 0 for d in shape)
                and isinstance(begin, int)
                and isinstance(end, int)
                and 0 <= begin <= end <= body
                and end - begin == math.prod(shape) * _DTYPES[dtype]
            )
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            if isinstance(info, dict) and info.get("dtype") == "BF16":
                raise ModelFileError(f"{path}: tensor {name!r} is bfloat16, which NumPy (and so chainrule) cannot hold")
            raise ModelFileError(f"{path}: corrupted or truncated: tensor {name!r} has an invalid entry {info!r}"[:300])
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        arrays = load(data)
    except (SafetensorError, ValueError, TypeError) as e:
        raise ModelFileError(f"{path}: corrupted: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    return arrays, metadata
