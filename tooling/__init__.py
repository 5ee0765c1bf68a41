"""Operator and developer tools: ``make run`` and its sandbox, deploy, the CLI, the demo and the
bench. Nothing here is deployed: ``make deploy`` stages only ``functions/<name>/main.py`` and
``shared/``, and ``shared/`` never imports this package (``tests/test_layout.py``)."""
