"""The training pipeline's steps as the SageMaker Python SDK builds them, one module per step builder, and the
generator that writes the definition from them in a process of its own (``generator``; ``definition_process``
starts it, offline, and caches what it writes).

Nothing here imports the SDK at load time: each builder imports what it uses when it runs, in the generator
process. Step builders take a ``StepContext`` (``context``): the spec, the SDK session, the pipeline parameters
and the deploy-time placeholders.

Volume keys: instance types with local NVMe storage encrypt it in hardware, and CreateTrainingJob,
CreateTransformJob and CreateProcessingJob reject a VolumeKmsKeyId for them
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html,
API_TransformResources.html, API_ProcessingClusterConfig.html). The evaluation's type is fixed at synth, so
its key is there or not; the training type is the TrainingInstanceType parameter, which an execution may
change, so the parameter only accepts the types of the default's storage kind (``EnumValues``, which
SageMaker checks when an execution starts) and the training step has a volume key exactly when they have
no local storage. A definition is thus valid for every value an execution may pass.
"""
