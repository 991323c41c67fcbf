"""Browser test of the tool forms in a real Galaxy (headless Debian chromium driven by Playwright).

    python harness/ui_test.py GALAXY_URL SCREENSHOT_DIR

For each tool it opens the tool form and checks that the tutorial's labels are shown. For
keras_model_config it then fills in the tutorial's three layers through the form, runs the tool,
waits for the job to turn green in the history and checks the JSON output through the API.
Screenshots of every step go to SCREENSHOT_DIR.
"""
import json
import sys
import time
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "scripts"))  # the tools' shared package
from gxkeras.galaxy.errors import first_line

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Labels a reader of the GTN RNN tutorial looks for, per tool (those shown with the default choices).
TUTORIAL_LABELS = {
    "keras_model_config": [
        "Create a deep learning model architecture", "Select keras model type", "input_shape",
        "LAYER", "Choose the type of layer",
    ],
    "keras_model_builder": [
        "Create deep learning model", "Choose a building mode",
        "Select the dataset containing model configuration", "Do classification or regression?",
        "Compile Parameters", "Fit Parameters",
    ],
    "keras_train_and_eval": [
        "Deep learning training and evaluation", "Select a scheme",
        "Choose the dataset containing pipeline/estimator object", "Select input type:",
        "Training samples dataset", "Dataset containing class labels or target values",
    ],
    "model_prediction": [
        "Model Prediction", "Choose the dataset containing pipeline/estimator object",
        "Select invocation method", "Select input data type for prediction",
    ],
    "ml_visualization_ex": [
        "Machine Learning Visualization Extension", "Select a plotting type",
        "Select dataset containing the true labels", "Select dataset containing the predicted labels",
    ],
}

TUTORIAL_LAYERS = [  # (layer type option, {field: value})
    ("Embedding -- Embedding", {"input_dim": 10000, "output_dim": 32}),
    ("Recurrent -- LSTM", {"units": 100}),
    ("Core -- Dense", {"units": 1}),
]


def element(page, name):
    """The form row of parameter ``name`` (Galaxy's '|'-joined path, e.g. model_selection|input_shape)."""
    return page.locator(f'[id="form-element-{name}"]')


def choose(page, name, option):
    element(page, name).locator(".multiselect").click()
    element(page, name).locator(".multiselect__option", has_text=option).first.click()
    expect(element(page, name).locator(".multiselect__single")).to_have_text(option)


def fill(page, name, value):
    element(page, name).locator("input").first.fill(str(value))


def open_tool(page, base_url, tool_id):
    page.goto(f"{base_url}/?tool_id={tool_id}&version=latest")
    page.wait_for_selector("#form-element-use_cached_job", timeout=60_000)


def check_labels(page, base_url, tool_id, shots):
    try:
        open_tool(page, base_url, tool_id)
    except PlaywrightError:
        page.screenshot(path=str(shots / f"{tool_id}.png"), full_page=True)
        return ["(the tool form did not open)"]
    missing = [label for label in TUTORIAL_LABELS[tool_id] if page.get_by_text(label).count() == 0]
    page.screenshot(path=str(shots / f"{tool_id}.png"), full_page=True)
    return missing


def run_tutorial_model_config(page, base_url, shots):
    """Fill the tutorial's layers into keras_model_config, run it, wait for a green JSON dataset."""
    open_tool(page, base_url, "keras_model_config")
    fill(page, "model_selection|input_shape", "(500,)")
    for index, (layer_type, fields) in enumerate(TUTORIAL_LAYERS):
        if index > 0:
            page.get_by_role("button", name="Insert LAYER").click()
        prefix = f"model_selection|layers_{index}|layer_selection"
        choose(page, f"{prefix}|layer_type", layer_type)
        for field, value in fields.items():
            fill(page, f"{prefix}|{field}", value)
    choose(page, "model_selection|layers_2|layer_selection|activation", "sigmoid")
    page.screenshot(path=str(shots / "keras_model_config_filled.png"), full_page=True)
    page.locator("#execute").first.click()
    expect(page.get_by_text("successfully added")).to_be_visible(timeout=60_000)

    history = page.request.get(f"{base_url}/history/current_history_json").json()
    # 10 minutes: the job's metadata is set in Galaxy's Celery worker, whose two metadata processes
    # start at its first task and import Galaxy then; under a load of 40 that took 8 minutes once.
    deadline = time.time() + 600
    while time.time() < deadline:
        items = page.request.get(f"{base_url}/api/histories/{history['id']}/contents?v=dev&keys=id,name,state,extension").json()
        outputs = [item for item in items if item.get("extension") == "json"]
        if outputs and outputs[-1]["state"] in ("ok", "error"):
            break
        time.sleep(3)
    page.reload()
    page.wait_for_timeout(3000)
    page.screenshot(path=str(shots / "keras_model_config_done.png"), full_page=True)
    if not outputs or outputs[-1]["state"] != "ok":
        return f"job did not finish green: {outputs}"
    text = page.request.get(f"{base_url}/api/datasets/{outputs[-1]['id']}/display").text()
    classes = [layer["class_name"] for layer in json.loads(text)["config"]["layers"]]
    if classes != ["InputLayer", "Embedding", "LSTM", "Dense"]:
        return f"unexpected layers in the output JSON: {classes}"
    if page.locator(".history-index .content-item.alert-success, [data-state='ok']").count() == 0:
        return "the history panel shows no green dataset"
    return None


def main(base_url, shots_dir):
    shots = Path(shots_dir)
    shots.mkdir(parents=True, exist_ok=True)
    results = []  # (test name, problem or None)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for tool_id in TUTORIAL_LABELS:
            missing = check_labels(page, base_url, tool_id, shots)
            results.append((f"form of {tool_id}", f"labels not shown: {missing}" if missing else None))
        try:
            problem = run_tutorial_model_config(page, base_url, shots)
        except PlaywrightError as error:
            page.screenshot(path=str(shots / "keras_model_config_error.png"), full_page=True)
            problem = first_line(error)
        results.append(("keras_model_config filled in and run through the form", problem))
        browser.close()
    for name, problem in results:
        print(f"  {'FAIL' if problem else 'PASS'} {name}" + (f": {problem}" if problem else ""))
    failed = sum(1 for _, problem in results if problem)
    print(f"ui tests: {len(results) - failed} passed, {failed} failed (screenshots in {shots})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1].rstrip("/"), sys.argv[2]))
