"""Reference genome, intervals and target features for ``GenomicIntervalBatchGenerator`` (input type
"reference genome and intervals" of "Deep learning training and evaluation").

galaxy-ml's generator (through its copy of selene) reads three files: the reference genome with
pyfaidx (which writes a ``.fai`` next to it), the intervals (``chrom start end`` per line; it samples a
position in each), and the target features, a **bgzipped, tabix-indexed** BED file (chrom, start, end,
feature name) that it queries around each sampled position. A Galaxy user has a plain ``bed`` dataset:
as the Galaxy-ML tool did with ``bgzip`` and ``tabix`` on its command line, the job writes the sorted,
bgzipped file and its tabix index into its working directory, here in Python (no htslib in the
tools' environment; :func:`bgzip_and_index`), and checks every line first, so that a bad line is one
error naming the dataset and line instead of a failure inside the generator. Datasets are never
written to; only paths in the working directory reach the generator, never one from a model file.
"""
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from gxkeras.galaxy import forms
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.data.fasta import check_one_hot, one_hot_chunk_rows, sequence_lengths, stage_fasta
from gxkeras.data.lines import bounded_lines
from gxkeras.galaxy.values import parse_int

GENOME_LABEL = forms.label("model_prediction", "ref_genome_file")  # the training tool's form shows the same
INTERVALS_LABEL = forms.label("keras_train_and_eval", "interval_file")
TARGETS_LABEL = forms.label("keras_train_and_eval", "target_file")
FEATURES_LABEL = forms.label("keras_train_and_eval", "infile2", "refseq_and_interval")
VCF_LABEL = forms.label("model_prediction", "vcf_file")

BED_SKIP = ("#", "track", "browser")  # header lines of BED/interval datasets
# One BED line must fit in a BGZF block (64 KiB): stricter than gxkeras.data.lines.MAX_LINE_BYTES, and enforced
# while reading in the same way.
BED_LINE_BYTES = 60_000
MAX_FEATURE_CHARS = 200
# Positions are 32-bit signed integers in VCF ("Integer": VCF 4.3, section 1.3) and in BED as UCSC's tools
# read it; a tabix (.tbi) index bins positions below 2^29 only (the SAM/tabix specification's binning
# scheme), so the target file that is indexed is held to that.
MAX_POSITION = 2 ** 31 - 1
TBI_MAX_POSITION = 2 ** 29


def text_lines(path: str, label: str, limit: int | None = None) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text dataset, each line read within its bound (``limit``; default
    :data:`gxkeras.data.lines.MAX_LINE_BYTES`) and decoded on its own, so that an error names its line."""
    with open(path, "rb") as handle:
        for number, line in enumerate(bounded_lines(handle, label, limit), start=1):
            try:
                yield number, line.decode("utf-8")
            except UnicodeDecodeError:
                raise ToolInputError(f"{label}: not a text file: line {number} is not UTF-8 (a compressed file? give "
                                     "the plain dataset)") from None


# ---- BED lines ---------------------------------------------------------------------------------

def read_bed(path: str | None, label: str, columns: int) -> list[tuple[int, list[str]]]:
    """``[(line number, cells)]`` of a BED-like dataset, at least ``columns`` cells each, start and end
    checked (0 <= start < end); header, track and browser lines and empty lines skipped."""
    if not path:
        raise ToolInputError(f"{label}: no dataset given")
    rows = []
    for number, line in text_lines(path, label, BED_LINE_BYTES):
        text = line.rstrip("\r\n")
        if not text.strip() or text.startswith(BED_SKIP):
            continue
        cells = text.split("\t")
        if len(cells) < columns:
            raise ToolInputError(f"{label}: line {number} has {len(cells)} tab-separated columns; expected "
                                 f"at least {columns} (chrom, start, end{', feature name' if columns > 3 else ''})")
        start = parse_int(cells[1], f"{label}: line {number}: start", 0, MAX_POSITION)
        end = parse_int(cells[2], f"{label}: line {number}: end", 0, MAX_POSITION)
        if not start < end:
            raise ToolInputError(f"{label}: line {number}: start {start} and end {end}; expected "
                                 "0 <= start < end (BED coordinates: 0-based start, end excluded)")
        rows.append((number, cells))
    if not rows:
        raise ToolInputError(f"{label}: no lines of chrom, start, end")
    return rows


def _check_chromosome(cells: list[str], number: int, lengths: dict[str, int], label: str) -> None:
    chrom, end = cells[0], int(cells[2])  # parsed by read_bed
    if chrom not in lengths:
        raise ToolInputError(f"{label}: line {number}: {chrom[:60]!r} is not a sequence of the reference genome "
                             f"({', '.join(list(lengths)[:5])}{' ...' if len(lengths) > 5 else ''})")
    if end > lengths[chrom]:
        raise ToolInputError(f"{label}: line {number}: end {end} is outside {chrom} (length {lengths[chrom]})")


# ---- bgzip and tabix ---------------------------------------------------------------------------

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
BGZF_BLOCK = 0xff00  # uncompressed bytes per block, as htslib writes them
TBX_UCSC = 0x10000  # tabix preset "bed": 0-based starts
LINEAR_SHIFT = 14  # tabix's linear index: one entry per 16 kb window


def _bgzf_block(data: bytes) -> bytes:
    """One BGZF block (a gzip member whose extra field 'BC' gives the block's size)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = compressor.compress(data) + compressor.flush()
    header = struct.pack("<BBBBIBBHBBHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(deflated) + 25)
    return header + deflated + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data))


