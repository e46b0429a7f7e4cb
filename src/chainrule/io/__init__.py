"""Files: model files (architecture JSON + safetensors weights) and plain state files. No pickle anywhere."""

from .files import read_safetensors, write_atomic, write_safetensors
from .model_file import load, load_state, read_model_file, save, save_state

__all__ = ["load", "load_state", "read_model_file", "read_safetensors", "save", "save_state", "write_atomic",
           "write_safetensors"]
