"""Sign-in in a real browser: the login page, the dashboard behind it, and signing out."""
from __future__ import annotations

import pytest

from moviedash.auth.store import Store
from tests.browser.conftest import VIEWPORTS, Page, axe_violations, set_viewport

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def alice(page: Page) -> str:
    """User alice, added to this module's database while its server runs: sign-in turns on at once."""
    with Store.open(str(page.db)) as store:
        return store.add_user("alice", PASSWORD)


def current_path(page: Page) -> str:
    return page.duo.driver.execute_script("return window.location.pathname + window.location.search")


def fill_in(page: Page, name: str, password: str) -> None:
    page.duo.wait_for_element("#username").send_keys(name)
    page.duo.find_element("#password").send_keys(password)
    page.duo.find_element("#signin-submit").click()


def test_sign_in_see_the_dashboard_and_sign_out(page: Page, alice: str) -> None:
    duo = page.duo
    driver = duo.driver
    driver.delete_all_cookies()
    driver.get(f"{duo.server_url}/?users=weekly")
    page.wait(lambda: current_path(page) == "/login?next=%2F%3Fusers%3Dweekly", "redirected to the login page")
    assert driver.title == "Sign in · moviedash"
    assert driver.execute_script("return document.documentElement.lang") == "en"
    # The dashboard's stylesheet applies: the card has its surface colour and rounded corners.
    assert driver.execute_script(
        "return getComputedStyle(document.querySelector('.signin-card')).borderRadius") == "12px"
    page.log.clear()

    fill_in(page, "alice", "wrong password")
    page.wait(lambda: duo.find_element("#signin-message").text == "Wrong user name or password.", "refused")
    assert "/login" in current_path(page)

    duo.find_element("#password").clear()
    duo.find_element("#username").clear()
    duo.reset_log_timestamp()  # the console reported the refused sign-in's 401, as it should
    assert page.log.count("") == 0  # no callback ran before signing in
    fill_in(page, alice, PASSWORD)
    page.wait(lambda: current_path(page) == "/?users=weekly", "back on the view asked for")
    page.wait(lambda: page.figure("users-graph") is not None, "the users chart drawn")
    page.wait(lambda: "alice" in duo.find_element("#account-name").text, "who is signed in")
    assert duo.find_element("#account-name").text == "Signed in as alice"
    assert duo.get_logs() == []

    duo.find_element("#sign-out").click()
    page.wait(lambda: current_path(page) == "/login", "signed out, on the login page")
    driver.get(f"{duo.server_url}/")
    page.wait(lambda: current_path(page) == "/login", "the dashboard needs signing in again")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_login_page_has_no_axe_violations(page: Page, alice: str, theme: str) -> None:
    """The login page passes axe-core at desktop and phone sizes, fresh and after a refused sign-in.

    The page itself is always light; "dark" applies the dashboard's dark palette
    (``data-theme``) so its colours are held to the same contrast rules.
    """
    duo = page.duo
    driver = duo.driver
    driver.delete_all_cookies()
    for viewport in VIEWPORTS:
        set_viewport(driver, viewport)
        try:
            for refused in (False, True):
                driver.get(f"{duo.server_url}/login")
                duo.wait_for_element("#username")
                if refused:
                    # A name of its own each time: the per-name limit of failed sign-ins stays untouched.
                    fill_in(page, f"nobody-{theme}-{viewport}", "wrong password")
                    page.wait(lambda: page.count("#signin-message") == 1, "refused")
                driver.execute_script("document.documentElement.setAttribute('data-theme', arguments[0])", theme)
                violations = axe_violations(driver)
                assert [f"{v['id']}: {n['target']}" for v in violations for n in v["nodes"]] == [], (viewport, refused)
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
