"""Command-line tools (thin façades over the configuration core and the orchestrator)."""
