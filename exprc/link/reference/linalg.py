"""Reference implementations (being written)."""
