"""Anonymised statistics for Controlling: figures per period and area protected by the cell key
method, the Zielsystem with measured values, exports (CSV/XLSX) and the county view.

A read-only layer beside ``casework``: it reads the models directly and never writes an entity.
Whatever leaves this package holds codes, German labels and protected counts, never a person.
"""
