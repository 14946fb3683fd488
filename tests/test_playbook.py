"""The playbook and the domain agree: every step can be said, every branch reached."""
from __future__ import annotations

import pytest
import yaml

from actions import playbook


@pytest.fixture(scope="module")
def book() -> playbook.Playbook:
    return playbook.load()


def test_every_step_response_exists_in_the_domain(book, domain):
    responses = set(domain["responses"])
    for step in book.steps.values():
        if step.variant == "browser":
            needed = [f"{step.response}_{b}" for b in book.browsers + (playbook.OTHER_BROWSER,)]
        elif step.variant == "platform":
            needed = [step.response] + [f"{step.response}_{p}" for p in book.platform_versions]
        else:
            needed = [step.response]
        needed += [r for r in (step.if_not_needed, step.if_needed, step.waits, step.if_works, step.explains) if r]
        missing = [r for r in needed if r not in responses]
        assert not missing, f"step {step.id} has no response {missing}"


def test_every_branch_is_opened_by_a_domain_intent_or_by_the_words_of_opens_at(book, domain):
    intents = set(domain["intents"])
    assert set(book.branch_for_intent) <= intents
    by_words = {name for name, plan in book.branches.items() if set(plan) & set(book.opens_at)}
    assert by_words == {"forgot_login", "phishing", "phone_scam"}
    assert set(book.branch_for_intent.values()) | by_words == set(book.branches)


def test_guide_sections_are_all_covered(book):
    covered = {sid for plan in book.branches.values() for sid in plan}
    guide = {
        "check_connection", "caps_lock", "reset_password", "check_url",  # basics
        "lock_explained", "lock_verification", "kyc_levels",  # account security
        "twofa_time_sync", "twofa_backup_codes", "twofa_reset_support",  # 2FA
        "clear_cache", "other_browser", "extensions",  # browser
        "official_app", "force_close", "update_app", "reinstall_app",  # app
        "status_page", "downdetector",  # outages
    }
    assert guide <= covered


def test_unknown_step_is_refused():
    raw = {
        "after_address_warning": "also_missing",
        "branch_for_intent": {"browser_issue": "browser"},
        "branches": {"browser": ["no_such_step"]},
        "triage": {"symptom_branch": {}, "general": {"basics": []}},
        "steps": {},
        "browsers": [],
        "phone_platforms": [],
    }
    with pytest.raises(ValueError, match="no_such_step.*|.*also_missing.*no_such_step"):
        playbook.parse(raw)
    with pytest.raises(ValueError, match="unknown step 'also_missing' after an address warning"):
        playbook.parse(raw)


def test_a_misspelt_kind_of_words_is_refused():
    raw = yaml.safe_load(playbook.PLAYBOOK_FILE.read_text(encoding="utf-8"))
    raw["said"]["caps_lock"]["solve"] = ["typo for solved"]
    with pytest.raises(ValueError, match="unknown kind of words 'solve' for step 'caps_lock'"):
        playbook.parse(raw)


@pytest.mark.parametrize(
    "step, text, solved",
    [
        ("find_login_email", "found it in my gmail, thanks", True),
        ("find_login_email", "yes found it", True),
        ("find_login_email", "ok i remember the email now", True),
        ("find_login_email", "it was my old hotmail", True),
        ("find_login_email", "haven't found it anywhere", False),
        ("find_login_email", "i dont remember the email", False),
        ("find_login_email", "searched my inboxes, nothing", False),
        ("extensions", "found it, it was the ad blocker", True),
        ("extensions", "its not the vpn extension, i turned it off", False),
        ("caps_lock", "found it", False),
    ],
)
def test_words_that_say_a_step_found_the_answer(book, step, text, solved):
    assert book.steps[step].said_solved(text) is solved


@pytest.mark.parametrize(
    "symptom, platform, expected",
    [
        ("credentials", None, "credentials"),
        ("browser", "android", "app"),
        ("app", "web", "browser"),
        ("app", "ios", "app"),
        ("none", "web", "general"),
        (None, None, "general"),
    ],
)
def test_triage_routes(book, symptom, platform, expected):
    assert book.branch_for_triage(symptom, platform) == expected


def test_general_plan_checks_basics_first_then_platform_then_2fa(book):
    plan = book.general_plan("android", uses_2fa=True)
    assert plan[:2] == ["check_connection", "caps_lock"] and "check_url" not in plan  # no address bar in the app
    assert plan.index("force_close") < plan.index("twofa_time_sync") < plan.index("status_page")
    web = book.general_plan("web", uses_2fa=False)
    assert web[:3] == ["check_connection", "caps_lock", "check_url"]
    assert "clear_cache" in web and "twofa_time_sync" not in web and "force_close" not in web


def test_a_step_to_do_is_not_a_step_done():
    from actions import playbook

    book = playbook.load()
    assert book.steps_said_done("need to reset my password", list(book.steps)) == []
    assert book.steps_said_done("i am on coinex.com", ["check_url"]) == ["check_url"]
    assert "reset_password" in book.steps_said_done("i reset it yesterday already", ["reset_password"])


