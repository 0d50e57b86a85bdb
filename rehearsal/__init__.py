"""Deploy rehearsal: the real CDK CLI deploys, updates and destroys one Region's stage against an
AWS emulator on loopback, the operator CLI (mlp) runs the day-2 operations on it, and every result
is checked through the AWS APIs. See README.md."""
