"""How the bot addresses a member: a form per role ("đồng chí") and the given name.

A Vietnamese full name ends with the given name ("Nguyễn Thị Lan" → "Lan"), and an
official is addressed by it: "đồng chí Lan". The form comes from config (`address:`,
one per role) unless the member has their own (`members.address`, e.g. "bác" for an
elderly leader). English messages use the name as registered.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from reporting.config_base import Strict

Form = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30,
                                        pattern=r"^[^\d<>&/]+$")]
DEFAULT_FORM = "đồng chí"


class Address(Strict):
    """The form of address of each role, e.g. `address: {leader: "đồng chí"}`."""

    leader: Form = DEFAULT_FORM
    council: Form = DEFAULT_FORM
    admin: Form = DEFAULT_FORM

    def form(self, role: str) -> str:
        return str(getattr(self, str(role), DEFAULT_FORM))


def given_name(full_name: str) -> str:
    """The last word of a Vietnamese full name: "Nguyễn Thị Lan" → "Lan"."""
    words = full_name.split()
    return words[-1] if words else full_name


def address_of(full_name: str, role: str, override: str | None, forms: Address,
               lang: str = "vi") -> str:
    """"đồng chí Lan": the member's own form, else their role's, with the given name."""
    if lang != "vi":
        return full_name.strip()
    form = (override or "").strip() or forms.form(role)
    return f"{form} {given_name(full_name)}"
