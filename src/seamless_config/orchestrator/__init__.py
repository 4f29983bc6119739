"""Bring the configured services up: plan -> connect -> launch -> tunnel -> health-check.

``plan.py`` is pure (which services, in which order); ``runner.py`` runs a
plan concurrently in an anyio task group over the ``remote`` layer;
``report.py`` describes the outcome; ``loop.py`` runs it all from
synchronous code on one persistent background event loop.
"""
