"""Exports: tasks reach the team's tracker (Redmine, GitHub, Jira, a signed webhook) exactly once.

A `task_exports` row is written in the transaction that decides the export (plan); the
worker claims it under a lease and calls the target (delivery); before creating an issue
it looks for our marker in the target, so a crash between the target's create and our
commit never makes a second one. Each target is one module behind `target.Target`.
"""
