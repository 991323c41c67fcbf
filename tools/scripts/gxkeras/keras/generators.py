"""galaxy-ml's batch generators (``KerasGBatchClassifier``'s ``data_batch_generator``): as a model file
stores them, checked, and built from a checked description.
"""
from typing import Any

from gxkeras.galaxy import forms
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.values import SEED_MAX
from gxkeras.keras.options import is_count, is_number

# The batch generators, as "Build Deep learning Batch Training Models" offers them (the one source of
# truth), and those that run: the FASTA ones and the genomic-interval one. A model file stores the generator
# as ``{"generator_type": ..., <its fields>}`` and never a file path: the FASTA, or the reference genome,
# intervals and targets, come from the job's inputs (gxkeras.data.fasta, gxkeras.data.genomic).
GENERATOR_ARGS = {name: args for name, args in forms.when_params("keras_batch_models", "generator_type").items()
                  if name != "none"}
FASTA_GENERATORS = ("FastaDNABatchGenerator", "FastaRNABatchGenerator", "FastaProteinBatchGenerator")
GENOMIC_GENERATOR = "GenomicIntervalBatchGenerator"
RUNNING_GENERATORS = (*FASTA_GENERATORS, GENOMIC_GENERATOR)
NOT_SUPPORTED_GENERATORS = {"none": "no generator"}
# The ENCODE blacklists galaxy-ml ships (selene's Genome opens its own copy by name); any other value,
# e.g. a file path, is refused.
BLACKLISTS = forms.options("keras_batch_models", "blacklist_regions")
MAX_SEQ_LENGTH = 100_000  # the form's maximum: one sequence of 100,000 x 20 float32 is 8 MB


def _seed_or_none(value: object) -> bool:
    return value is None or (is_count(value) and value <= SEED_MAX)


GENERATOR_CHECKS = {
    "seq_length": (f"an integer from 1 to {MAX_SEQ_LENGTH}", lambda v: is_count(v) and 1 <= v <= MAX_SEQ_LENGTH),
    "shuffle": ("true or false", lambda v: isinstance(v, bool)),
    "seed": ("empty or an integer >= 0", _seed_or_none),
    "blacklist_regions": (f"one of {', '.join(BLACKLISTS)}", lambda v: v in BLACKLISTS),
    "center_bin_to_predict": (f"an integer from 1 to {MAX_SEQ_LENGTH}",
                              lambda v: is_count(v) and 1 <= v <= MAX_SEQ_LENGTH),
    "feature_thresholds": ("empty or a number from 0 to 1", lambda v: v is None or (is_number(v) and 0 <= v <= 1)),
    "random_state": ("empty or an integer >= 0", _seed_or_none),
}
# Batch classifier parameters besides the builder's: galaxy-ml stores n_jobs (always 1 here).
BATCH_PARAMS = ("data_batch_generator", "prediction_steps", "class_positive_factor", "n_jobs")


def check_generator(spec: object, where: str) -> dict[str, Any] | None:
    """A stored batch generator (``{"generator_type": ..., fields}``), checked; None when the model has none.

    Only the generators that run, with their own fields in range; a path (``fasta_path``,
    ``ref_genome_path``, ``target_path`` ..., or any other field) is refused: a model file may not choose
    which file a job reads.
    """
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ToolInputError(f"{where}: the data_batch_generator is not a generator description")
    kind = spec.get("generator_type")
    if kind not in RUNNING_GENERATORS:
        raise ToolInputError(f"{where}: the data_batch_generator is a {str(kind)[:60]!r}; only "
                             f"{', '.join(RUNNING_GENERATORS)} are accepted")
    for key, value in spec.items():
        if key == "generator_type":
            continue
        if "path" in str(key) or key not in GENERATOR_ARGS[kind]:
            raise ToolInputError(f"{where}: the data_batch_generator ({kind}) has a field {str(key)[:60]!r}, which "
                                 "the form never sets; a stored file path is refused (the sequences come from the "
                                 "job's inputs)")
        text, ok = GENERATOR_CHECKS[key]
        if not ok(value):
            raise ToolInputError(f"{where}: the data_batch_generator's {key} must be {text}, got {str(value)[:60]!r}")
    if kind == GENOMIC_GENERATOR:
        length, center = spec.get("seq_length", 1000), spec.get("center_bin_to_predict", 200)
        if center > length or (length - center) % 2:
            raise ToolInputError(f"{where}: center_bin_to_predict ({center}) must be at most seq_length ({length}), "
                                 "and seq_length - center_bin_to_predict even (the bases around the center bin "
                                 "are split equally on both sides)")
    return dict(spec)


def check_batch_params(params: dict[str, Any], label: str) -> None:
    """The parameters only a KerasGBatchClassifier has, as its form allows them."""
    check_generator(params.get("data_batch_generator"), label)
    if params.get("n_jobs", 1) != 1:
        raise ToolInputError(f"{label}: n_jobs must be 1, got {str(params.get('n_jobs'))[:60]!r}")
    steps = params.get("prediction_steps")
    if steps is not None and not (is_count(steps) and steps >= 1):
        raise ToolInputError(f"{label}: prediction_steps must be empty or a positive integer, got {str(steps)[:60]!r}")
    factor = params.get("class_positive_factor", 1)
    if not (is_number(factor) and factor > 0):
        raise ToolInputError(f"{label}: class_positive_factor must be a number > 0, got {str(factor)[:60]!r}")


def generator_spec(generator: Any) -> dict[str, Any]:
    """What a model file stores of a batch generator: its type and fields, never its file path."""
    spec = {"generator_type": type(generator).__name__}
    spec.update({key: getattr(generator, key) for key in GENERATOR_ARGS[spec["generator_type"]]})
    return spec


def make_generator(spec: dict[str, Any], fasta_path: str | None = None) -> Any:
    """galaxy-ml's generator of a checked ``spec``, reading ``fasta_path`` (a job's input; None until then).

    A genomic-interval generator gets its paths (genome, intervals, targets) and features from the
    training job (:func:`gxkeras.data.genomic.stage_interval_inputs`), never from here.
    """
    from galaxy_ml import preprocessors

    kind = spec["generator_type"]
    if kind not in RUNNING_GENERATORS:  # checked before; never build what the form does not offer
        raise ToolInputError(f"unknown batch generator {kind!r}")
    fields = {key: value for key, value in spec.items() if key != "generator_type"}
    if kind == GENOMIC_GENERATOR:
        if fields.get("feature_thresholds") is not None:  # selene applies a threshold only if it is a float
            fields["feature_thresholds"] = float(fields["feature_thresholds"])
        return preprocessors.GenomicIntervalBatchGenerator(**fields)
    return getattr(preprocessors, kind)(fasta_path, **fields)
