"""The diagnosis as data: branches, their ordered steps and the triage plan.

Everything here is read from ``playbook.yml`` so that support leads can reorder
or add steps without touching the dialogue code; the actions only walk a plan.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Pattern, Tuple

import yaml

from loginhelp.negation import denied_at

PLAYBOOK_FILE = Path(__file__).with_name("playbook.yml")
GENERAL_BRANCH = "general"
# The platform of a customer on the website (any browser, phone or computer).
WEB = "web"
OTHER_BROWSER = "other"
# A phone whose system is not known: the steps' wording for any phone.
UNKNOWN_PHONE = "phone"
# A clause with one of these words does not say a step was done.
_NEGATION = re.compile(r"\b(not|never|no|don.?t|doesn.?t|didn.?t|haven.?t|hasn.?t|can.?t|cannot|won.?t|without)\b")
# A clause that says a way of getting 2FA codes is not the customer's.
_NOT_USED = re.compile(r"\b(don.?t|do not|doesn.?t|never|not|no longer|stopped)\s+(use|using|have|had|get|got|with)\b")
# Punctuation ends a clause only before a space or the end ("coinex.com" is one word).
# A question run on without punctuation starts a clause too ("forgot it how do i reset it").
_CLAUSES = re.compile(r"[.;!?]+(?=\s|$)|\n+|,\s*|\s+(?:and|but|so|though|although)\s+"
                      r"|\s+(?=(?:how|what|where|why)\s+(?:do|does|can|could|should|would|to)\b)")
# A question says nothing is done: "is www.coinex.com the real site?"
# "Oh no," in front of a clause is dismay, not a negation of what follows.
_DISMAY = re.compile(r"^\W*(?:oh\s+)?(?:no+|god|damn|shit|crap|dang)\b[\s,.!]*(?=\w)")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
# "can't log in, ..." and "don't know why" are statements: a question word followed by n't is not one.
_QUESTION = re.compile(r"^\s*(is|are|am|do|does|did|can|could|should|would|will|how|what|where|which|why|who)\b"
                       r"(?!\s?n?['’]?t\b)|\?\s*$")


def statements(text: str) -> List[str]:
    """The sentences of ``text`` (lower case) that are not questions: only they say what happened."""
    return [t for t in _SENTENCES.split(text.lower()) if t.strip() and not _QUESTION.search(t)]


def stated_clauses(text: str) -> List[str]:
    """The clauses of the statements of ``text``: each says one thing that happened."""
    return [c for t in statements(text) for c in _CLAUSES.split(t) if c.strip() and not _QUESTION.search(c)]


@dataclass(frozen=True)
class Step:
    """One thing the customer is asked to try."""

    id: str
    response: str
    title: str
    variant: Optional[str] = None  # "browser" or "platform"
    check_clock: bool = False  # compare the widget's clock with ours (2FA time sync)
    checks_status: bool = False  # the assistant reads the status page itself (STATUS_PAGE_URL)
    # The step is to go to support: it is followed by the ticket offer, so it ends its plans.
    hands_over: bool = False
    # The step's advice may be to wait (an outage, a lock): "ok, I'll wait" closes the case
    # politely with this response.
    waits: Optional[str] = None
    # A browser named at this step is the other one it asks to try, not the customer's own:
    # the step is not explained again for it.
    names_other_browser: bool = False
    # The ways of getting 2FA codes the step fits (empty: every way).
    methods: FrozenSet[str] = frozenset()
    # Said when the customer's words make the step pointless; the case then closes.
    if_not_needed: Optional[str] = None
    #: The response when the customer says the step concerns them ("I typed my password there").
    if_needed: Optional[str] = None
    #: Said instead of the usual "glad you're back in" when the step works: its success
    #: also tells where the cause is ("works in incognito": an extension of the usual browser).
    if_works: Optional[str] = None
    #: How the step is listed as tried when the customer could not do it ("Has no 2FA backup codes").
    unavailable_title: Optional[str] = None
    #: Said when the customer asks what the step means ("what backup codes?"), instead of the step again.
    explains: Optional[str] = None
    done: Tuple[Pattern, ...] = field(default=(), compare=False)
    unavailable: Tuple[Pattern, ...] = field(default=(), compare=False)
    not_needed: Tuple[Pattern, ...] = field(default=(), compare=False)
    needed: Tuple[Pattern, ...] = field(default=(), compare=False)
    # How the customer names the problem the step is for ("the reset email never came").
    about: Tuple[Pattern, ...] = field(default=(), compare=False)
    # How the customer says this step found the answer ("found it in my gmail"), in
    # words that mean nothing to other steps.
    solved: Tuple[Pattern, ...] = field(default=(), compare=False)
    # How a customer takes up what the step suggests, untried yet ("maybe i signed up with my phone").
    takes_up: Tuple[Pattern, ...] = field(default=(), compare=False)
    # How a customer rules the step out while saying an earlier one failed ("private window also blank").
    ruled_out: Tuple[Pattern, ...] = field(default=(), compare=False)

    def said_done(self, clause: str) -> bool:
        """Whether ``clause`` (lower case) says this step was done or cannot be done."""
        if any(p.search(clause) for p in self.unavailable):
            return True
        return not _NEGATION.search(clause) and any(p.search(clause) for p in self.done)

    def title_for(self, text: str) -> str:
        """How the step is listed as tried: ``unavailable_title`` when ``text`` says it
        could not be done ("I don't have backup codes" is not "Tried the backup codes")."""
        if self.unavailable_title and any(p.search(c) for c in stated_clauses(text) + [text.lower()]
                                          for p in self.unavailable):
            return self.unavailable_title
        return self.title

    def said_ruled_out(self, text: str) -> bool:
        """Whether a clause of ``text`` rules the step out ("private window also blank")."""
        return any(p.search(c) for c in _CLAUSES.split(text.lower()) if c.strip() for p in self.ruled_out)

    def listed_in(self, tried: List[str]) -> bool:
        """Whether ``tried`` lists the step, as done or as impossible."""
        return self.title in tried or (self.unavailable_title is not None and self.unavailable_title in tried)

    def said_solved(self, text: str) -> bool:
        """Whether a clause of ``text`` says this step found the answer, without a negation."""
        return any(p.search(c) for c in stated_clauses(text) if not _NEGATION.search(c) for p in self.solved)

    def said_taken_up(self, text: str) -> bool:
        """Whether ``text`` takes up what the step suggests, without saying it was tried."""
        return any(p.search(c) for c in stated_clauses(text) if not _NEGATION.search(c) for p in self.takes_up)

    def fits(self, method: Optional[str]) -> bool:
        """Whether the step fits the customer's way of getting 2FA codes (unknown fits all)."""
        return not method or not self.methods or method in self.methods

    def said_not_needed(self, text: str) -> bool:
        """Whether ``text`` says the step does not concern the customer ("I didn't type
        anything there"), and no clause of it says the opposite."""
        clauses = stated_clauses(text)
        if not any(p.search(c) for c in clauses for p in self.not_needed):
            return False
        return not self.said_needed(text)

    def said_needed(self, text: str) -> bool:
        """Whether ``text`` says the step concerns the customer ("oh no, I entered my password on it")."""
        clauses = [_DISMAY.sub("", c) for c in stated_clauses(text)]
        return any(p.search(c) for c in clauses if not _NEGATION.search(c) for p in self.needed)


