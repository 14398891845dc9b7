"""ONNX rules of the random family: none. An exported function must be deterministic
(``prepare`` refuses random draws before any rule is asked)."""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor import random

for _op in (random.RandomBinomial, random.RandomChoice, random.RandomIntegers,
            random.RandomNormal, random.RandomPermutation, random.RandomUniform):
    ONNX.exempt(_op, "it draws random numbers, and an exported function must be "
                "deterministic (build the output with deterministic=True, without dropout "
                "or noise)")
