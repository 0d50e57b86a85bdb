"""`mlp`, the operator CLI: finds each Region's resources from its stacks' outputs and runs day-2 tasks."""
