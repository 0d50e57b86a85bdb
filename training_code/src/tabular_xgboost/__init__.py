"""SageMaker bring-your-own-container image: gradient-boosted trees (XGBoost) on tabular data."""