@pytest.mark.parametrize("text, method", [
    ("google authenticator on my iphone", "authenticator"),
    ("the codes from authy are wrong", "authenticator"),
    ("my 2fa app shows a different code", "authenticator"),
    ("sms code never arrives", "sms"),
    ("i get the codes by text", "sms"),
    ("the email code takes forever", "email"),
    ("my 2fa code keeps getting rejected", None),  # no way named
    ("i switched from sms to google authenticator", None),  # two named: not guessed
    ("i dont use sms, only the authenticator", "authenticator"),  # a negated way is not the way
])
def test_the_way_of_getting_codes_is_read_from_the_words(book, text, method):
    assert book.twofa_method_named(text) == method


def test_2fa_steps_fit_only_their_way_of_getting_codes(book):
    clock, delivery, backup = (book.steps[s] for s in ("twofa_time_sync", "twofa_code_delivery", "twofa_backup_codes"))
    assert clock.fits("authenticator") and not clock.fits("sms") and not clock.fits("email")
    assert delivery.fits("sms") and delivery.fits("email") and not delivery.fits("authenticator")
    assert all(step.fits(None) for step in (clock, delivery, backup))  # unknown way: every step
    assert backup.fits("sms") and backup.fits("authenticator")


@pytest.mark.parametrize("text, not_needed", [
    ("no i didnt type anything there", True),
    ("nah i didnt enter my password", True),
    ("i never clicked it", True),
    ("I only looked, nothing was entered", True),
    ("i didn't even open the link", True),
    ("i didnt click the link but i typed my password on the page", False),
    ("i didn't know it was fake and entered my password", False),
    ("yes i typed my password there", False),
    ("still can not log in", False),
    ("i never got a code", False),
    ("did i type it in? no idea", False),
])
def test_securing_the_account_is_not_needed_when_nothing_was_given_away(book, text, not_needed):
    assert book.steps["phishing_exposed"].said_not_needed(text) is not_needed


def test_a_step_that_says_when_it_is_not_needed_must_say_what_to_answer():
    raw = {
        "after_address_warning": "s", "branch_for_intent": {}, "branches": {"b": ["s"]},
        "triage": {"symptom_branch": {}, "general": {}}, "browsers": [], "phone_platforms": [],
        "steps": {"s": {"response": "utter_s", "title": "S", "methods": ["pigeon"]}},
        "said": {"s": {"not_needed": ["nope"]}},
    }
    with pytest.raises(ValueError, match="unknown 2FA method 'pigeon'.*no if_not_needed|no if_not_needed.*pigeon"):
        playbook.parse(raw)


@pytest.mark.parametrize("text, platform", [
    ("in the app", "phone"), ("the mobile app", "phone"), ("on my phone", "phone"), ("en el movil", "phone"),
    ("desde el celular", "phone"), ("website", "web"), ("on my laptop", "web"), ("en la página web", "web"),
    ("the web app", None), ("nothing", None), ("dunno", None),
    ("wait no, its the app not the website", "phone"), ("actually the website, not the app", "web"),
    ("i use the app instead of the site", "phone"), ("cant log in on the website", "web"),
])
def test_the_platform_is_read_from_the_words_of_an_answer(book, text, platform):
    assert book.platform_named(text) == platform


def test_a_phone_of_unknown_system_gets_the_wording_for_any_phone(book):
    step = book.steps["twofa_time_sync"]
    assert book.response_for(step, None, playbook.UNKNOWN_PHONE) == step.response
    assert book.response_for(step, None, "ios") == f"{step.response}_ios"
    assert book.branch_for_triage("browser", playbook.UNKNOWN_PHONE) == "app"
    assert "force_close" in book.general_plan(playbook.UNKNOWN_PHONE, False)


@pytest.mark.parametrize("text, named", [
    ("the email never arrives", ["reset_not_arriving"]), ("i never got the reset email", ["reset_not_arriving"]),
    ("didnt get any sms", ["reset_not_arriving"]), ("i got the email", []), ("it says wrong password", []),
])
def test_the_problem_a_later_step_is_for_is_recognised(book, text, named):
    assert book.steps_named(text, ["reset_not_arriving", "check_url"]) == named


def test_moves_on_names_known_steps_and_branches(book):
    assert book.moves_on["reset_password"] == frozenset({"credentials"})
    with pytest.raises(ValueError, match="unknown step 'nowhere' in moves_on"):
        playbook.parse({**yaml.safe_load(playbook.PLAYBOOK_FILE.read_text()), "moves_on": {"nowhere": ["credentials"]}})


def test_a_step_of_a_joined_branch_said_done_brings_its_other_steps_in_after_the_step_on_screen(book):
    plan = book.plan_for_branch("connection")
    joined = book.joined_plan("connection", plan, 0, "already cleared cache and cookies")
    assert joined == ["check_connection", "clear_cache", "other_browser", "extensions", "status_page", "downdetector"]
    assert book.joined_plan("connection", plan, 0, "no, still nothing") == plan
    assert book.joined_plan("credentials", book.plan_for_branch("credentials"), 0, "cleared the cache") == \
        book.plan_for_branch("credentials")