def _bgzf(data: bytes) -> bytes:
    """``data`` as a whole BGZF file (blocks of BGZF_BLOCK bytes and the end-of-file block)."""
    return b"".join(_bgzf_block(data[start:start + BGZF_BLOCK])
                    for start in range(0, len(data), BGZF_BLOCK)) + BGZF_EOF


def reg2bin(beg: int, end: int) -> int:
    """The UCSC binning scheme's smallest bin holding [beg, end) (SAM/tabix specification)."""
    end -= 1
    for shift, offset in ((14, 4681), (17, 585), (20, 73), (23, 9), (26, 1)):
        if beg >> shift == end >> shift:
            return offset + (beg >> shift)
    return 0


def _write_records(lines: list[tuple[str, int, int, bytes]], path: str) -> list[tuple[str, int, int, int, int]]:
    """Write the lines as BGZF blocks (whole lines per block); ``[(chrom, beg, end, voffset, voffset_end)]``."""
    records, blocks, block, offset = [], [], b"", 0  # offset: compressed start of the current block

    def flush() -> None:
        nonlocal block, offset
        if block:
            blocks.append(_bgzf_block(block))
            offset += len(blocks[-1])
            block = b""

    for chrom, beg, end, line in lines:
        if len(block) + len(line) > BGZF_BLOCK:
            flush()
        start = offset << 16 | len(block)
        block += line
        records.append((chrom, beg, end, start, offset << 16 | len(block)))
    flush()
    with open(path, "wb") as handle:
        handle.write(b"".join(blocks) + BGZF_EOF)
    return records


