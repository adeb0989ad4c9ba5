"""Message templates: which placeholders they use, and how long a message they may ask for.

``str.format`` pads to whatever width a template names: ``{value:>1000000001}`` is a gigabyte per alert,
and formatting it once "to check it" is the harm itself. So each field's format spec is read (the
format-spec mini-language, or strftime's for a date) and its widths and precisions are bounded before
anything is formatted: when a rule is validated, and again when an alert is rendered.

A field is a plain name with a format spec, nothing more: ``str.format`` also follows attributes and indexes
(``{value.__class__}`` rendered ``builtins.float``, and a longer path reaches further into the process), and a
conversion (``!r``) says nothing a format spec cannot.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping

MAX_WIDTH = 200  # characters a field may pad to, and digits a precision may show: a line, not a page

# [[fill]align][sign][z][#][0][width][grouping][.precision][type], ASCII digits only.
_STANDARD = re.compile(
    r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>[0-9]*)[,_]?(?:\.(?P<precision>[0-9]+))?[A-Za-z%]?",
    re.ASCII | re.DOTALL,
)
# A date's spec is strftime's: glibc pads a directive to the width between % and the letter (%1000Y).
_STRFTIME = re.compile(r"%[-_0^#]*(?P<width>[0-9]*)", re.ASCII)


def fields(template: str) -> list[tuple[str, str, str | None]]:
    """(field name, format spec, conversion) of each placeholder; ValueError for a malformed template."""
    return [(name, spec or "", conv) for _, name, spec, conv in string.Formatter().parse(template) if name is not None]


def spec_problem(name: str, spec: str, value: object) -> str | None:
    """Why formatting ``value`` with ``spec`` is refused (a placeholder inside it, a width beyond MAX_WIDTH)."""
    if "{" in spec or "}" in spec:
        return f"{{{name}}}: a placeholder inside a format spec is not allowed, got {spec!r}"
    if isinstance(value, dt.date) and spec:
        found = [("width", m.group("width")) for m in _STRFTIME.finditer(spec)]
    else:
        m = _STANDARD.fullmatch(spec)
        if m is None:
            return f"{{{name}}}: bad format spec {spec!r} (e.g. {{value:.3f}} or {{value:>8,.1f}})"
        found = [("width", m.group("width")), ("precision", m.group("precision"))]
    for what, digits in found:
        if digits and int(digits) > MAX_WIDTH:
            return f"{{{name}}}: {what} {digits} is more than {MAX_WIDTH}, the most a message may pad to or show"
    return None


def template_problem(template: str, values: Mapping[str, object]) -> str | None:
    """Why ``template`` must not be formatted with ``values``, without formatting it; None when it may be."""
    try:
        found = fields(template)
    except ValueError as exc:
        return f"bad template: {exc}"
    for name, spec, conversion in found:
        base = name.split(".")[0].split("[")[0]
        if base == "":
            return "positional placeholder {} is not allowed; name it, e.g. {value}"
        if base not in values:
            return f"unknown placeholder {{{base}}}; known: {', '.join(sorted(values))}"
        if name != base or conversion is not None:
            shown = name + (f"!{conversion}" if conversion is not None else "")
            return f"{{{shown}}}: a placeholder is a name and a format spec, like {{value:.3f}} or {{{base}}}, no more"
        why = spec_problem(name, spec, values[base])
        if why:
            return why
    return None


def check_template(template: str, allowed: Mapping[str, object]) -> str | None:
    """None when the template renders with the allowed placeholders' sample values, else why not."""
    why = template_problem(template, allowed)
    if why:
        return why
    try:
        template.format(**allowed)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        return f"bad template: {exc}"
    return None


def render(template: str, context: Mapping[str, object]) -> tuple[str, str | None]:
    """The message, and None; or a plain message and why the template failed (one rule's template must
    not stop the others' alerts: the alert still goes out, and the failure is reported beside it)."""
    why = template_problem(template, context)
    if why is None:
        try:
            return template.format(**context), None
        except Exception as exc:  # any failure of one template is that rule's, never the check's
            why = f"{type(exc).__name__}: {exc}"
    plain = f"{context.get('rule')}: {context.get('metric')} = {context.get('value')} on {context.get('date')}"
    return plain, f"message template failed ({why}); sent as: {plain}"
