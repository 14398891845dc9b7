"""function(), shared variables, In/Out and compilation modes."""
