"""Code generation every C-like backend shares: the scalar-op renderer with its dialects
(:mod:`~exprc.link.codegen.render`), the elementwise loop emitter
(:mod:`~exprc.link.codegen.loops`) and the schedule of a whole program: variable names,
constants, and where each value's buffer is released (:mod:`~exprc.link.codegen.schedule`).
A backend adds its rule table and toolchain beside them (``exprc/link/c``)."""
