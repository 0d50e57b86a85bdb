"""Stacks compose the constructs of ml_constructs; they hold no logic of their own."""