def _tabix_index(records: list[tuple[str, int, int, int, int]]) -> bytes:
    """The tabix index (``.tbi``, preset bed) of sorted records, uncompressed."""
    names: list[str] = []
    bins: dict[str, dict[int, list[list[int]]]] = {}
    linear: dict[str, dict[int, int]] = {}
    for chrom, beg, end, voffset, voffset_end in records:
        if chrom not in bins:
            names.append(chrom)
            bins[chrom], linear[chrom] = {}, {}
        chunks = bins[chrom].setdefault(reg2bin(beg, end), [])
        if chunks and chunks[-1][1] == voffset:
            chunks[-1][1] = voffset_end
        else:
            chunks.append([voffset, voffset_end])
        for window in range(beg >> LINEAR_SHIFT, ((end - 1) >> LINEAR_SHIFT) + 1):
            linear[chrom].setdefault(window, voffset)  # records are sorted: the first is the smallest
    text = b"".join(name.encode() + b"\0" for name in names)
    out = [b"TBI\1", struct.pack("<iiiiiiii", len(names), TBX_UCSC, 1, 2, 3, ord("#"), 0, len(text)), text]
    for name in names:
        out.append(struct.pack("<i", len(bins[name])))
        for number, chunks in sorted(bins[name].items()):
            out.append(struct.pack("<Ii", number, len(chunks)))
            out.extend(struct.pack("<QQ", *chunk) for chunk in chunks)
        windows = linear[name]
        offsets, previous = [], 0
        for window in range(max(windows) + 1):  # windows without a record take the previous offset
            previous = windows.get(window, previous)
            offsets.append(previous)
        out.append(struct.pack("<i", len(offsets)))
        out.append(struct.pack(f"<{len(offsets)}Q", *offsets))
    return b"".join(out)


def bgzip_and_index(rows: Iterable[tuple[int, list[str]]], path: str) -> str:
    """Write the BED ``rows`` sorted (chrom, start, end) to ``path`` bgzipped, with its tabix index ``path.tbi``."""
    lines = sorted((cells[0], int(cells[1]), int(cells[2]), ("\t".join(cells) + "\n").encode())
                   for _, cells in rows)
    records = _write_records(lines, path)
    with open(path + ".tbi", "wb") as handle:
        handle.write(_bgzf(_tabix_index(records)))
    return path


# ---- the job's inputs --------------------------------------------------------------------------

def feature_names(values: Iterable[Any], targets: list[tuple[int, list[str]]]) -> list[str]:
    """The features to predict (the feature list's cells, in order), each present in the target file."""
    features = [str(value).strip() for value in values]
    features = [feature for feature in features if feature]
    if not features:
        raise ToolInputError(f"{FEATURES_LABEL}: no feature names")
    if len(set(features)) != len(features):
        repeated = next(feature for feature in features if features.count(feature) > 1)
        raise ToolInputError(f"{FEATURES_LABEL}: {repeated[:60]!r} is listed twice; list each feature once")
    known = {cells[3] for _, cells in targets}
    for feature in features:
        if len(feature) > MAX_FEATURE_CHARS:
            raise ToolInputError(f"{FEATURES_LABEL}: a feature name is longer than {MAX_FEATURE_CHARS} characters")
        if feature not in known:
            raise ToolInputError(f"{FEATURES_LABEL}: {feature[:60]!r} is not a feature of {TARGETS_LABEL} (its 4th "
                                 f"column has {', '.join(sorted(known)[:5])}{' ...' if len(known) > 5 else ''})")
    return features


def window(start: int, end: int, seq_length: int, center_bin: int) -> tuple[int, int]:
    """The window galaxy-ml encodes around the middle of [start, end) (its unshuffled sample): the center
    bin and (seq_length - center_bin) / 2 bases on each side."""
    middle = int(start + 0.5 * (end - start))
    side = (seq_length - center_bin) // 2
    return middle - center_bin // 2 - side, middle + center_bin // 2 + center_bin % 2 + side


