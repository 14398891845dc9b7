"""``theano.updates``: ``OrderedUpdates``, the ordered dict of ``{shared: new value}``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from exprc.tensor.sharedvar import SharedVariable

__all__ = ["OrderedUpdates"]


class OrderedUpdates(OrderedDict):
    """An ``OrderedDict`` of updates for :func:`theano.function`. Keys must be shared
    variables; merging two updates of the same key to different values (``update`` or ``+``)
    raises ``KeyError``, as in Theano."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()
        if args or kwargs:
            self.update(*args, **kwargs)

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(key, SharedVariable):
            raise TypeError(f"OrderedUpdates keys must be shared variables, got {key!r}")
        super().__setitem__(key, value)

    def update(self, other: Any = (), **kwargs: Any) -> None:
        if kwargs:
            raise TypeError("OrderedUpdates.update takes no keyword arguments")
        items = other.items() if isinstance(other, Mapping) else other
        for key, value in items:
            if key in self and self[key] is not value:
                raise KeyError(f"OrderedUpdates: collision, {key} is updated to both "
                               f"{self[key]} and {value}")
            self[key] = value

    def __add__(self, other: Any) -> OrderedUpdates:
        merged = OrderedUpdates(self)
        merged.update(other)
        return merged

    def __radd__(self, other: Any) -> OrderedUpdates:
        merged = OrderedUpdates(other)
        merged.update(self)
        return merged
