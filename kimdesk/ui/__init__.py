"""The desktop interface (PySide6): the only package of KIMdesk that imports Qt.

Screens talk to :mod:`kimdesk.casework`, never to SQL directly; slow use cases run off the GUI
thread (:mod:`kimdesk.ui.operations`).
"""