@dataclass(frozen=True)
class Playbook:
    #: The step shown after a warning about an address (what to do if details were typed there).
    after_address_warning: str
    branch_for_intent: Dict[str, str]
    branches: Dict[str, Tuple[str, ...]]
    related: Dict[str, FrozenSet[str]]
    symptom_branch: Dict[str, str]
    on_phone: Dict[str, str]
    on_web: Dict[str, str]
    general: Dict[str, Tuple[str, ...]]
    steps: Dict[str, Step]
    browsers: Tuple[str, ...]
    phone_platforms: Tuple[str, ...]
    moves_on: Dict[str, FrozenSet[str]] = field(default_factory=dict)
    joins: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    opens_at: Tuple[str, ...] = ()
    #: Branch -> website step -> the step standing for it in the app.
    on_phone_steps: Dict[str, Dict[str, str]] = field(default_factory=dict)
    #: Branch -> "web" | "phone" -> (the branch it goes on with, the response bridging them).
    goes_on: Dict[str, Dict[str, Tuple[str, str]]] = field(default_factory=dict)
    platform_words: Dict[str, Tuple[Pattern, ...]] = field(default_factory=dict, compare=False)
    platform_fillers: Tuple[Pattern, ...] = field(default=(), compare=False)
    twofa_methods: Dict[str, Tuple[Pattern, ...]] = field(default_factory=dict, compare=False)

    def twofa_method_named(self, text: str) -> Optional[str]:
        """The one way of getting 2FA codes that ``text`` names, if it names exactly one
        ("I don't use SMS, only the app" names none by SMS)."""
        clauses = [c for c in _CLAUSES.split(text.lower()) if c.strip() and not _NOT_USED.search(c)]
        named = [m for m, patterns in self.twofa_methods.items()
                 if any(p.search(c) for c in clauses for p in patterns)]
        return named[0] if len(named) == 1 else None

    @property
    def platform_versions(self) -> Tuple[str, ...]:
        """The phones whose steps have their own wording (``<response>_<platform>``)."""
        return tuple(p for p in self.phone_platforms if p != UNKNOWN_PHONE)

    def platform_named(self, text: str) -> Optional[str]:
        """The one platform an answer to "website or app?" names ("in the app": a phone),
        leaving out one named only to be denied ("the app, not the website")."""
        named = [p for p, patterns in self.platform_words.items()
                 if any(not denied_at(text, m.start()) for r in patterns for m in r.finditer(text))]
        return named[0] if len(named) == 1 else None

    def only_platform_named(self, text: str) -> Optional[str]:
        """The platform ``text`` names when it says nothing else ("wait no, it's the app
        not the website"): an answer about where, not about what went wrong."""
        platform = self.platform_named(text)
        if platform is None:
            return None
        rest = text.lower()
        for pattern in [p for patterns in self.platform_words.values() for p in patterns] + list(self.platform_fillers):
            rest = pattern.sub(" ", rest)
        return None if re.search(r"\w", rest) else platform

    def intent_for(self, branch: str) -> Optional[str]:
        """The intent that opens ``branch`` (the reverse of ``branch_for_intent``)."""
        return next((intent for intent, b in self.branch_for_intent.items() if b == branch), None)

    def plan_for_branch(self, branch: str) -> List[str]:
        return list(self.branches[branch])

    def plan_on(self, branch: Optional[str], plan: List[str], platform: Optional[str], start: int = 0) -> List[str]:
        """``plan`` with, from ``start`` on, the app's own steps for the website's when the
        customer is on a phone (a step already in the plan is not brought in twice)."""
        swaps = self.on_phone_steps.get(branch or "", {}) if platform in self.phone_platforms else {}
        mapped = list(plan[:start])
        for sid in plan[start:]:
            own = swaps.get(sid, sid)
            if own not in mapped:
                mapped.append(own)
        return mapped

    def going_on(self, branch: str, platform: Optional[str]) -> Optional[Tuple[str, str]]:
        """(branch, bridging response) that ``branch`` goes on with once its steps are
        done, for the platform the customer is on; None when it ends there."""
        kind = UNKNOWN_PHONE if platform in self.phone_platforms else platform
        return self.goes_on.get(branch, {}).get(kind or "")

    def belongs_to(self, branch: str, current: Optional[str]) -> bool:
        """Whether a message about ``branch`` is about the ``current`` branch too."""
        return branch == current or branch in self.related.get(current or "", frozenset())

    def branch_naming(self, text: str) -> Optional[str]:
        """The branch a step of ``opens_at`` belongs to, when ``text`` names that step's problem."""
        for sid in self.steps_named(text, list(self.opens_at)):
            return next(b for b, plan in self.branches.items() if sid in plan)
        return None

    def steps_named(self, text: str, plan: List[str]) -> List[str]:
        """The steps of ``plan`` whose problem ``text`` names ("the reset email never came")."""
        return [sid for sid in plan if any(p.search(text) for p in self.steps[sid].about)]

    def joined_plan(self, branch: Optional[str], plan: List[str], index: int, text: str) -> List[str]:
        """``plan`` with the steps of the branches ``branch`` joins brought in after step
        ``index`` when ``text`` says one of their steps is done; ``plan`` otherwise."""
        for other in self.joins.get(branch or "", ()):
            theirs = [sid for sid in self.branches[other] if sid not in plan]
            if self.steps_said_done(text, theirs):
                return plan[:index + 1] + theirs + plan[index + 1:]
        return plan

    def steps_said_done(self, text: str, plan: List[str]) -> List[str]:
        """The steps of ``plan`` that ``text`` says are already done (or impossible)."""
        clauses = stated_clauses(text)
        return [sid for sid in plan if any(self.steps[sid].said_done(c) for c in clauses)]

    def branch_for_triage(self, symptom: Optional[str], platform: Optional[str]) -> str:
        """The branch a triage answer leads to; the platform wins over a mismatched symptom."""
        return self.for_platform(self.symptom_branch.get(symptom or "", GENERAL_BRANCH), platform)

    def for_platform(self, branch: str, platform: Optional[str]) -> str:
        """``branch`` as the platform the customer names decides: the app's steps are no
        help on the website ("can't log in on the website, it just spins"), and back."""
        if platform in self.phone_platforms:
            return self.on_phone.get(branch, branch)
        if platform == WEB:
            return self.on_web.get(branch, branch)
        return branch

    def general_plan(self, platform: Optional[str], uses_2fa: Optional[bool]) -> List[str]:
        """Basics first, then the platform's own checks, 2FA if used, then outages."""
        plan = list(self.general["basics"])
        if platform in self.phone_platforms:
            plan += self.general["phone"]
        else:
            plan += self.general["web"]
        if uses_2fa:
            plan += self.general["uses_2fa"]
        plan += self.general["last"]
        return plan

    def response_for(self, step: Step, browser: Optional[str], platform: Optional[str]) -> Optional[str]:
        """The response explaining ``step``; None when the browser must be asked first."""
        if step.variant == "browser":
            if not browser:
                return None
            suffix = browser if browser in self.browsers else OTHER_BROWSER
            return f"{step.response}_{suffix}"
        if step.variant == "platform" and platform in self.platform_versions:
            return f"{step.response}_{platform}"
        return step.response

