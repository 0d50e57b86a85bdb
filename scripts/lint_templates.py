"""cfn-lint gate over every template of a synthesized cloud assembly (nested stage assemblies included).

Usage: python -m scripts.lint_templates [cdk.out]
Exits non-zero on any error or warning.

Linting is the slow part of ``make synth``, and most synths leave most templates unchanged. The findings of a
template are kept in ``.cache/cfn-lint/`` under a key of its content, its Region, the cfn-lint version and the
rule settings, so an unchanged template is not linted again; changed templates are linted in parallel, one
process per core. A template whose key is not in the cache is always linted.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# W3005 ("DependsOn already enforced by GetAtt/Ref") is a known false positive on CDK output:
# CDK adds explicit DependsOn for ordering it cannot express otherwise, which is harmless.
IGNORED_CHECKS = ("W3005",)
CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache" / "cfn-lint"


def stack_templates(assembly_dir: Path) -> Iterator[tuple[Path, str]]:
    """Yields (template path, Region) for every stack in the assembly and its nested assemblies."""
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    for artifact in manifest.get("artifacts", {}).values():
        properties = artifact.get("properties", {})
        if artifact["type"] == "aws:cloudformation:stack":
            region = artifact["environment"].rsplit("/", 1)[-1]
            yield assembly_dir / properties["templateFile"], region
        elif artifact["type"] == "cdk:cloud-assembly":
            yield from stack_templates(assembly_dir / properties["directoryName"])


def cache_key(template: bytes, region: str) -> str:
    """Everything that decides a template's findings: its content, Region, the linter and its rule settings."""
    settings = json.dumps(
        {"cfn-lint": importlib.metadata.version("cfn-lint"), "region": region, "ignored": IGNORED_CHECKS}
    )
    return hashlib.sha256(settings.encode() + b"\0" + template).hexdigest()


def _lint(template: Path, region: str) -> list[str]:
    from cfnlint.api import ManualArgs, lint_file  # deferred: importing cfn-lint costs a second

    config = ManualArgs(regions=[region], ignore_checks=list(IGNORED_CHECKS))
    return [str(match) for match in lint_file(template, config=config)]


def _cached_findings(path: Path) -> list[str] | None:
    try:
        findings = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None  # absent or damaged: lint again
    return findings if isinstance(findings, list) else None


def _cache_findings(path: Path, findings: list[str]) -> None:
    """Written atomically: synths and test workers that lint at the same time never read half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(findings))
    partial.replace(path)


def lint_assembly(assembly_dir: Path, cache_dir: Path = CACHE_DIR) -> tuple[int, int, list[str]]:
    """Returns the number of templates checked, how many of them were linted (not cached), and the findings."""
    templates = list(stack_templates(assembly_dir))
    keys = {template: cache_key(template.read_bytes(), region) for template, region in templates}
    findings: dict[Path, list[str]] = {}
    pending = []
    for template, region in templates:
        cached = _cached_findings(cache_dir / f"{keys[template]}.json")
        if cached is None:
            pending.append((template, region))
        else:
            findings[template] = cached
    if pending:
        workers = min(len(pending), os.cpu_count() or 1)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = pool.map(_lint, *zip(*pending, strict=True))
            for (template, _), result in zip(pending, results, strict=True):
                findings[template] = result
                _cache_findings(cache_dir / f"{keys[template]}.json", result)
    lines = [f"{template.name}: {line}" for template, _ in templates for line in findings[template]]
    return len(templates), len(pending), lines


def main(argv: list[str]) -> int:
    assembly_dir = Path(argv[1] if len(argv) > 1 else "cdk.out")
    count, linted, findings = lint_assembly(assembly_dir)
    for finding in findings:
        print(finding, file=sys.stderr)
    print(f"cfn-lint: {count} template(s) ({linted} linted, {count - linted} unchanged), {len(findings)} finding(s)")
    return 1 if findings or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
