"""Test-session settings: quick C builds.

The suite compiles thousands of small functions with a cold compile cache, so it builds them
with the quick flag set (``-O1``); tests of the fully optimised build ask for it explicitly.
"""

import pytest

import exprc
from exprc.compat import install_theano, uninstall_theano

exprc.config.c_optimize = "fast"


@pytest.fixture
def theano_installed():
    """``import theano`` finds exprc's compatibility package during the test (for files that
    are written as Theano programs: ``pytestmark = pytest.mark.usefixtures(...)``)."""
    install_theano()
    yield
    uninstall_theano()
