"""Bring the configured services up: plan -> connect -> launch -> tunnel -> health-check.

``plan.py`` is pure (which services, in which order); ``runner.py`` runs a
plan concurrently in an anyio task group over the ``remote`` layer;
``report.py`` describes the outcome; ``bringup.py`` is what ``init()`` and
``ainit()`` call, on the persistent background event loop of ``loop.py``
(``seamless-init``, a short-lived process, runs the plan with ``anyio.run``).
"""
