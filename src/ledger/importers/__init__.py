"""Readers of plan documents: text in, an `Edition` of plan facts out. Pure: no database."""
