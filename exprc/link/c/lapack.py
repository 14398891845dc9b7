"""LAPACK for the runtime library, from the same ``scipy-openblas32`` build as BLAS.

The wheel's library exports the Fortran LAPACK routines with its symbol prefix
(``scipy_dpotrf_``, ...). The runtime library keeps one table of them per element type
(``csrc/exprc_lapack.h``) and is handed their addresses once, when it is loaded
(:meth:`~exprc.link.c.runtime.RuntimeLibrary.bind_blas`), in the order of :data:`ROUTINES`,
which is the order of ``EXPRC_LAPACK_ROUTINES`` in the header.
"""

from __future__ import annotations

from exprc.link.c.blas import BlasNotFoundError, blas_routine

#: The routines bound for each element type, in the header's order.
ROUTINES = ("potrf", "potrs", "gesv", "getrf", "trtrs", "sysv", "syevd", "sygvd", "gesdd",
            "geqrf", "orgqr", "geev", "gelsd")

#: LAPACK's letter for each element type, in the order the tables are bound.
TYPE_LETTERS = ("s", "d")


def routine_addresses() -> list[int]:
    """The addresses of the routines, float32 ones first, each type in :data:`ROUTINES` order.

    Raises
    ------
    BlasNotFoundError
        When the OpenBLAS build lacks one of them.
    """
    addresses = []
    for letter in TYPE_LETTERS:
        for name in ROUTINES:
            try:
                addresses.append(blas_routine(f"{letter}{name}_"))
            except AttributeError:
                raise BlasNotFoundError(f"the OpenBLAS library has no LAPACK routine "
                                        f"{letter}{name}_; exprc's matrix functions need an "
                                        "OpenBLAS built with LAPACK") from None
    return addresses


def bind(module) -> None:
    """Hand the routines' addresses to the runtime library loaded as ``module`` (cffi)."""
    ffi = module.ffi
    addresses = routine_addresses()
    table = ffi.new("void *[]", [ffi.cast("void *", a) for a in addresses])
    if module.exprc_lapack_bind(table, len(addresses)) != 0:
        raise BlasNotFoundError("the runtime library's LAPACK table does not match the "
                                f"{len(addresses)} routines of exprc.link.c.lapack.ROUTINES")
