"""A graph that is invalid for its inputs raises under FAST_RUN exactly as without rewrites:
asking only for a shape, or a zeros_like, never skips the node that checks its inputs."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T

x, y = T.matrix("x"), T.matrix("y")
v = T.vector("v")
n = T.scalar("n", dtype="int64")
a3, b3 = T.tensor3("a"), T.tensor3("b")
X23, Y43 = np.ones((2, 3)), np.ones((4, 3))

CASES = {
    "specify_shape": ([x], lambda: T.specify_shape(x, (3, None)).shape, [X23]),
    "specify_shape_static": ([x], lambda: T.specify_shape(x, (3, 3)).shape, [X23]),
    "specify_shape_below_elementwise": ([x], lambda: (T.specify_shape(x, (3, 3)) ** 2).shape,
                                        [X23]),
    "gradient_of_bad_dot": ([x, y], lambda: exprc.grad(T.dot(x, y).sum(), x),
                            [np.ones((1, 1)), Y43]),
    "broadcast_shape": ([x, y], lambda: (x + y).shape, [X23, Y43]),
    "zeros_like_of_bad_broadcast": ([x, y], lambda: T.zeros_like(x + y), [X23, Y43]),
    "dot_shape": ([x, y], lambda: T.dot(x, y).shape, [X23, Y43]),
    "index_shape": ([x], lambda: x[10].shape, [X23]),
    "concatenate_shape": ([x, y], lambda: T.concatenate([x, y.T]).shape, [X23, Y43]),
    "reshape_shape": ([v], lambda: v.reshape((4, 2)).shape, [np.ones(6)]),
    "batched_dot_shape": ([a3, b3], lambda: T.batched_dot(a3, b3).shape,
                          [np.ones((1, 2, 3)), np.ones((5, 3, 4))]),
    "arange_step_zero": ([n], lambda: T.arange(0, 5, n).shape, [0]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_graph_raises_in_every_mode(name):
    inputs, build, values = CASES[name]
    out = build()
    for mode in ("REFERENCE", "FAST_RUN"):
        f = exprc.function(inputs, out, mode=mode)
        with pytest.raises((ValueError, IndexError)):
            f(*values)


def test_the_shape_of_an_elementwise_result_skips_it_but_keeps_the_check():
    f = exprc.function([x], (T.tanh(T.specify_shape(x, (2, 3))) ** 2).shape)
    ops = [type(node.op).__name__ for node in f.fgraph.toposort()]
    assert ops == ["SpecifyShape", "Shape"], ops
    np.testing.assert_array_equal(f(X23), [2, 3])
    with pytest.raises(ValueError, match="specified shape"):
        f(Y43)
