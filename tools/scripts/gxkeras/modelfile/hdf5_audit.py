"""The audit of an HDF5 file before anything in it is read: every object inside the file, no dataset larger than
the job's memory, no attribute larger than a model's names.

Every model and weights file the tools open comes through :func:`open_hdf5` (h5mlm models, Keras weights), so
that one audit, from HDF5's metadata alone, stands between an upload and h5py reading it: what a link,
external storage, a virtual dataset or a filter would make h5py read is refused before a value is.
"""
import math
from typing import Any

import h5py

from gxkeras.galaxy.errors import ModelRefused
from gxkeras.galaxy.memory import check_allocation, format_bytes

MAX_ATTRIBUTE_BYTES = 16 * 1024 ** 2  # HDF5 attributes (names of layers and weights, galaxy-ml's HTML view)


def open_hdf5(path: str, what: str, expected: str) -> h5py.File:
    """``h5py.File`` of ``path`` once every object in it is checked to stay inside the file."""
    try:
        handle = h5py.File(path, "r")
    except (OSError, ValueError):
        raise ModelRefused(f"{what}: not an HDF5 file, expected {expected}") from None
    try:
        check_hdf5_objects(handle, what)
    except BaseException:
        handle.close()
        raise
    return handle


def check_hdf5_objects(handle: h5py.File, what: str) -> None:
    """Refuse links and storage that reach outside the file, filtered or oversized datasets, and attributes
    too large to read, all from HDF5's metadata (no value is read).

    An HDF5 external link opens another file; a dataset with external storage reads its values
    from any file (e.g. ``/etc/passwd`` as weights); a virtual dataset maps other files. A dataset's
    declared size (its shape times its item size) is what reading it takes, whatever the file holds: a
    compressed dataset, or one whose chunks were never written (HDF5 reads them as the fill value),
    can declare gigabytes in a few kB. Each dataset's size, and their total, is compared with the job's
    memory; filters (compression, shuffling, checksums) are refused outright, as the tools' writers
    (galaxy-ml's ``dump_model_to_h5``, Keras' weights) never use them, and a variable-length dataset
    other than a single text is refused, as its declared size would not count what it points to.
    """
    problems: list[str] = []
    datasets: list[tuple[str, int]] = []

    def visit(name: str, link: Any) -> str | None:
        if not isinstance(link, h5py.HardLink):
            problems.append(f"{name} is a {type(link).__name__}, which points outside the file's own objects")
            return None
        item = handle.get(name)
        if isinstance(item, h5py.Dataset):
            problem = _dataset_problem(item)
            if problem:
                problems.append(f"dataset {name} {problem}")
            else:
                datasets.append((name, declared_bytes(item)))
        return problems[0] if problems else None

    handle.visititems_links(visit)
    if problems:
        raise ModelRefused(f"{what}: {problems[0][:200]}; the file is refused unread")
    for name, size in datasets:
        check_allocation(size, what, f"dataset {name[:80]} as its metadata declares it", "the file is refused unread",
                         error=ModelRefused)
    check_allocation(sum(size for _, size in datasets), what,
                     f"the file's {len(datasets)} datasets (declared sizes)", "the file is refused unread",
                     error=ModelRefused)
    for item in [handle, *_members(handle)]:
        for key in item.attrs:
            size = _attribute_bytes(item.attrs.get_id(key))
            if size > MAX_ATTRIBUTE_BYTES:
                raise ModelRefused(f"{what}: the attribute {key[:60]!r} of {item.name[:80]} holds "
                                     f"{format_bytes(size)}, more than a model's names can need")


def _dataset_problem(dataset: h5py.Dataset) -> str | None:
    """Why ``dataset`` is refused from its metadata alone, or None."""
    if dataset.external or dataset.is_virtual:
        return "keeps its data in other files"
    plist = dataset.id.get_create_plist()
    if plist.get_nfilters():
        names = ", ".join(plist.get_filter(index)[3].decode("ascii", "replace")
                          for index in range(plist.get_nfilters()))
        return f"is stored through the HDF5 filter {names[:60]!r}, which the tools' writers never use"
    try:
        dtype = dataset.dtype
    except (TypeError, ValueError):  # an HDF5 type NumPy has no equivalent for (a bitfield, a time)
        return "holds values of an HDF5 type that no model has"
    if dtype.hasobject and not (dataset.shape == () and h5py.check_string_dtype(dtype)):
        return "holds variable-length values or references other than a single text"
    return None


def declared_bytes(dataset: h5py.Dataset) -> int:
    """What reading ``dataset`` takes: its shape times its item size, from its metadata (a single variable-length
    text counts its reference; the text itself is in the file, no larger than it)."""
    return (math.prod(dataset.shape) if dataset.shape is not None else 0) * dataset.dtype.itemsize


def _attribute_bytes(attribute: Any) -> int:
    """Bytes an HDF5 attribute holds, from its metadata (no value read)."""
    try:
        return attribute.get_storage_size()
    except RuntimeError:  # HDF5 reports an empty attribute's size as an error
        return 0


def _members(group: h5py.Group) -> list[Any]:
    found = []
    group.visit(lambda name: found.append(group[name]))
    return found
