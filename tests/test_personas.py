"""The persona roles: what each may do, derived from what ``mlp`` calls, and the README's table of who runs what."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache

import pytest
from botocore import xform_name
from botocore.session import get_session

from ml_constructs.personas import endpoint_name_pattern
from operator_cli.cli import build_parser
from platform_config.naming import stack_name
from platform_contract.names import StackId
from platform_contract.personas import CDK_DEPLOY, MLP_COMMANDS, Persona, actions_of
from tests.conftest import PROJECT_ROOT, SERVING_REGION

OPERATOR_CLI = PROJECT_ROOT / "operator_cli"
_MODULES = {path.stem for path in OPERATOR_CLI.glob("*.py")}
"""Calls ``<module>.<function>`` of these are calls into operator_cli; any other attribute call is not."""
_IAM_PREFIX = {"sagemaker-runtime": "sagemaker"}
# boto3's managed transfer: CreateMultipartUpload, UploadPart and CompleteMultipartUpload are all s3:PutObject.
_TRANSFERS = {("s3", "upload_file"): ("s3:PutObject", "s3:AbortMultipartUpload")}


@cache
def _operations(service: str) -> dict[str, str]:
    return {xform_name(name): name for name in get_session().get_service_model(service).operation_names}


def _action(service: str, method: str) -> str:
    return f"{_IAM_PREFIX.get(service, service)}:{_operations(service)[method]}"


class _Function:
    def __init__(self) -> None:
        self.actions: set[str] = set()
        self.callees: set[str] = set()


def _client_service(node: ast.AST, clients: dict[str, str]) -> str | None:
    """The service of a boto3 client expression: ``aws.client("s3")`` or a name bound to one."""
    if isinstance(node, ast.Name):
        return clients.get(node.id)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "client"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        return str(node.args[0].value)
    return None


def _facts(function: ast.FunctionDef) -> _Function:
    facts, clients = _Function(), {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            service = _client_service(node.value, {})
            if service:
                clients[node.targets[0].id] = service
    for node in ast.walk(function):
        if isinstance(node, ast.List) and len(node.elts) > 1:
            program, verb = node.elts[:2]
            if isinstance(program, ast.Name) and program.id == "cdk" and _text(verb) == "deploy":
                facts.actions.add(CDK_DEPLOY)
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name):
            facts.callees.add(node.func.id)
        elif isinstance(node.func, ast.Attribute):
            service = _client_service(node.func.value, clients)
            module = node.func.value
            if service is None and isinstance(module, ast.Name) and module.id in _MODULES:
                facts.callees.add(node.func.attr)
            elif service is None:
                continue
            elif (service, node.func.attr) in _TRANSFERS:
                facts.actions.update(_TRANSFERS[service, node.func.attr])
            elif node.func.attr == "get_paginator":
                facts.actions.add(_action(service, _text(node.args[0])))
            elif node.func.attr in _operations(service):
                facts.actions.add(_action(service, node.func.attr))
    return facts


@cache
def _functions() -> dict[str, _Function]:
    functions: dict[str, _Function] = {}
    for path in sorted(OPERATOR_CLI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                functions[node.name] = _facts(node)
    return functions


def _reachable_actions(entries: set[str]) -> set[str]:
    functions, seen, actions = _functions(), set(), set()
    pending = [name for name in entries if name in functions]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        actions |= functions[name].actions
        pending += [callee for callee in functions[name].callees if callee in functions]
    return actions


def _command_names(test: ast.expr) -> list[str]:
    """The commands an ``if args.command == ...`` or ``... in (...)`` test selects."""
    if isinstance(test, ast.Compare) and getattr(test.left, "attr", "") == "command":
        right = test.comparators[0]
        elements = right.elts if isinstance(right, ast.Tuple) else [right]
        return [_text(element) for element in elements]
    return []


def _text(node: ast.expr) -> str:
    """A string literal's text; anything else is outside what these tests can read from the source."""
    assert isinstance(node, ast.Constant) and isinstance(node.value, str), ast.dump(node)
    return node.value


