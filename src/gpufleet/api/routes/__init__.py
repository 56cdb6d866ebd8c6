"""The API's routes, one module per resource (plans, what-ifs and sweeps join here as they land)."""
