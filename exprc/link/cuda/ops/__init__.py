"""CUDA rules (the ``CUDA_CODE`` table), one module per op family; importing this package
fills the table. An op a module exempts runs on the CPU with transfers (see
:mod:`exprc.link.cuda.program`)."""

from exprc.tensor.families import load_rules

load_rules(__name__)
