"""List every parameter path a tool's saved state can hold, with its type, default and select values.

    .venv-galaxy/bin/python migrate/list_tool_params.py tools/keras_train_and_eval.xml [...] [--json]

Paths are written as Galaxy writes them into workflow states and upgrade messages:
``section|param``, ``conditional|test_param``, ``conditional|param`` (the ``when`` that holds it is
given), ``repeat_0|param`` written ``repeat[]|param``. Macros are expanded by Galaxy's own tool
parser, so the same script lists the old Galaxy-ML tools (a checkout of bgruening/galaxytools
``tools/sklearn/``) and ours: docs/migration.md compares the two listings.
"""
import argparse
import json
import sys

from galaxy.tool_util.parser.factory import get_tool_source


def _options(source):
    """(values, default) of a select; dynamic options (from a file or code) give no values.

    Galaxy's parser returns no static options for those (it raises for nothing else a tool can hold).
    """
    options = source.parse_static_options()
    values = [value for _text, value, _selected in options]
    selected = [value for _text, value, chosen in options if chosen]
    return values, (selected[0] if selected else values[0] if values else None)


def walk(sources, prefix="", when=None, chain=()):
    """Yield one dict per parameter: path, type, default, select values, the ``when`` it sits in, and
    ``chain``: every enclosing ``when``, outermost first (two cases may hold the same path, e.g. the
    same layer type in a Sequential and in a functional model)."""
    for source in sources:
        kind = source.parse_input_type()
        name = source.parse_name() if kind == "param" else source.get("name")
        if kind == "param":
            param_type = source.get("type")
            row = {"path": prefix + name, "type": param_type, "when": when, "chain": chain,
                   "default": source.get("value", source.get("checked", None))}
            if param_type == "select":
                row["options"], row["default"] = _options(source)
                row["multiple"] = source.get_bool("multiple", False)
            yield row
        elif kind == "section":
            yield from walk(source.parse_nested_inputs_source().parse_input_sources(), f"{prefix}{name}|", when, chain)
        elif kind == "repeat":
            yield from walk(source.parse_nested_inputs_source().parse_input_sources(), f"{prefix}{name}[]|", when,
                            chain)
        elif kind == "conditional":
            test = source.parse_test_input_source()
            test_row = next(walk([test], f"{prefix}{name}|", when, chain))
            yield test_row
            for value, case in source.parse_when_input_sources():
                case_when = f"{test_row['path']}={value}"
                yield from walk(case.parse_input_sources(), f"{prefix}{name}|", case_when, (*chain, case_when))


def tool_params(path):
    source = get_tool_source(path)
    rows = []
    for page in source.parse_input_pages().page_sources:
        rows.extend(walk(page.parse_input_sources()))
    outputs, _collections = source.parse_outputs(None)
    return {"id": source.parse_id(), "version": source.parse_version(), "params": rows,
            "outputs": {name: output.format for name, output in outputs.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tools", nargs="+", help="tool XML files")
    parser.add_argument("--json", action="store_true", help="one JSON document instead of text")
    args = parser.parse_args(argv)
    listings = [tool_params(path) for path in args.tools]
    if args.json:
        json.dump(listings, sys.stdout, indent=1)
        return
    for listing in listings:
        print(f"# {listing['id']} {listing['version']}  outputs: {listing['outputs']}")
        for row in listing["params"]:
            values = f"  [{', '.join(map(str, row['options']))}]" if "options" in row else ""
            where = f"  (when {row['when']})" if row["when"] else ""
            print(f"{row['path']}  {row['type']}={row['default']!r}{values}{where}")


if __name__ == "__main__":
    main()
