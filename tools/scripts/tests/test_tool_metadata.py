"""IUC metadata of every tool (macros expanded): EDAM, creator, citations, and a version_command that
reports the galaxy-ml the job really runs with."""
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter

import pytest
from repo_paths import ROOT

from gxkeras.galaxy import forms

# Macro files are named *macros.xml (IUC): macros.xml (general) and one file per topic beside it.
MACRO_FILES = sorted((ROOT / "tools").glob("*macros.xml"))
TOOLS = sorted(path.stem for path in (ROOT / "tools").glob("*.xml") if path not in MACRO_FILES)
# Tools whose XML does not name an EDAM operation yet (issue 17): remove a tool from here when its
# <expand macro="edam_machine_learning"> gets one; the strict xfail then says so.
WITHOUT_EDAM_OPERATION: set[str] = set()  # tools still lacking an EDAM operation (expected failures)


def test_every_tool_is_checked():
    assert len(TOOLS) == 9 and "keras_train_and_eval" in TOOLS and "keras_batch_models" in TOOLS


def test_macros_are_split_by_topic_and_each_defined_once():
    """Galaxy lets a later import silently replace a macro of the same name, so each name lives in one file;
    macros.xml (general) imports nothing, and every tool imports it first, then the topic files it uses."""
    roots = {path.name: ElementTree.parse(path).getroot() for path in MACRO_FILES}
    assert sorted(roots) == ["keras_compile_fit_macros.xml", "keras_layers_macros.xml", "macros.xml"]
    assert all(root.tag == "macros" and not root.findall("import") for root in roots.values())
    names = Counter(f"{element.tag} {element.get('name')}" for root in roots.values()
                    for element in [*root.findall("xml"), *root.findall("token")])
    assert [name for name, count in names.items() if count > 1] == []
    for name in TOOLS:
        imports = [item.text for item in ElementTree.parse(ROOT / "tools" / f"{name}.xml").getroot().iter("import")]
        assert imports[0] == "macros.xml" and set(imports) <= set(roots), (name, imports)


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason="no EDAM operation in the tool XML yet"))
    if name in WITHOUT_EDAM_OPERATION else name for name in TOOLS])
def test_edam_topic_and_operations(name):
    root, _ = forms.document(name)
    topics = [topic.text for topic in root.iter("edam_topic")]
    operations = [operation.text or "" for operation in root.iter("edam_operation")]
    assert topics == ["topic_3474"]  # Machine learning
    assert operations and all(re.fullmatch(r"operation_\d{4}", operation) for operation in operations)


@pytest.mark.parametrize("name", TOOLS)
def test_creator_and_citations(name):
    root, _ = forms.document(name)
    creators = [item for creator in root.iter("creator") for item in creator if item.tag in ("person", "organization")]
    assert creators and all(item.get("name") for item in creators)
    assert "10.1371/journal.pcbi.1009014" in [citation.text for citation in root.iter("citation")]  # Galaxy-ML


def test_version_command_prints_the_galaxy_ml_version_the_tools_require():
    """Galaxy records the version_command's output as the tool's version: the galaxy-ml really imported."""
    commands, requirements = set(), set()
    for name in TOOLS:
        root, tokens = forms.document(name)
        commands.add(root.findtext("version_command", "").strip())
        version = tokens["@TOOL_VERSION@"]
        requirements |= {(requirement.text, requirement.get("version", "").replace("@TOOL_VERSION@", version))
                         for requirement in root.iter("requirement")}
    assert len(commands) == 1, "every tool uses the version_command macro"
    command = commands.pop()
    assert command.startswith("python3 -c ")
    program = re.fullmatch(r"python3 -c '([^']+)'", command).group(1)
    printed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60)
    assert ("galaxy-ml", printed.stdout.strip()) in requirements


def test_form_labels_are_read_from_the_form():
    """forms.label: the label a message names an input by, without the form's closing ' :' or '.'; a name with two
    labels needs the conditional case (an ambiguous name is an error, not a guess)."""
    assert forms.label("plotly_regression_performance_plots", "infile_input") == "Select input data file"
    assert forms.label("keras_train_and_eval", "target_file") == \
        "Dataset containing positions and features for target values"
    assert forms.label("model_prediction", "infile1", "sparse") == "Select a sparse matrix"
    assert forms.label("model_prediction", "infile1", "tabular") == "Training samples dataset"
    with pytest.raises(ValueError, match="infile1 has no single label"):
        forms.label("model_prediction", "infile1")
    with pytest.raises(ValueError, match="no_such_param"):
        forms.label("model_prediction", "no_such_param")
