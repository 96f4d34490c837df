"""Tests of the coordination screens."""
