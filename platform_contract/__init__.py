"""What the CDK app, the operator CLI (`mlp`) and the deploy rehearsal must agree on.

Standard library only (botocore's service model aside, read lazily), so that `mlp` and the rehearsal can import it
without loading aws-cdk-lib. Each name is written here once; the others import it.
"""
