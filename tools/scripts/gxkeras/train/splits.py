"""The holdouts of the trainer's scheme: the validation set (and, in "Train, Validate and Test", the test set
first), held out with no shuffle, a simple or a stratified shuffle, or by groups."""
from typing import Any

import numpy as np

from gxkeras.galaxy import forms
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.values import check_seed, choice
from gxkeras.train.data import read_text_columns
from gxkeras.train.form import TOOL, X_LABEL, Holdout, section

GROUPS_LABEL = "Choose dataset containing groups info"
SPLITTINGS = forms.options(TOOL, "shuffle")  # no shuffle, simple, stratified, group (the Galaxy-ML tool's)


def holdout_count(test_size: object, n_samples: int, what: str) -> int:
    """The number of samples to hold out: a fraction below 1, a whole number of samples from 1 on."""
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not test_size > 0:
        raise ToolInputError(f"{what}: Holdout size must be a fraction in (0, 1) or a number of samples, "
                             f"got {test_size!r}")
    if test_size < 1:
        count = int(np.ceil(test_size * n_samples))
    elif test_size != int(test_size):
        raise ToolInputError(f"{what}: Holdout size {test_size:g} is more than 1 but not a whole number of samples")
    else:
        count = int(test_size)
    if count < 1 or n_samples - count < 1:
        raise ToolInputError(f"{what}: Holdout size {test_size:g} of {n_samples} samples leaves an empty set")
    return count


def split_indices(y: Any, algos: dict[str, Any], seed: int | None, classifier: bool, what: str,
                  groups: Any = None) -> tuple[Any, Any]:
    """``(kept, held_out)`` row indices of one holdout: no shuffle, shuffle, stratified or by groups."""
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    shuffle = choice(algos.get("shuffle", "simple"), SPLITTINGS, f"{what}: splitting method")
    random_state = check_seed(algos.get("random_state"), f"{what}: Random seed number")
    if random_state is None:
        random_state = seed if seed is not None else 0
    rows = np.arange(len(y))
    if shuffle == "group":
        if groups is None:
            raise ToolInputError(f"{what}: splitting by groups needs the groups column, chosen in the "
                                 "'Groups column selector' of the first holdout's group method")
        names = [name.strip() for name in str(algos.get("group_names") or "").split(",") if name.strip()]
        if names:
            held = np.isin(groups, names)
            if not held.any() or held.all():
                raise ToolInputError(f"{what}: the groups {', '.join(names)} hold {held.sum()} of {len(y)} "
                                     "samples; the holdout and the rest must both have samples")
            return rows[~held], rows[held]
        test_size = algos.get("test_size")
        count = holdout_count(0.2 if test_size is None else test_size, len(np.unique(groups)), what + " (groups)")
        splitter = GroupShuffleSplit(n_splits=1, test_size=count, random_state=random_state)
        return next(splitter.split(rows, groups=groups))
    count = holdout_count(algos.get("test_size", 0.2), len(y), what)
    if shuffle == "stratified":
        if not classifier:
            raise ToolInputError(f"{what}: stratified splitting needs class labels; this is a regression model, "
                                 "choose simple shuffling")
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() < 2:
            raise ToolInputError(f"{what}: class {classes[counts.argmin()]:g} has only one sample; stratified "
                                 "splitting needs at least two per class (choose simple shuffling)")
        try:
            return train_test_split(rows, test_size=count, random_state=random_state, stratify=y)
        except ValueError as error:
            raise ToolInputError(f"{what}: cannot stratify: {error}") from None
    if shuffle == "simple":
        return train_test_split(rows, test_size=count, random_state=random_state, shuffle=True)
    return rows[:-count], rows[-count:]


def read_groups(algos: dict[str, Any], n_samples: int) -> Any:
    """The group of every sample (as text) from the "Groups column selector", or None without one."""
    if algos.get("shuffle") != "group":
        return None
    selector = section(algos, "groups_selector")
    header = bool(selector.get("header_g"))
    frame = read_text_columns(selector.get("infile_g"), header, section(selector, "column_selector_options_g"),
                              "selected_column_selector_option_g", "col_g", GROUPS_LABEL, "give one group per sample")
    if frame.shape[1] != 1:
        raise ToolInputError(f"{GROUPS_LABEL}: {frame.shape[1]} columns selected; select the one column of groups")
    if len(frame) != n_samples:
        raise ToolInputError(f"{GROUPS_LABEL} has {len(frame)} rows but {X_LABEL} has {n_samples}: one group per "
                             "sample")
    return frame.iloc[:, 0].str.strip().to_numpy()


def split(y: Any, holdouts: tuple[Holdout, ...], seed: int | None, classifier: bool) -> dict[str, Any]:
    """``{"train": rows, "validation": rows[, "test": rows]}`` as the scheme's holdouts make them.

    The groups column is chosen in the first holdout's group method and serves both holdouts.
    """
    groups = read_groups(holdouts[0].algos, len(y))
    rest, rows = np.arange(len(y)), {}
    for holdout in holdouts:
        kept, held = split_indices(y[rest], holdout.algos, seed, classifier, holdout.label,
                                   None if groups is None else groups[rest])
        rows[holdout.name] = rest[held]
        rest = rest[kept]
    return {"train": rest, **{name: rows[name] for name in ("validation", "test") if name in rows}}
