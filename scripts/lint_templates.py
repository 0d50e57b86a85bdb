"""cfn-lint gate over every template of a synthesized cloud assembly (nested stage assemblies included).

Usage: python -m scripts.lint_templates [cdk.out]
Exits non-zero on any error or warning.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

from cfnlint.api import ManualArgs, lint_file

# W3005 ("DependsOn already enforced by GetAtt/Ref") is a known false positive on CDK output:
# CDK adds explicit DependsOn for ordering it cannot express otherwise, which is harmless.
IGNORED_CHECKS = ["W3005"]


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


def lint_assembly(assembly_dir: Path) -> tuple[int, list[str]]:
    """Returns the number of templates checked and one line per finding."""
    findings = []
    count = 0
    for template, region in stack_templates(assembly_dir):
        count += 1
        config = ManualArgs(regions=[region], ignore_checks=IGNORED_CHECKS)
        findings += [f"{template.name}: {match}" for match in lint_file(template, config=config)]
    return count, findings


def main(argv: list[str]) -> int:
    assembly_dir = Path(argv[1] if len(argv) > 1 else "cdk.out")
    count, findings = lint_assembly(assembly_dir)
    for finding in findings:
        print(finding, file=sys.stderr)
    print(f"cfn-lint: {count} template(s), {len(findings)} finding(s)")
    return 1 if findings or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
