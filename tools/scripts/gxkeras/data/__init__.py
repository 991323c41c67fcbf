"""Reading the datasets a job is given: tables, MatrixMarket matrices, FASTA, genomes, intervals and VCFs, text.

Every reader checks what it reads and names the input in its errors; what the tool scripts use is re-exported
here (``from gxkeras.data import read_tabular``), ``text`` is used as a module. Imports only :mod:`gxkeras.galaxy`.
"""
from gxkeras.data import text
from gxkeras.data.fasta import (
    FASTA_LABEL, check_sequence_input, fasta_chunks, quiet_generator_warning, sequence_lengths, sequence_names,
    stage_fasta,
)
from gxkeras.data.genomic import GENOME_LABEL, VCF_LABEL, stage_vcf, variant_chunks
from gxkeras.data.lines import bounded_lines
from gxkeras.data.matrix_market import matrix_chunks, read_matrix_market
from gxkeras.data.numeric_tables import has_header, is_number_text, read_numeric_table
from gxkeras.data.tabular import (
    check_row_lengths, iter_tabular, read_tabular, read_tabular_input, select_columns,
)

__all__ = [
    "FASTA_LABEL", "GENOME_LABEL", "VCF_LABEL", "bounded_lines", "check_row_lengths", "check_sequence_input",
    "fasta_chunks", "has_header", "is_number_text", "iter_tabular", "matrix_chunks", "quiet_generator_warning",
    "read_matrix_market", "read_numeric_table", "read_tabular", "read_tabular_input", "select_columns",
    "sequence_lengths", "sequence_names", "stage_fasta", "stage_vcf", "text", "variant_chunks",
]
