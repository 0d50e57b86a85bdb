"""The Prepare step's code as file assets: the data_preparation package as a zip for spark-submit's --py-files,
and the job script spark-submit runs.

The zip is built at synth from the package's modules (its tests left out), byte for byte the same for the same
sources (sorted entries, fixed timestamps), so that its asset hash, and the definition, change only with the code.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from data_preparation import contract

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = PROJECT_ROOT / contract.JOB_PACKAGE
SCRIPT = PROJECT_ROOT / contract.JOB_SCRIPT
ZIP_DIR = PROJECT_ROOT / ".cache" / "preparation-code"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can carry: no clock in the bytes


def package_modules() -> list[Path]:
    """The modules the job imports: the package's own, not its tests."""
    return sorted(PACKAGE_DIR.glob("*.py"))


def build_package_zip(directory: Path = ZIP_DIR) -> Path:
    """``data_preparation.zip`` for --py-files (``data_preparation/<module>.py`` entries), named by its content."""
    modules = package_modules()
    digest = hashlib.sha256(b"".join(path.name.encode() + path.read_bytes() for path in modules)).hexdigest()[:16]
    target = directory / f"{contract.JOB_PACKAGE}-{digest}.zip"
    if not target.exists():
        directory.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in modules:
                entry = zipfile.ZipInfo(f"{contract.JOB_PACKAGE}/{path.name}", date_time=_ZIP_TIME)
                entry.external_attr = 0o644 << 16
                archive.writestr(entry, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
        partial.replace(target)
    return target


class PreparationCode(Construct):
    """The data_preparation package (``package``, a zip) and job script (``script``) in the CDK's file-asset bucket."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.package = s3_assets.Asset(self, "Package", path=str(build_package_zip()))
        self.script = s3_assets.Asset(self, "Script", path=str(SCRIPT))

    def grant_read(self, grantee: iam.IGrantable) -> None:
        """Lets ``grantee`` (a job's role: SageMaker downloads the code with it) list and read the two objects."""
        assets = (self.package, self.script)
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=[asset.bucket.arn_for_objects(asset.s3_object_key) for asset in assets],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:ListBucket"],
            resource_arns=[self.package.bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [asset.s3_object_key for asset in assets]}},
        )
