"""Use cases of the case work: the UI, the CLI and sync call these and never write entities
around them. Each function takes a :class:`~kimdesk.casework.context.Context`, runs in one
transaction of the vault and records what it read or wrote in the audit trail.
"""