def _branches(statements: list[ast.stmt]) -> Iterator[tuple[list[str], list[ast.stmt]]]:
    for statement in statements:
        if isinstance(statement, ast.If) and _command_names(statement.test):
            yield _command_names(statement.test), statement.body
            yield from _branches(statement.orelse)


def derived_command_actions() -> dict[str, set[str]]:
    """Per mlp command: the IAM actions of the AWS calls that ``run`` reaches for it, through every function of
    operator_cli it calls. Statements of ``run`` outside the command branches run for every command after the
    first branch (``status``, which returns)."""
    tree = ast.parse((OPERATOR_CLI / "cli.py").read_text())
    run = next(node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "run")
    common: set[str] = set()
    derived: dict[str, set[str]] = {}
    for index, statement in enumerate(run.body):
        branches = list(_branches([statement]))
        if not branches:
            if index > 0:
                common |= _facts(ast.FunctionDef(name="", body=[statement], decorator_list=[], args=run.args)).callees
            continue
        for names, body in branches:
            callees = _facts(ast.FunctionDef(name="", body=body, decorator_list=[], args=run.args)).callees
            for name in names:
                derived[name] = _reachable_actions(callees | (common if index > 0 else set()))
    return derived


def test_the_command_table_lists_every_mlp_command():
    parser = build_parser()
    subcommands = next(action for action in parser._actions if action.dest == "command")
    assert set(MLP_COMMANDS) == set(subcommands.choices)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", MLP_COMMANDS)
def test_each_commands_actions_are_the_calls_operator_cli_makes_for_it(command):
    assert derived_command_actions()[command] == set(MLP_COMMANDS[command].actions)


def _allowed_actions(template, persona: Persona) -> set[str]:
    logical_id = "Personas" + "".join(part.capitalize() for part in persona.value.split("_"))
    policies = [
        policy
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if policy["Properties"]["Roles"][0]["Ref"].startswith(logical_id)
    ]
    (policy,) = policies
    actions: set[str] = set()
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        found = statement["Action"]
        actions |= set(found if isinstance(found, list) else [found])
    return actions


@pytest.mark.parametrize("persona", Persona)
def test_each_persona_may_call_what_its_commands_call(platform, persona):
    allowed = _allowed_actions(platform.template(SERVING_REGION, "studio"), persona)
    assert actions_of(persona) <= allowed
    assert not any("*" in action for action in allowed), "no wildcard actions"


def test_only_the_approver_changes_approvals_and_only_the_operator_deploys(platform):
    template = platform.template(SERVING_REGION, "studio")
    allowed = {persona: _allowed_actions(template, persona) for persona in Persona}
    assert [p for p in Persona if "sagemaker:UpdateModelPackage" in allowed[p]] == [Persona.APPROVER]
    assert [p for p in Persona if CDK_DEPLOY in allowed[p]] == [Persona.OPERATOR]
    for persona in Persona:
        assert not allowed[persona] & {"sagemaker:CreateModelPackage", "sagemaker:CreateEndpoint", "iam:PassRole"}


def test_the_readme_says_which_persona_runs_each_command():
    readme = (PROJECT_ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `mlp ([a-z-]+)` \| ([^|]+) \|", readme, flags=re.MULTILINE))
    assert {command: {p.strip() for p in rows.get(command, "").split(",")} for command in MLP_COMMANDS} == {
        command: {persona.value for persona in spec.personas} for command, spec in MLP_COMMANDS.items()
    }


def test_endpoint_permissions_match_the_name_the_serving_stack_gives_its_endpoint(platform):
    (endpoint,) = platform.template(SERVING_REGION, "serving").find_resources("AWS::SageMaker::Endpoint").values()
    name = endpoint["Properties"]["EndpointName"].lower()
    assert re.fullmatch(endpoint_name_pattern(stack_name(SERVING_REGION, StackId.SERVING)).replace("*", ".+"), name)
