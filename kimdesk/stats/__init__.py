"""Anonymised statistics for Controlling: figures per period and area, small-cell suppression,
the Zielsystem with measured values, and exports (CSV/XLSX).

A read-only layer beside ``casework``: it reads the models directly and never writes an entity.
Whatever leaves this package holds codes, German labels and suppressed counts, never a person.
"""
