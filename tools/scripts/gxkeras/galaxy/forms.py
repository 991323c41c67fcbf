"""The tool forms (``tools/*.xml``) as the one source of the options a model may use.

A model file is data from a user's history; it may only hold what our own forms can produce. So
the allow-lists the loaders check against (layer types, activations, losses, metrics, optimizers
and their options, callbacks and their options, initializer/regularizer/constraint names) are
read here from the forms themselves, with Galaxy's macros expanded: an option added to a form is
accepted by the loaders at once, and an option not in a form can never be. The scripts run from
``$__tool_directory__/../scripts``, so the forms are at ``../tools`` relative to this package.
"""
import functools
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from xml.etree.ElementTree import Element

TOOLS = Path(__file__).resolve().parents[3]  # tools/: this is tools/scripts/gxkeras/galaxy/forms.py


def _macros(root: Element, folder: Path) -> tuple[dict[str, Element], dict[str, str]]:
    """``<xml name=...>`` macros and ``<token>`` values of a tool: its own and its imported files'."""
    macros, tokens = {}, {}
    sources = [root.find("macros")] if root.tag != "macros" else [root]
    for source in [s for s in sources if s is not None]:
        for imported in source.findall("import"):
            more_macros, more_tokens = _macros(ElementTree.parse(folder / (imported.text or "").strip()).getroot(), folder)  # noqa: S314 (our own tool XML, not user data)
            macros.update(more_macros)
            tokens.update(more_tokens)
        macros.update({xml.get("name", ""): xml for xml in source.findall("xml")})
        tokens.update({token.get("name", ""): (token.text or "") for token in source.findall("token")})
    return macros, tokens


def _expand(element: Element, macros: dict[str, Element]) -> Element:
    """A copy of ``element`` with every ``<expand macro=...>`` replaced by the macro's content.

    ``<yield/>`` inside a macro takes the children of the ``<expand>`` (themselves expanded, so a
    macro may be expanded inside another's body); a macro's tokens (``token_infile="..."`` on the macro,
    ``infile="infile2"`` on the ``<expand>``) are substituted as Galaxy does (:func:`_substituted`).
    """
    copy = ElementTree.Element(element.tag, element.attrib)
    copy.text = element.text
    copy.extend(_expand_all(list(element), macros))
    return copy


def _expand_all(elements: list[Element], macros: dict[str, Element]) -> list[Element]:
    """``elements`` expanded: each ``<expand>`` among them replaced by its macro's content."""
    expanded = []
    for child in elements:
        if child.tag != "expand":
            expanded.append(_expand(child, macros))
            continue
        body = _expand_all(list(child), macros)
        macro = macros[child.get("macro", "")]
        for item in _expand_all([_substituted(part, _macro_tokens(macro, child)) for part in macro], macros):
            if item.tag == "yield":
                expanded.extend(body)
            else:
                expanded.extend(_replace_yield(item, body))
    return expanded


def _macro_tokens(macro: Element, expand: Element) -> dict[str, str]:
    """``{"@NAME@": value}``: the macro's ``token_name`` defaults, overridden by the ``<expand>``'s ``name``."""
    tokens = {key[len("token_"):]: value for key, value in macro.attrib.items() if key.startswith("token_")}
    tokens.update({key: value for key, value in expand.attrib.items() if key != "macro"})
    return {f"@{name.upper()}@": value for name, value in tokens.items()}


def _substituted(element: Element, tokens: dict[str, str]) -> Element:
    """A deep copy of ``element`` with the tokens replaced in its attribute values and text."""
    def replace(text: str | None) -> str | None:
        for token, value in tokens.items():
            text = text.replace(token, value) if text else text
        return text
    copy = ElementTree.Element(element.tag, {key: replace(value) or "" for key, value in element.attrib.items()})
    copy.text, copy.tail = replace(element.text), element.tail
    copy.extend(_substituted(child, tokens) for child in element)
    return copy


def _replace_yield(element: Element, body: list[Element]) -> list[Element]:
    """``element`` with nested ``<yield/>`` elements replaced by ``body`` (a macro's caller content)."""
    for parent in element.iter():
        for index, child in enumerate(list(parent)):
            if child.tag == "yield":
                parent.remove(child)
                for offset, part in enumerate(body):
                    parent.insert(index + offset, part)
    return [element]


