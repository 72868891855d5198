"""Forms: reading submitted fields, and showing a domain error next to the fields it
names, in the page's language.

    try:
        service.do(...)
    except FapiaoError as refused:
        errors = FormErrors.from_error(refused, locale, fields={"NAME_TAKEN": "name"})
        return render(request, "x.html", errors=errors, values=values, status_code=422)

In the template, `errors.get("name")` is the message for that field (the macro
`field()` in _form.html shows it, linked with aria-describedby), and `errors.form` the
messages that belong to no field (shown at the top of the form)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from fapiao.kit.errors import FapiaoError
from fapiao.kit.i18n import translate


@dataclass
class FormErrors:
    fields: dict[str, str] = field(default_factory=dict)
    form: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.form)

    def get(self, name: str) -> str | None:
        return self.fields.get(name)

    def add(self, name: str | None, message: str) -> None:
        """Add a message (already translated) to a field, or to the form when None."""
        if name is None:
            self.form.append(message)
        elif name not in self.fields:  # the first error of a field is the one shown
            self.fields[name] = message

    @classmethod
    def from_error(
        cls,
        error: FapiaoError,
        locale: str,
        fields: dict[str, str] | None = None,
        aliases: dict[str, str] | None = None,
    ) -> FormErrors:
        """The messages of a domain error. Its `errors` list (`{field, code, message}`,
        the problem JSON's `errors`) goes to the named fields; `aliases` renames API
        fields to form fields (a dotted path like "buyer.tax_id" to "buyer_tax_id").
        An error without a field list goes to the field `fields` maps its code to, else
        to the whole form."""
        found = cls()
        aliases = aliases or {}
        for item in error.errors:
            name = aliases.get(item.field, item.field)
            found.add(name or None, translate(item.message, locale, **item.params))
        if not error.errors:
            target = (fields or {}).get(error.code)
            found.add(target, translate(error.message, locale, **error.params))
        return found


async def read_form(request: Request, limits: dict[str, int]) -> dict[str, str]:
    """The named text fields of a submitted form, stripped of nothing, each cut to its
    limit (a browser enforces maxlength; anything longer is not a person typing). Missing
    fields are empty strings; files and unknown fields are ignored."""
    form = await request.form()
    values: dict[str, str] = {}
    for name, limit in limits.items():
        value: Any = form.get(name)
        values[name] = value[:limit] if isinstance(value, str) else ""
    return values
