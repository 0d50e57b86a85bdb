"""``monitor-data-quality`` and ``monitor-model-quality``: the platform's Model Monitor analyzer.

SageMaker's prebuilt analyzer image is not used: these commands follow Model Monitor's bring-your-own-container
contract instead (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-containers.html), in the
model image, with numpy only. ``contract`` reads what a monitoring job hands the container and writes what it
expects back; ``capture`` reads SageMaker's data capture files; ``data_quality`` and ``model_quality`` analyse.
"""
