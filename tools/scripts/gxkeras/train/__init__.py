"""The training layer's public face: what ``keras_train_and_eval`` uses to train and evaluate a model.

Modules (one concern each): form (the trainer's form, read once), swapping (the model loaded, checked and
its hyperparameters swapped), data (X and y read and checked), inputs (one object per input type: tabular,
sparse, fasta, genomic intervals), splits (the holdouts), class_weights, fit (the fit with its callbacks),
evaluation (metrics and outputs), tables (the output tables' format), scoring, epoch_shuffle, sparse_updates.
"""
from gxkeras.train.class_weights import class_weight_choice
from gxkeras.train.evaluation import metric_names, write_outputs
from gxkeras.train.fit import train
from gxkeras.train.form import MODEL_LABEL, TrainerForm, model_dataset
from gxkeras.train.inputs import input_kind
from gxkeras.train.splits import split
from gxkeras.train.swapping import load_model

__all__ = ["MODEL_LABEL", "TrainerForm", "class_weight_choice", "input_kind", "load_model", "metric_names",
           "model_dataset", "split", "train", "write_outputs"]
