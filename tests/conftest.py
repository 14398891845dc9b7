"""Test-session settings: quick C builds.

The suite compiles thousands of small functions with a cold compile cache, so it builds them
with the quick flag set (``-O1``); tests of the fully optimised build ask for it explicitly.
"""

import exprc

exprc.config.c_optimize = "fast"