def _tuple(items) -> Tuple[str, ...]:
    return tuple(str(i) for i in (items or []))


_SAID_KINDS = {"done", "unavailable", "not_needed", "needed", "about", "solved", "ruled_out", "takes_up"}


def _patterns(items) -> Tuple[Pattern, ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in items or ())


def parse(raw: dict) -> Playbook:
    """Build a Playbook and refuse one that points at unknown steps or branches."""
    said = raw.get("said") or {}
    steps = {
        sid: Step(
            id=sid,
            response=s["response"],
            title=s["title"],
            variant=s.get("variant"),
            check_clock=bool(s.get("check_clock", False)),
            checks_status=bool(s.get("checks_status", False)),
            hands_over=bool(s.get("hands_over", False)),
            names_other_browser=bool(s.get("names_other_browser", False)),
            waits=s.get("waits"),
            methods=frozenset(_tuple(s.get("methods"))),
            if_not_needed=s.get("if_not_needed"),
            if_needed=s.get("if_needed"),
            if_works=s.get("if_works"),
            explains=s.get("explains"),
            unavailable_title=s.get("unavailable_title"),
            **{kind: _patterns((said.get(sid) or {}).get(kind)) for kind in _SAID_KINDS},
        )
        for sid, s in raw["steps"].items()
    }
    triage = raw["triage"]
    book = Playbook(
        after_address_warning=str(raw["after_address_warning"]),
        branch_for_intent=dict(raw["branch_for_intent"]),
        branches={b: _tuple(s) for b, s in raw["branches"].items()},
        related={b: frozenset(_tuple(r)) for b, r in (raw.get("related") or {}).items()},
        moves_on={sid: frozenset(_tuple(b)) for sid, b in (raw.get("moves_on") or {}).items()},
        joins={b: _tuple(others) for b, others in (raw.get("joins") or {}).items()},
        opens_at=_tuple(raw.get("opens_at")),
        on_phone_steps={str(b): {str(k): str(v) for k, v in (swaps or {}).items()}
                        for b, swaps in (raw.get("on_phone_steps") or {}).items()},
        goes_on={b: {str(kind): (str(g["branch"]), str(g["says"])) for kind, g in (kinds or {}).items()}
                 for b, kinds in (raw.get("goes_on") or {}).items()},
        symptom_branch=dict(triage["symptom_branch"]),
        on_phone=dict(triage.get("on_phone") or {}),
        on_web=dict(triage.get("on_web") or {}),
        general={k: _tuple(v) for k, v in triage["general"].items()},
        steps=steps,
        browsers=_tuple(raw["browsers"]),
        phone_platforms=_tuple(raw["phone_platforms"]),
        platform_words={p: _patterns(w) for p, w in (raw.get("platform_words") or {}).items()},
        platform_fillers=_patterns(raw.get("platform_fillers")),
        twofa_methods={m: _patterns(p) for m, p in (raw.get("twofa_methods") or {}).items()},
    )
    problems = [
        f"unknown step {sid!r}"
        for plan in list(book.branches.values()) + list(book.general.values())
        for sid in plan
        if sid not in steps
    ]
    problems += [f"unknown step {sid!r} in said" for sid in said if sid not in steps]
    problems += [f"step {plan[i]!r} hands over to support but is not last in its plan"
                 for plan in book.branches.values() for i in range(len(plan) - 1)
                 if plan[i] in steps and steps[plan[i]].hands_over]
    problems += [f"unknown kind of words {kind!r} for step {sid!r} in said"
                 for sid, kinds in said.items() for kind in kinds or {} if kind not in _SAID_KINDS]
    problems += [f"unknown step {sid!r} in on_phone_steps" for swaps in book.on_phone_steps.values()
                 for pair in swaps.items() for sid in pair if sid not in steps]
    problems += [f"goes_on of {b!r} names {kind!r}, not web or phone" for b, kinds in book.goes_on.items()
                 for kind in kinds if kind not in (WEB, UNKNOWN_PHONE)]
    problems += [f"unknown step {sid!r} in moves_on" for sid in book.moves_on if sid not in steps]
    problems += [f"step {sid!r} of opens_at is unknown, in no branch or names no problem (about)"
                 for sid in book.opens_at
                 if sid not in steps or not steps[sid].about or not any(sid in p for p in book.branches.values())]
    if book.after_address_warning not in steps:
        problems.append(f"unknown step {book.after_address_warning!r} after an address warning")
    problems += [f"unknown 2FA method {m!r} of step {s.id!r}" for s in steps.values() for m in s.methods
                 if m not in book.twofa_methods]
    problems += [f"step {s.id!r} says when it is not needed but has no if_not_needed response"
                 for s in steps.values() if s.not_needed and not s.if_not_needed]
    known = set(book.branches) | {GENERAL_BRANCH}
    related = [b for branch, others in book.related.items() for b in (branch, *others)]
    related += [b for others in book.moves_on.values() for b in others]
    related += [b for branch, others in book.joins.items() for b in (branch, *others)]
    related += list(book.on_phone_steps)
    related += [b for branch, kinds in book.goes_on.items() for b in (branch, *(g for g, _ in kinds.values()))]
    for name in list(book.branch_for_intent.values()) + list(book.symptom_branch.values()) + related:
        if name not in known:
            problems.append(f"unknown branch {name!r}")
    if problems:
        raise ValueError("playbook.yml: " + "; ".join(sorted(set(problems))))
    return book


@lru_cache(maxsize=1)
def load(path: Path = PLAYBOOK_FILE) -> Playbook:
    with path.open(encoding="utf-8") as handle:
        return parse(yaml.safe_load(handle))
