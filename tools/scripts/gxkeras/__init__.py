"""Shared layer of the Keras Galaxy tools: reading Galaxy's inputs, tabular data and reporting errors.

Each tool is one small script in ``tools/scripts/`` (named after the tool id) built on these modules.
"""
