"""The API's routes, one module per resource, each router listed in app.py ROUTERS."""