def stage_interval_inputs(options: dict[str, Any], seq_length: int, center_bin: int,
                          features: Iterable[Any]) -> dict[str, Any]:
    """The generator's paths and features from the job's inputs, each checked, in a new working folder.

    ``{"ref_genome_path", "intervals_path", "target_path", "features", "n_intervals"}``. Every interval must
    lie on a sequence of the genome, with the ``seq_length`` window around its middle inside it (else
    galaxy-ml would sample again and again); every target line on a sequence of the genome. The
    indexed target file holds the lines of the listed features only.
    """
    genome = stage_fasta(options.get("ref_genome_file"), GENOME_LABEL, "genome.fasta")
    lengths = sequence_lengths(genome, GENOME_LABEL)
    folder = os.path.dirname(genome)
    intervals = read_bed(options.get("interval_file"), INTERVALS_LABEL, 3)
    for number, cells in intervals:
        _check_chromosome(cells, number, lengths, INTERVALS_LABEL)
        low, high = window(int(cells[1]), int(cells[2]), seq_length, center_bin)
        if low < 0 or high > lengths[cells[0]]:
            raise ToolInputError(f"{INTERVALS_LABEL}: line {number}: the {seq_length} bases (seq_length) around the "
                                 f"middle of {cells[0]}:{cells[1]}-{cells[2]} reach outside {cells[0]} "
                                 f"(length {lengths[cells[0]]})")
    targets = read_bed(options.get("target_file"), TARGETS_LABEL, 4)
    for number, cells in targets:
        _check_chromosome(cells, number, lengths, TARGETS_LABEL)
        if int(cells[2]) > TBI_MAX_POSITION:
            raise ToolInputError(f"{TARGETS_LABEL}: line {number}: end {int(cells[2]):,} is beyond {TBI_MAX_POSITION:,}, "
                                 "the largest position a tabix index holds")
    names = feature_names(features, targets)
    intervals_path = os.path.join(folder, "intervals.bed")
    with open(intervals_path, "w") as handle:  # what galaxy-ml parses: chrom, start, end, no header lines
        handle.writelines(f"{cells[0]}\t{cells[1]}\t{cells[2]}\n" for _, cells in intervals)
    # only the listed features' lines: selene fails (KeyError) on a line of a feature it does not predict
    wanted = set(names)
    target_path = bgzip_and_index([row for row in targets if row[1][3] in wanted],
                                  os.path.join(folder, "targets.bed.gz"))
    return {"ref_genome_path": genome, "intervals_path": intervals_path, "target_path": target_path,
            "features": names, "n_intervals": len(intervals)}