@functools.lru_cache(maxsize=None)
def document(name: str) -> tuple[Element, dict[str, str]]:
    """``tools/<name>.xml`` (the ``<tool>`` element) with all macros expanded, and the tool's tokens.

    Tokens (``@TOOL_VERSION@``) are left as written: the caller substitutes those it needs.
    """
    root = ElementTree.parse(TOOLS / f"{name}.xml").getroot()  # noqa: S314 (our own tool XML, not user data)
    macros, tokens = _macros(root, TOOLS)
    return _expand(root, macros), tokens


def tool(name: str) -> tuple[Element, dict[str, str]]:
    """The ``<inputs>`` of ``tools/<name>.xml`` with all macros expanded, and the tool's tokens."""
    root, tokens = document(name)
    inputs = root.find("inputs")
    if inputs is None:
        raise ValueError(f"tools/{name}.xml has no <inputs>")
    return inputs, tokens


def param_name(param: Element) -> str:
    """A Galaxy ``<param>``'s name: ``name``, else ``argument`` without its dashes."""
    return param.get("name") or (param.get("argument") or "").lstrip("-")


def _params(tool_name: str, name: str) -> list[Element]:
    inputs, _ = tool(tool_name)
    return [param for param in inputs.iter("param") if param_name(param) == name]


def options(tool_name: str, name: str) -> tuple[str, ...]:
    """Every option value of the select(s) called ``name`` in a form, in form order, once each."""
    values = [option.get("value", "") for param in _params(tool_name, name) for option in param.iter("option")]
    return tuple(dict.fromkeys(values))


def label(tool_name: str, name: str, when: str | None = None) -> str:
    """The label the form shows for the parameter(s) called ``name`` (``when``: the one inside the conditional case
    of that value, where cases share a name), without its closing colon or full stop: the name a message gives
    the input. A name with two different labels and no ``when`` is an error in the caller, not a guess."""
    inputs, _ = tool(tool_name)
    scopes = [inputs] if when is None else [case for case in inputs.iter("when") if case.get("value") == when]
    labels = {(param.get("label") or "").strip().rstrip(":.").rstrip() for scope in scopes
              for param in scope.iter("param") if param_name(param) == name}
    if len(labels) != 1 or "" in labels:
        raise ValueError(f"tools/{tool_name}.xml: {name}{f' (when {when})' if when else ''} has no single label "
                         f"({sorted(labels)})")
    return labels.pop()


def integer_maximum(tool_name: str, name: str) -> int:
    """The ``max`` of the integer parameter(s) called ``name`` (one value across the form)."""
    maxima = {param.get("max") or "" for param in _params(tool_name, name) if param.get("type") == "integer"}
    if len(maxima) != 1 or "" in maxima:
        raise ValueError(f"tools/{tool_name}.xml: the integer {name} has no single max ({sorted(maxima)})")
    return int(maxima.pop())


def dataset_params(tool_name: str) -> tuple[str, ...]:
    """The names of the form's dataset inputs (``type="data"``), once each: the files a job may read."""
    inputs, _ = tool(tool_name)
    return tuple(dict.fromkeys(param_name(param) for param in inputs.iter("param") if param.get("type") == "data"))


def when_params(tool_name: str, selector: str) -> dict[str, tuple[str, ...]]:
    """``{option: (param names)}`` of the conditional whose select is ``selector``."""
    inputs, _ = tool(tool_name)
    cases = {}
    for conditional in inputs.iter("conditional"):
        select = conditional.find("param")
        if select is None or param_name(select) != selector:
            continue
        for when in conditional.findall("when"):
            names = [param_name(param) for param in when.iter("param")]
            cases[when.get("value", "")] = tuple(dict.fromkeys(names))
    return cases


def token_list(tool_name: str, token: str) -> tuple[str, ...]:
    """A comma-separated ``<token>`` of the tool's macros as a tuple of names."""
    _, tokens = tool(tool_name)
    return tuple(item.strip() for item in tokens[token].split(",") if item.strip())