@pytest.mark.parametrize("text, branch", [
    ("my account got hacked", "phishing"), ("someone logged into my account, it wasnt me", "phishing"),
    ("my usdt is gone from the account", "phishing"), ("my account is locked", None),
    ("the email never arrives", None), ("i forgot my password", None),
])
def test_a_problem_named_anywhere_opens_the_branch_of_its_step(book, text, branch):
    assert book.branch_naming(text) == branch


def test_opens_at_needs_a_step_with_words_for_its_problem(book):
    raw = yaml.safe_load(playbook.PLAYBOOK_FILE.read_text())
    with pytest.raises(ValueError, match="opens_at"):
        playbook.parse({**raw, "opens_at": ["caps_lock"]})


@pytest.mark.parametrize("text", ["i have 5g and wifi both tried", "tried both wifi and mobile data"])
def test_both_networks_tried_is_the_connection_step_done(book, text):
    assert book.steps_said_done(text, ["check_connection"]) == ["check_connection"]


def test_every_branch_opened_by_an_intent_maps_back_to_it(book):
    for intent, branch in book.branch_for_intent.items():
        assert book.intent_for(branch) == intent
    assert book.intent_for("general") is None


@pytest.mark.parametrize("text, stated", [
    ("can't log in on the app, wrong password, but I just reset it yesterday", True),
    ("don't know, it just spins", True), ("isn't working", True), ("can t log in", True),
    ("is www.coinex.com the real site", False), ("can i reset it", False), ("do i need a passport", False),
    ("did that help?", False),
])
def test_a_question_word_with_nt_starts_a_statement_not_a_question(text, stated):
    assert bool(playbook.statements(text)) is stated


def test_the_app_gets_its_own_check_instead_of_the_address_bar(book):
    credentials = book.plan_for_branch("credentials")
    assert "check_url" in credentials
    on_app = book.plan_on("credentials", credentials, "ios")
    assert "check_url" not in on_app and on_app.index("official_app") == credentials.index("check_url")
    assert book.plan_on("credentials", credentials, "web") == credentials
    assert book.plan_on("credentials", credentials, None) == credentials
    # A link is checked wherever it was sent: the phishing branch keeps the address check.
    assert book.plan_on("phishing", book.plan_for_branch("phishing"), "android") == book.plan_for_branch("phishing")
    # Steps before ``start`` (already shown) stay as they were; none is brought in twice.
    assert book.plan_on("credentials", ["check_url", "official_app"], "phone", 1) == ["check_url", "official_app"]


def test_the_connection_branch_goes_on_with_the_setup_of_the_platform(book):
    assert book.going_on("connection", "web") == ("browser", "utter_goes_on_browser")
    assert book.going_on("connection", "android") == ("app", "utter_goes_on_app")
    assert book.going_on("connection", "phone") == ("app", "utter_goes_on_app")
    assert book.going_on("connection", None) is None
    assert book.going_on("credentials", "web") is None


def test_goes_on_and_on_phone_steps_must_name_known_things():
    raw = {
        "after_address_warning": "a",
        "branch_for_intent": {},
        "branches": {"one": ["a"]},
        "on_phone_steps": {"one": {"a": "missing_step"}},
        "goes_on": {"one": {"tablet": {"branch": "nowhere", "says": "utter_x"}}},
        "triage": {"symptom_branch": {}, "general": {"basics": []}},
        "steps": {"a": {"response": "utter_a", "title": "A"}},
        "browsers": [],
        "phone_platforms": ["phone"],
    }
    with pytest.raises(ValueError) as refused:
        playbook.parse(raw)
    assert "unknown step 'missing_step' in on_phone_steps" in str(refused.value)
    assert "goes_on of 'one' names 'tablet', not web or phone" in str(refused.value)
    assert "unknown branch 'nowhere'" in str(refused.value)


@pytest.mark.parametrize("text, ruled_out", [
    ("private window also blank", True),
    ("tried incognito too, same", True),
    ("same in firefox", False),
    ("incognito works, normal chrome window still doesnt", False),
    ("same in incognito", True),
])
def test_a_failing_private_window_rules_extensions_out(book, text, ruled_out):
    assert book.steps["extensions"].said_ruled_out(text) is ruled_out


@pytest.mark.parametrize("text, taken_up", [
    ("i signed up with my phone maybe", True),
    ("maybe it was my work email", True),
    ("i didn't sign up with my phone", False),
    ("no email from coinex anywhere", False),
])
def test_taking_up_what_the_step_suggests(book, text, taken_up):
    assert book.steps["find_login_email"].said_taken_up(text) is taken_up


@pytest.mark.parametrize("text, branch", [
    ("got a text saying my account is locked and to call +1 800 555 0199", "phone_scam"),
    ("sms says call this number to unlock", "phone_scam"),
    ("someone called me from coinex support asking for my code", "phone_scam"),
    ("call me at +44 7700 900123 please", None),
    ("my number is +44 7700 900123, call me", None),
    ("the app says my account is locked, contact support", None),
    ("i called support yesterday", None),
])
def test_a_call_about_the_account_is_named_as_a_scam_by_phone(book, text, branch):
    assert book.branch_naming(text) == branch
