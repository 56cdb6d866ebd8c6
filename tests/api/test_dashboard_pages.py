"""Every dashboard page is the one shell (head, header, token form, script) around its own fragment,
served without the token (the pages hold no data) and naming only local assets."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

PAGES = {  # path -> (data-page, an element only that page's fragment holds)
    "/": ("runs", 'id="scenario-form"'),
    "/ui/runs/r1": ("run", 'id="findings"'),
    "/ui/compare/r1/r2": ("compare", 'title="comparison of two runs"'),
    "/ui/plans": ("plans", 'id="plans"'),
    "/ui/plans/plan-1": ("plan", 'id="shadow"'),
    "/ui/sweeps": ("sweeps", 'id="sweeps"'),
    "/ui/sweeps/sw-1": ("sweep", 'id="quantiles"'),
}


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_is_the_shared_shell_around_its_fragment(client: TestClient, path: str) -> None:
    r = client.get(path)  # no token
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page, marker = PAGES[path]
    text = r.text
    assert text.count("<head>") == 1 and text.count('<script src="/static/dashboard.js">') == 1
    assert f'<body data-page="{page}">' in text and marker in text
    assert 'href="/ui/plans"' in text and 'href="/ui/sweeps"' in text  # every page links the others
    assert "$" + "main" not in text and "$" + "title" not in text  # the template filled in
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing from outside


def test_the_script_knows_every_page(client: TestClient) -> None:
    script = client.get("/static/dashboard.js").text
    for page, _ in PAGES.values():
        assert re.search(rf"\b{page}: \w+Page\b", script), page
