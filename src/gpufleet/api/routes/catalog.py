"""`GET /v1/catalog/{accelerators|products|prices}`: the built-in catalog with each figure's sources."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from gpufleet.api.problems import ApiError

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])
KINDS = ("accelerators", "products", "prices")


@router.get("/{kind}")
def catalog(
    kind: str = Path(
        description="Which part of the catalog (another name is 404).",
        json_schema_extra={"enum": list(KINDS)},
    ),
) -> list[dict[str, Any]]:
    from gpufleet.catalog import load_builtin_catalog

    if kind not in KINDS:
        raise ApiError(404, f"no catalog {kind!r}; expected one of {', '.join(KINDS)}")
    cat = load_builtin_catalog()

    def src(sources: list[str]) -> dict[str, Any]:
        return {"source_text": [cat.sources.get(s, s) for s in sources]}

    if kind == "accelerators":
        return [a.model_dump(mode="json") | src(a.sources) for a in cat.accelerators.values()]
    if kind == "products":
        return [
            p.model_dump(mode="json") | {"gpus_per_domain": p.gpus_per_domain} | src(p.sources)
            for p in cat.products.values()
        ]
    return [p.model_dump(mode="json") | src(p.sources) for p in cat.prices]
