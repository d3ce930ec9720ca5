"""Helpers shared by test files (not tests themselves)."""