def encode_intervals(generator: Any, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """``(sequences, targets, skipped)`` of the intervals at ``indices`` (shape ``(n, 1)``), each at its middle.

    For evaluation: galaxy-ml's ``sample`` draws a random position in each interval; here each is
    encoded once, at its middle. An interval galaxy-ml cannot encode there (its window overlaps a
    blacklisted region) is skipped and counted; one of them at least can be encoded
    (:func:`check_sets_can_be_sampled`, before training). The float32 table is allocated once, its size
    checked against the job's memory first.
    """
    check_one_hot(len(indices), generator.seq_length, 4, INTERVALS_LABEL, "encoding its intervals")
    sequences = np.empty((len(indices), generator.seq_length, 4), dtype="float32")
    targets: list[np.ndarray] = []
    for index in indices[:, 0]:
        encoded = generator.apply_transform(int(index), shuffle=False)
        if encoded is not None:
            sequences[len(targets)] = encoded[0]
            targets.append(encoded[1])
    skipped = len(indices) - len(targets)
    return sequences[:len(targets)], np.stack(targets).astype("int32"), skipped


def check_sets_can_be_sampled(batch_generator: Any, sets: dict[str, np.ndarray]) -> None:
    """Refuse, before training, a set (``{name: interval indices, shape (n, 1)}``) none of whose intervals
    galaxy-ml can encode at its middle.

    While training and validating, galaxy-ml draws another interval, without end, whenever one cannot be
    encoded (its window overlaps a blacklisted region): a set of such intervals only would keep the job
    running until Galaxy's time limit. One encodable middle per set is enough for it to find samples.
    (galaxy-ml also means to skip windows of over 30 % N, but selene encodes N as four 0.25s, so its test,
    the mean row sum, is always 1: N-rich windows are encoded, as they were in the Galaxy-ML tools.)
    """
    from sklearn.base import clone

    generator = clone(batch_generator)
    generator.set_processing_attrs()
    try:
        for name, indices in sets.items():
            if not any(generator.apply_transform(int(index), shuffle=False) is not None for index in indices[:, 0]):
                raise ToolInputError(f"{INTERVALS_LABEL}: none of the {len(indices)} intervals of the {name} set can be "
                                     "encoded at its middle (each overlaps a blacklisted region): choose another blacklist "
                                     "or other intervals")
    finally:
        generator.close()


# ---- variants (model_prediction's "reference genome and variant call file") ---------------------

VCF_COLUMNS = ["#CHROM", "POS", "ID", "REF", "ALT"]
VCF_BASES = set("ACGTNacgtn")


def stage_vcf(path: str | None, folder: str) -> tuple[str, int]:
    """A copy of the VCF's first five columns in ``folder`` (what galaxy-ml reads), each line checked.

    Returns ``(path, number of variant lines)``. POS must be a position from 1, REF bases, ALT bases
    (several separated by commas, or ``*``); symbolic alleles (``<DEL>``) and breakends are refused.
    """
    if not path:
        raise ToolInputError(f"{VCF_LABEL}: no dataset given")
    out, count = [], 0
    for number, line in text_lines(path, VCF_LABEL):
        cells = line.rstrip("\r\n").split("\t")
        if line.startswith("##") or not line.strip():
            continue
        if line.startswith("#"):
            if cells[:5] != VCF_COLUMNS:
                raise ToolInputError(f"{VCF_LABEL}: line {number}: the header line must start with "
                                     f"{' '.join(VCF_COLUMNS)}")
            continue
        if len(cells) < 5:
            raise ToolInputError(f"{VCF_LABEL}: line {number} has {len(cells)} tab-separated columns; "
                                 "expected at least 5 (CHROM, POS, ID, REF, ALT)")
        chrom, pos, name, ref, alt = cells[:5]
        parse_int(pos, f"{VCF_LABEL}: line {number}: POS", 1, MAX_POSITION)
        alleles = alt.split(",")
        if not ref or set(ref) - VCF_BASES or any(
                allele != "*" and (not allele or set(allele) - VCF_BASES) for allele in alleles):
            raise ToolInputError(f"{VCF_LABEL}: line {number}: REF {ref[:30]!r} and ALT {alt[:30]!r} must be "
                                 "bases (A, C, G, T, N; ALT: several separated by commas, or *)")
        if "#" in "".join(cells[:5]):
            raise ToolInputError(f"{VCF_LABEL}: line {number}: unexpected '#' in its first five columns")
        out.append(f"{chrom}\t{pos}\t{name}\t{ref}\t{alt}\n")
        count += 1
    if not count:
        raise ToolInputError(f"{VCF_LABEL}: no variant lines")
    staged = os.path.join(folder, "variants.vcf")
    with open(staged, "w") as handle:
        handle.write("\t".join(VCF_COLUMNS) + "\n")
        handle.writelines(out)
    return staged, count


VARIANT_BYTES_PER_VALUE = 20  # an encoded variant's value: float64 from galaxy-ml, stacked (8), then float32 (4)


def variant_chunks(generator: Any, chunk_rows: int) -> Iterator[tuple[range, np.ndarray]]:
    """``(indices, encoded)`` of galaxy-ml's GenomicVariantBatchGenerator's variants, a chunk at a time (fewer for
    long sequences): each allele (or its reference) one-hot encoded as ``(seq_length, 4)`` float32."""
    variants = generator.variants
    chunk_rows = one_hot_chunk_rows(chunk_rows, generator.seq_length, 4, VARIANT_BYTES_PER_VALUE)
    for start in range(0, len(variants), chunk_rows):
        indices = range(start, min(start + chunk_rows, len(variants)))
        encoded = [generator.apply_transform(index) for index in indices]
        for index, array in zip(indices, encoded, strict=True):
            if array.shape != (generator.seq_length, 4):
                chrom, pos, _, ref, alt, _ = variants[index]
                raise ToolInputError(f"{VCF_LABEL}: the variant {chrom}:{pos} {ref[:20]}>{alt[:20]} is encoded as "
                                     f"{array.shape[0]} bases, not {generator.seq_length}")
        yield indices, np.stack(encoded).astype("float32")
