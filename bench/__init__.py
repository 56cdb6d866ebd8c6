"""gpufleet benchmarks (issue 4): `python -m bench` or `make bench`; results go in docs/benchmarks.md."""
