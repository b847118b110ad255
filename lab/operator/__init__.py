"""The operator's own configuration under test: oxlab.toml (project), where the
files go (placement), the rule catalogue (lint), the real tools' syntax checks (syntax)
and the starter files (init)."""
