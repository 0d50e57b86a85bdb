"""Files through Hadoop's FileSystem API, so one code path serves local folders, HDFS and S3 URIs.

In the SageMaker Spark container the default file system is the cluster's HDFS: a path without a
scheme means HDFS there, so local folders are always passed on as ``file://`` URIs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from data_preparation.settings import Problem

# The file kinds the training container reads (training_code's datasets.py); a test keeps them equal.
CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
# Files tools leave next to data (Spark's _SUCCESS, .crc, editor and OS files) are not data.
IGNORED_PREFIXES = ("_", ".")
_PART_NUMBER = re.compile(r"^part-(\d+)")


def as_uri(location: str) -> str:
    """A URI for ``location``: URIs unchanged, local paths as absolute file:// URIs."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", location):
        return location
    return Path(location).absolute().as_uri()


@dataclass(frozen=True)
class InputFiles:
    """The data files of a dataset, in a stable order, all of one kind."""

    kind: str
    """csv or parquet"""
    uris: tuple[str, ...]


class HadoopFiles:
    """The file operations the job needs, on the session's Hadoop configuration."""

    def __init__(self, spark: SparkSession):
        self._jvm: Any = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[union-attr]

    def _path(self, uri: str) -> tuple[Any, Any]:
        path = self._jvm.org.apache.hadoop.fs.Path(uri)
        return path.getFileSystem(self._conf), path

    def _files(self, uri: str) -> Iterator[str]:
        fs, path = self._path(uri)
        listing = fs.listFiles(path, True)
        while listing.hasNext():
            yield listing.next().getPath().toString()

    def input_files(self, uri: str, key: str) -> InputFiles | Problem:
        """The dataset's data files under ``uri``, or the problem with them (missing, none, mixed or unknown kinds)."""
        fs, path = self._path(uri)
        if not fs.exists(path):
            return Problem(key, f"{uri} does not exist", "a folder of CSV or Parquet files (raw/<dataset>/)")
        found = sorted(f for f in self._files(uri) if not f.rsplit("/", 1)[-1].startswith(IGNORED_PREFIXES))
        kinds = {"csv": [f for f in found if f.lower().endswith(CSV_SUFFIXES)]}
        kinds["parquet"] = [f for f in found if f.lower().endswith(PARQUET_SUFFIXES)]
        others = sorted(set(found) - set(kinds["csv"]) - set(kinds["parquet"]))
        allowed = f"files of one kind: CSV ({', '.join(CSV_SUFFIXES)}) or Parquet ({', '.join(PARQUET_SUFFIXES)})"
        if others:
            return Problem(key, f"{uri} holds files of an unknown kind: {', '.join(others[:5])}", allowed)
        if kinds["csv"] and kinds["parquet"]:
            return Problem(key, f"{uri} holds both CSV and Parquet files", allowed)
        if not found:
            return Problem(key, f"{uri} holds no data files", allowed)
        kind = "csv" if kinds["csv"] else "parquet"
        return InputFiles(kind, tuple(kinds[kind]))

    def publish(self, staged: str, destination: Path) -> int:
        """Copies Spark's part files under ``staged`` to ``destination`` as part-NNNNN.csv, named by
        partition number so that files written from the same partitioning pair up by name (test and
        test-labels); returns the number of files."""
        destination.mkdir(parents=True)
        count = 0
        for uri in sorted(self._files(staged)):
            name = uri.rsplit("/", 1)[-1]
            number = _PART_NUMBER.match(name)
            if number is None:
                continue
            source_fs, source = self._path(uri)
            target = self._jvm.org.apache.hadoop.fs.Path(as_uri(str(destination / f"part-{number.group(1)}.csv")))
            # The raw local file system writes no .crc checksum files, which batch transform would read as data.
            source_fs.copyToLocalFile(False, source, target, True)
            count += 1
        return count

    def delete(self, uri: str) -> None:
        fs, path = self._path(uri)
        fs.delete(path, True)
