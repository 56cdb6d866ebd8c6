"""The OpenAPI document: the scenario body that the scenario routes read raw, the bearer scheme, and what
a path's run, plan or sweep id may be.

The scenario routes read their body themselves (YAML or JSON, so that errors name the line), which
FastAPI cannot see; `SCENARIO_BODY` declares it on them, and `install_openapi` adds the scenario's
JSON schema to the document's components, so clients (and schemathesis) know what to send.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

SCHEME = "bearer"
# path parameters that name a stored thing, read by routes/common.py resolve_id
ID_PARAMS = {"run_id": "run", "other": "run", "plan_id": "plan", "sweep_id": "sweep"}
ID_FORMS = (
    "its full id, a unique prefix of it, or `latest` (the newest), as the CLI takes them. None named: 404 "
    "with the close ids in `close`; a prefix of several: 422 with them in `candidates`."
)
_REF = "#/components/schemas/{model}"
_SCENARIO = {"$ref": _REF.format(model="Scenario")}

SCENARIO_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A scenario (docs/scenario.md) in YAML or JSON; problems are answered 422 with "
        "their line and field.",
        "content": {
            "application/yaml": {"schema": _SCENARIO},
            "application/json": {"schema": _SCENARIO},
            "text/plain": {"schema": {"type": "string", "description": "the scenario's YAML text"}},
        },
    }
}


def _scenario_schemas() -> dict[str, Any]:
    """The scenario's JSON schema and every model it refers to, as OpenAPI components."""
    from gpufleet.scenario.schema import Scenario

    schema = Scenario.model_json_schema(ref_template=_REF)
    defs: dict[str, Any] = schema.pop("$defs", {})
    return defs | {"Scenario": schema}


def install_openapi(app: FastAPI, protected: tuple[str, ...]) -> None:
    """Build the document once, on first ask: routes, the scenario's components and, on every path
    under `protected`, the bearer scheme the guards ask for."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            components = doc.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            for name, schema in _scenario_schemas().items():
                if schemas.setdefault(name, schema) != schema:
                    raise RuntimeError(f"two models named {name} in the OpenAPI document")
            components["securitySchemes"] = {SCHEME: {"type": "http", "scheme": "bearer"}}
            for path, operations in doc.get("paths", {}).items():
                for op in operations.values():
                    for param in op.get("parameters", []):
                        kind = ID_PARAMS.get(param["name"]) if param.get("in") == "path" else None
                        if kind is not None:
                            param["description"] = f"A stored {kind}: {ID_FORMS}"
                if path.startswith(protected):
                    for op in operations.values():
                        op["security"] = [{SCHEME: []}]
                        op.setdefault("responses", {}).setdefault(
                            "401", {"description": "No bearer token, or a wrong one (problem details)."}
                        )
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
