"""The exception types the commands report to SageMaker in their own way."""


class UserError(Exception):
    """Bad input or configuration: the message says what was wrong and what is allowed.

    A training job that fails with it reports the message as its FailureReason; the serving
    process prints it and exits before it starts listening.
    """


class TrainingStopped(Exception):
    """Training ended early because the job was asked to stop; the first host wrote a checkpoint of every round
    done, so a job started with the same checkpoints resumes after it."""

    def __init__(self, rounds: int) -> None:
        super().__init__(f"stopped after {rounds} rounds; the checkpoint holds them all")
        self.rounds = rounds
