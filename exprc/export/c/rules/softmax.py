"""Standalone C of the softmax family."""
