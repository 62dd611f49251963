"""Package data: the built-in ruleset (installed as k8saudit_cli.default_rules)."""
