"""Recurrent layers (filled in below)."""
