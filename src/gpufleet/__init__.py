"""gpufleet: plan, simulate and account a multi-cloud AI compute fleet from one scenario file."""

from importlib.metadata import PackageNotFoundError, version

from gpufleet import native

native.choose()  # compiled engine modules, or pure Python (GPUFLEET_PURE_PYTHON=1, or a stale build)

try:
    __version__ = version("gpufleet")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
