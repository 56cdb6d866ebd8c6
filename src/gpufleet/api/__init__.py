"""The HTTP edge: `gpufleet serve`'s FastAPI app (API under /v1, the dashboard under /) over the store.

Import `create_app` from gpufleet.api.app: this package itself imports nothing heavy, so the CLI can
say which extra is missing before FastAPI is ever imported.
"""
