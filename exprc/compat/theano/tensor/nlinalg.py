"""``theano.tensor.nlinalg``: ``matrix_inverse``, ``pinv``, ``det``, ``eig``, ``eigh``,
``svd``, ``qr``, ``lstsq``, ``trace``, ``diag``, ``extract_diag``, ``alloc_diag``,
``matrix_dot``, ``matrix_power``, ``norm``, ``tensorinv``, ``tensorsolve`` and the op classes
(exprc's own :mod:`exprc.tensor.nlinalg`).

Theano's two QR classes are one here, :class:`~exprc.tensor.nlinalg.QR`, which takes every
mode; ``QRFull`` and ``QRIncomplete`` name it. ``diag``, ``trace``, ``extract_diag``,
``alloc_diag``, ``tensorinv`` and ``tensorsolve`` are functions over other ops rather than op
classes. ``eig`` returns real arrays and fails on a complex eigenvalue (exprc has no complex
dtypes); ``qr`` has no ``'raw'`` mode.
"""

from exprc.tensor.nlinalg import *
from exprc.tensor.nlinalg import QR

QRFull = QR
QRIncomplete = QR
