"""The API and the web chat in headless Chromium: a page on another site cannot plant a document, the web chat's own
page can upload, the web chat behind a token opens with the login form, and /docs renders with the network off."""

from __future__ import annotations

import http.server
import threading
from urllib.parse import urlparse

import httpx
import pytest
from test_api import live_server
from test_api_safety import MOON, doc_ids
from test_ui_browser import chromium  # noqa: F401 (the fixture)

from assistant.api import create_app

pytestmark = pytest.mark.browser
TIMEOUT = 60_000


@pytest.fixture
def context(chromium):  # noqa: F811
    """A browser context whose requests never leave the machine: anything but loopback is aborted."""
    context = chromium.new_context()
    context.outside = []

    def only_loopback(route):
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            return route.continue_()
        context.outside.append(route.request.url)
        return route.abort()

    context.route("**/*", only_loopback)
    yield context
    context.close()


@pytest.fixture
def evil_site():
    """Another site on this machine (http://localhost:PORT, not 127.0.0.1) serving an empty page."""
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<!doctype html><title>cat pictures</title>")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()


UPLOAD_JS = """async ([url, name, text, headers, mode]) => {
    const form = new FormData();
    form.append("file", new Blob([text], {type: "text/markdown"}), name);
    try {
        const got = await fetch(url, {method: "POST", body: form, headers, mode});
        return got.type === "opaque" ? "opaque" : got.status;
    } catch (e) { return "blocked: " + e; }
}"""


def test_a_page_on_another_site_cannot_plant_a_document_but_the_web_chat_can_upload(context, evil_site,
                                                                                   small_assistant):
    with live_server(create_app(assistant=small_assistant)) as base:
        page = context.new_page()
        page.goto(evil_site)
        # The attack: a no-cors multipart POST needs no preflight; the browser sends it with the evil Origin.
        page.evaluate(UPLOAD_JS, [f"{base}/v1/documents", "planted.md", MOON.decode(), {}, "no-cors"])
        # With the custom header the browser must ask first, and the preflight is refused.
        preflighted = page.evaluate(UPLOAD_JS, [f"{base}/v1/documents", "planted.md", MOON.decode(),
                                                {"X-Requested-With": "x"}, "cors"])
        assert str(preflighted).startswith("blocked")
        assert "planted" not in doc_ids(base)

        page.goto(base)  # the web chat itself
        page.locator("#question textarea").wait_for(timeout=TIMEOUT)
        status = page.evaluate(UPLOAD_JS, ["/v1/documents", "dust.md", MOON.decode(), {"X-Requested-With": "web-chat"},
                                           "same-origin"])
        assert status == 201 and "dust" in doc_ids(base)
    assert context.outside == []


def test_web_chat_behind_a_token_opens_with_the_login_form(context, small_settings, small_assistant):
    from playwright.sync_api import expect

    settings = small_settings.model_copy(update={"api_token": "s3cret-token"})
    with live_server(create_app(settings, small_assistant)) as base:
        assert httpx.get(f"{base}/v1/documents").status_code == 401
        assert httpx.get(f"{base}/", headers={"Accept": "text/html"}).headers["location"] == "/login"
        page = context.new_page()
        page.goto(base)
        expect(page).to_have_url(f"{base}/login")
        page.fill("#password", "wrong")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong password.")
        page.fill("#password", "s3cret-token")
        page.get_by_role("button", name="Sign in").click()
        box = page.locator("#question textarea")
        box.fill("Which treaty forbids national appropriation of outer space?")
        box.press("Enter")
        expect(page.locator("#chat a", has_text="[1]").first).to_be_visible(timeout=TIMEOUT)
        expect(page.locator("#chat [data-testid='bot']").last).to_contain_text("Outer Space Treaty")
        cookie = next(c for c in context.cookies() if c["name"] == "sga_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert httpx.get(f"{base}/v1/documents", cookies={"sga_session": cookie["value"]}).status_code == 401
    assert context.outside == []


def test_docs_render_with_the_network_off(context, small_assistant):
    from playwright.sync_api import expect

    with live_server(create_app(assistant=small_assistant, ui=False)) as base:
        page = context.new_page()
        page.goto(f"{base}/docs")
        expect(page.locator(".swagger-ui .opblock-summary-path", has_text="/v1/chat/completions")).to_be_visible(
            timeout=TIMEOUT)
        expect(page.locator(".swagger-ui .title")).to_contain_text("Space-governance assistant API")
    assert context.outside == []
