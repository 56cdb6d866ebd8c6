"""Generated requests against every route (methods, path segments, bodies, media types, query values):
never a 5xx, and every error is a problem document. Beside test_schemathesis.py (which follows the
OpenAPI document), this also reaches what the document leaves out: the dashboard's pages and files,
methods a route lacks, and bodies of any media type."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.conftest import AUTH, MakeClient

ROUTES = [
    "/v1/scenarios/validate",
    "/v1/runs",
    "/v1/runs/{x}",
    "/v1/runs/{x}/tables/{y}",
    "/v1/runs/{x}/report",
    "/v1/catalog/{x}",
    "/v1/estimate/training",
    "/v1/deal",
    "/health",
    "/ui/runs/{x}",
    "/static/{x}",
]
segment = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/?#%"), min_size=1, max_size=12
)
scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
KEYS = ["params", "tokens", "accelerator", "gpus", "mfu", "product", "years", "amount_usd", "prices", "pue",
        "checkpoint", "name", "horizon", "x"]  # fmt: skip
json_body = st.dictionaries(
    st.sampled_from(KEYS), st.one_of(scalar, st.lists(scalar, max_size=3)), max_size=8
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes, dict[str, str]]:
    route = draw(st.sampled_from(ROUTES))
    path = route.replace("{x}", draw(segment)).replace("{y}", draw(segment))
    method = draw(st.sampled_from(["GET", "POST", "DELETE", "PUT"]))
    kind = draw(st.sampled_from(["application/json", "application/yaml", "text/plain", "image/png"]))
    if kind == "application/json":
        import json

        body = json.dumps(draw(json_body)).encode()
    else:
        body = draw(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
    query = draw(
        st.dictionaries(st.sampled_from(["offset", "limit", "seed"]), st.text(max_size=6), max_size=2)
    )
    return method, path, {"Content-Type": kind}, body, query


def test_generated_requests_never_get_a_5xx(make_client: MakeClient) -> None:
    client = make_client(workers=1, queue=0)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(requests())
    def check(req: tuple[str, str, dict[str, str], bytes, dict[str, str]]) -> None:
        method, path, headers, body, query = req
        r = client.request(method, path, headers=AUTH | headers, content=body, params=query)
        assert r.status_code < 500, (method, path, r.status_code, r.text[:300])
        if r.status_code >= 400:
            assert r.headers["content-type"].startswith("application/problem+json"), r.text[:200]
            assert r.json()["status"] == r.status_code

    check()
