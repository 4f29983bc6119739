"""Pure configuration resolution: files -> commands -> a frozen resolved configuration."""
