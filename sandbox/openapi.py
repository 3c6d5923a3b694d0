"""Check a request against Atlassian's official OpenAPI documents, so a call the real service would
refuse fails the test that made it, with the reason."""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlparse

from jsonschema import Draft4Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

Api = Literal["jira", "confluence"]

JIRA_SPEC = "jira-platform.openapi.json.gz"
# Data Center's own contract, derived from its 11.3 REST description (provenance inside the file).
JIRA_DC_CONTRACT = "jira-dc.contract.json"
CONFLUENCE_V2_SPEC = "confluence.openapi.json.gz"
CONFLUENCE_V1_SPEC = "confluence-v1.openapi.json.gz"

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

# Jira Cloud serves v2 (wiki markup) and v3 (ADF) with the same operations, and Data Center serves
# v2 and `latest`; the vendored document describes v3 only, so all three are checked against it.
# https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/#version
JIRA_API_PREFIX = re.compile(r"^/rest/api/(?P<version>2|3|latest)(?=/|$)")

# Jira Software operations crossdept may call that the platform document does not describe.
# Data Center has no `parent` field for epics; adding issues to an epic goes through the Agile API.
# https://developer.atlassian.com/cloud/jira/software/rest/api-group-epic/#api-rest-agile-1-0-epic-epicidorkey-issue-post
# https://docs.atlassian.com/jira-software/REST/9.12.0/#agile/1.0/epic-moveIssuesToEpic
# Anything else outside the platform document is reported as unknown.
JIRA_SOFTWARE_PATHS: dict[str, Any] = {
    "/rest/agile/1.0/epic/{epicIdOrKey}/issue": {
        "post": {
            "operationId": "moveIssuesToEpic",
            "parameters": [
                {
                    "name": "epicIdOrKey",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["issues"],
                            "additionalProperties": False,
                            "properties": {
                                "issues": {
                                    "type": "array",
                                    "maxItems": 50,
                                    "items": {"type": "string"},
                                }
                            },
                        }
                    }
                },
            },
        }
    }
}

# Admin webhooks: registered in Jira's administration or by REST at /rest/webhooks/1.0/webhook, on
# Cloud and on Server / Data Center alike; neither platform document describes this path. Body:
# name, url, events, filters {"issue-related-events-section": JQL}, excludeBody; Cloud's admin
# webhooks also take a `secret`, which signs each delivery (X-Hub-Signature).
# https://developer.atlassian.com/cloud/jira/platform/webhooks/ ("Registering a webhook via REST")
# https://developer.atlassian.com/server/jira/platform/webhooks/ ("Registering a webhook")
_WEBHOOK_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["name", "url"],
    "properties": {
        "name": {"type": "string"},
        "url": {"type": "string"},
        "events": {"type": "array", "items": {"type": "string"}},
        "filters": {
            "type": "object",
            "properties": {"issue-related-events-section": {"type": "string"}},
        },
        "excludeBody": {"type": "boolean"},
    },
}


def admin_webhook_paths(*, cloud: bool) -> dict[str, Any]:
    """The admin webhook operations, with `secret` in the body on Cloud only."""
    body = dict(_WEBHOOK_BODY, properties=dict(_WEBHOOK_BODY["properties"]))
    if cloud:
        body["properties"]["secret"] = {"type": "string"}
    content = {"application/json": {"schema": body}}
    return {
        "/rest/webhooks/1.0/webhook": {
            "get": {"operationId": "getAdminWebhooks", "parameters": []},
            "post": {
                "operationId": "registerAdminWebhook",
                "parameters": [],
                "requestBody": {"required": True, "content": content},
            },
        }
    }


ADF_MARKER = "Atlassian Document Format"


@dataclass(frozen=True)
class Operation:
    """One method on one path template, with what a request to it must carry."""

    method: str
    template: str
    operation_id: str
    parameters: tuple[Mapping[str, Any], ...]
    body_required: bool
    body_schema: Mapping[str, Any] | None


@dataclass(frozen=True)
class Route:
    """One path template compiled to a regex, with the operations it allows."""

    template: str
    pattern: re.Pattern[str]
    literal_segments: int
    operations: Mapping[str, Operation]


@dataclass(frozen=True, eq=False)
class Spec:
    """One OpenAPI document, ready to match paths and validate bodies."""

    title: str
    routes: tuple[Route, ...]
    registry: Registry[Any]
    base_uri: str
    # (schema name, property) pairs whose description says they hold an ADF document
    adf_properties: frozenset[tuple[str, str]]
    server_path: str  # the path of the first server URL, e.g. `/wiki/api/v2`


def check_request(
    api: Api,
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    body: Any,
    *,
    data_center: bool = False,
) -> list[str]:
    """Return why the real service would refuse this request's shape; empty if it would accept it.

    Jira Data Center is checked against its own contract, never Cloud's description.
    """
    method = method.upper()
    path = _normalise_path(path)
    if api == "jira":
        return _check_jira(method, path, query, body, data_center=data_center)
    return _check_confluence(method, path, query, body)


def _normalise_path(path: str) -> str:
    """Drop the query string and a trailing slash; Atlassian treats `/content/` as `/content`."""
    path = path.split("?", 1)[0]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


# Data Center serves v2 and `latest` (the same resources); there is no v3 and no ADF.
# https://docs.atlassian.com/software/jira/docs/api/REST/latest/
JIRA_DC_PREFIX = re.compile(r"^/rest/api/(?P<version>2|latest)(?=/|$)")


def _check_jira(
    method: str, path: str, query: Mapping[str, list[str]], body: Any, *, data_center: bool
) -> list[str]:
    """Check a Jira call against Cloud's v3 document, or Data Center's own contract; DC's reasons
    read as DC's own refusals."""
    if data_center:
        spec, prefix, target = _jira_dc_spec(), JIRA_DC_PREFIX, "/rest/api/2"
        label = "Jira Data Center's REST API"
    else:
        spec, prefix, target = _jira_spec(), JIRA_API_PREFIX, "/rest/api/3"
        label = "the Jira REST API"
    match = prefix.match(path)
    version = match.group("version") if match else None
    spec_path = target + path[match.end() :] if match else path
    found = _find_operation(spec, method, spec_path)
    if isinstance(found, str):
        return [found.format(api=label, method=method, path=path)]
    operation, path_params = found
    reasons = _check_parameters(spec, operation, path_params, query)
    if data_center:
        bean = _DC_BEANS.get(operation.operation_id, "the request bean")
        reasons += _check_body(
            spec,
            operation,
            body,
            missing="No content to map to Object due to end of input",
            describe=lambda error: _jackson_message(error, bean),
        )
    else:
        reasons += _check_body(spec, operation, body)
    if version is not None and body is not None:
        reasons += _check_rich_text(spec, operation, body, version)
    return [f"{method} {path}: {reason}" for reason in reasons]


def _jackson_message(error: ValidationError, bean: str) -> str:
    """Word a refusal as Data Center's Jackson reader does (public captures in the contract)."""
    if error.context:
        deepest = best_match(error.context)
        if deepest is not None:
            return _jackson_message(deepest, bean)
    chain = bean + "".join(f'["{part}"]' for part in error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        known = set(
            (error.schema.get("properties") or {}) if isinstance(error.schema, Mapping) else ()
        )
        extra = sorted(str(name) for name in error.instance if name not in known)
        name = extra[0] if extra else "?"
        return (
            f'Unrecognized field "{name}" (Class {bean}), not marked as ignorable '
            f'(through reference chain: {chain}["{name}"])'
        )
    if error.validator == "type":
        wanted: Any = error.validator_value
        kinds = [wanted] if isinstance(wanted, str) else list(wanted or ())
        java = {
            "boolean": "java.lang.Boolean",
            "integer": "java.lang.Integer",
            "number": "java.lang.Integer",
            "string": "java.lang.String",
            "array": "java.util.ArrayList",
            "object": "java.util.LinkedHashMap",
        }.get(str(kinds[0]), "java.lang.Object")
        value = error.instance
        if "boolean" in kinds and isinstance(value, str):
            return (
                f"Can not construct instance of java.lang.Boolean from String value '{value}': "
                f'only "true" or "false" recognized (through reference chain: {chain})'
            )
        return (
            f"Can not deserialize instance of {java} out of {_json_token(value)} token "
            f"(through reference chain: {chain})"
        )
    return f"{error.message} (through reference chain: {chain})"


def _json_token(value: Any) -> str:
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, str):
        return "VALUE_STRING"
    if value is None:
        return "VALUE_NULL"
    return "VALUE_NUMBER_INT" if isinstance(value, int) else "VALUE_NUMBER_FLOAT"


# The Java bean behind an operation's body, where a public capture names it.
_DC_BEANS = {"searchUsingSearchRequest": "com.atlassian.jira.rest.v2.search.SearchRequestBean"}


def _check_confluence(
    method: str, path: str, query: Mapping[str, list[str]], body: Any
) -> list[str]:
    v2 = _confluence_v2_spec()
    v2_prefix = v2.server_path
    if path == v2_prefix or path.startswith(v2_prefix + "/"):
        spec, spec_path, label = v2, path[len(v2_prefix) :], "the Confluence REST API v2"
    else:
        spec, label = _confluence_v1_spec(), "the Confluence REST API v1"
        # The v1 document's paths carry Cloud's `/wiki` context path; Data Center serves the same
        # resources at the root of its base URL.
        spec_path = path if path.startswith("/wiki/") else "/wiki" + path
    found = _find_operation(spec, method, spec_path)
    if isinstance(found, str):
        return [found.format(api=label, method=method, path=path)]
    operation, path_params = found
    reasons = _check_parameters(spec, operation, path_params, query)
    reasons += _check_body(spec, operation, body)
    return [f"{method} {path}: {reason}" for reason in reasons]


def _find_operation(spec: Spec, method: str, path: str) -> tuple[Operation, dict[str, str]] | str:
    """Match a concrete path to an operation; concrete segments win over templated ones."""
    matches = [(route, m) for route in spec.routes if (m := route.pattern.match(path))]
    if not matches:
        return "no such operation in {api}: {method} {path}"
    for route, m in matches:  # routes are sorted most specific first
        operation = route.operations.get(method.lower())
        if operation is not None:
            return operation, m.groupdict()
    allowed = sorted({verb.upper() for route, _ in matches for verb in route.operations})
    return "method not allowed in {api}: {method} {path} (allowed: " + ", ".join(allowed) + ")"


def _check_parameters(
    spec: Spec,
    operation: Operation,
    path_params: Mapping[str, str],
    query: Mapping[str, list[str]],
) -> list[str]:
    reasons: list[str] = []
    for parameter in operation.parameters:
        name = parameter["name"]
        where = parameter.get("in")
        schema = parameter.get("schema") or {}
        if where == "path":
            value = path_params.get(_group_name(name))
            if value is not None:
                reasons += _check_parameter_values(
                    spec, f"path parameter {name!r}", [value], schema
                )
        elif where == "query":
            values = query.get(name)
            if not values:
                if parameter.get("required"):
                    reasons.append(f"missing required query parameter {name!r}")
                continue
            reasons += _check_parameter_values(spec, f"query parameter {name!r}", values, schema)
    return reasons


def _check_parameter_values(
    spec: Spec, label: str, values: list[str], schema: Mapping[str, Any]
) -> list[str]:
    schema = _resolve_schema(spec, schema)
    if schema.get("type") == "array":
        # Atlassian accepts both repeated parameters and comma-separated lists.
        items = [item for value in values for item in value.split(",")]
        item_schema = dict(_resolve_schema(spec, schema.get("items") or {}))
        if "enum" in schema and "enum" not in item_schema:
            item_schema["enum"] = schema["enum"]  # some documents put the items' enum on the array
        values, schema = items, item_schema
    validator = _validator(spec, json.dumps(schema, sort_keys=True))
    reasons = []
    for value in values:
        error = best_match(validator.iter_errors(_coerce_parameter(value, schema)))
        if error is not None:
            reasons.append(f"{label}: {value!r} {_describe_parameter_error(error, schema)}")
    return reasons


def _describe_parameter_error(error: ValidationError, schema: Mapping[str, Any]) -> str:
    if error.validator == "enum":
        return "is not one of " + ", ".join(map(str, schema.get("enum", [])))
    if error.validator == "type":
        return f"is not of type {schema.get('type')}"
    return f"is invalid: {error.message}"


def _coerce_parameter(value: str, schema: Mapping[str, Any]) -> Any:
    """Turn a query string value into the JSON value the schema describes, when it is one."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    if kind == "boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"  # Java's Boolean.parseBoolean ignores case
    if kind in ("integer", "number", "boolean"):
        return {"not a": kind}  # fails the type check with a clear reason
    enum = schema.get("enum") or []
    if value.lower() in ("true", "false") and value.lower() in enum:
        return value.lower()  # e.g. validateQuery=True from jira's client; Java ignores the case
    return value


def _resolve_schema(spec: Spec, schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        resolved = spec.registry.resolver().lookup(ref).contents
        return _resolve_schema(spec, resolved)
    return schema


def _check_body(
    spec: Spec,
    operation: Operation,
    body: Any,
    *,
    missing: str = "a request body is required",
    describe: Callable[[ValidationError], str] | None = None,
) -> list[str]:
    """Why a body does not fit its schema, each error worded by `describe`."""
    if body is None:
        return [missing] if operation.body_required else []
    if operation.body_schema is None:
        return []
    word = describe or _describe_body_error
    validator = _validator(spec, json.dumps(operation.body_schema, sort_keys=True))
    errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    return [word(error) for error in errors]


def _describe_body_error(error: ValidationError) -> str:
    where = "body" + "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    )
    if error.context:
        deepest = best_match(error.context)
        if deepest is not None:
            return _describe_body_error(deepest)
    return f"{where}: {error.message}"


@functools.cache
def _validator(spec: Spec, schema_json: str) -> Validator:
    schema = json.loads(schema_json)
    validator: Validator = LenientValidator(schema, registry=spec.registry)
    return validator


def _lenient_type(
    validator: Any, types: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """Accept what Jira's and Confluence's Jackson readers coerce: scalars into strings, numeric
    strings into numbers (e.g. jira's `transition_issue` sends the transition id as a number)."""
    kinds = [types] if isinstance(types, str) else list(types)
    if any(validator.is_type(instance, kind) for kind in kinds):
        return
    is_scalar = isinstance(instance, int | float) and not isinstance(instance, bool)
    if "string" in kinds and is_scalar:
        return
    if "boolean" in kinds and instance in ("true", "false"):
        return  # Jackson reads the strings "true" and "false" as booleans
    if isinstance(instance, str):
        if "integer" in kinds and re.fullmatch(r"-?\d+", instance):
            return
        if "number" in kinds and re.fullmatch(r"-?\d+(\.\d+)?", instance):
            return
    yield ValidationError(f"{instance!r} is not of type {', '.join(map(repr, kinds))}")


LenientValidator: Any = validators.extend(  # type: ignore[no-untyped-call]
    Draft4Validator, {"type": _lenient_type}
)


# ---- rich text: wiki markup on v2, ADF on v3 ---------------------------------------------------

ISSUE_FIELD_RICH_TEXT = ("description", "environment")
ISSUE_BODY_OPERATIONS = frozenset({"createIssue", "editIssue", "doTransition"})


def _check_rich_text(spec: Spec, operation: Operation, body: Any, version: str) -> list[str]:
    """v2 and Data Center take wiki-markup strings where v3 takes ADF documents; check each."""
    reasons = []
    for where, value in _rich_text_positions(spec, operation, body):
        if value is None:
            continue
        if version == "3" and not _is_adf_document(value):
            reasons.append(
                f"{where}: API v3 takes an Atlassian Document Format document here "
                '({"type": "doc", "version": 1, "content": [...]}), not '
                f"{_json_kind(value)}"
            )
        elif version != "3" and not isinstance(value, str):
            reasons.append(
                f"{where}: API {_version_name(version)} takes a wiki-markup string here, not "
                f"{_json_kind(value)}"
            )
    return reasons


def _version_name(version: str) -> str:
    return "/rest/api/latest" if version == "latest" else f"v{version}"


def _json_kind(value: Any) -> str:
    if _is_adf_document(value):
        return "an ADF document"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "a string" if isinstance(value, str) else f"the value {value!r}"


def _is_adf_document(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


def _rich_text_positions(spec: Spec, operation: Operation, body: Any) -> Iterator[tuple[str, Any]]:
    if not isinstance(body, dict):
        return
    if operation.operation_id in ISSUE_BODY_OPERATIONS:
        yield from _issue_rich_text(body, "body")
    elif operation.operation_id == "createIssues":
        for index, update in enumerate(body.get("issueUpdates") or []):
            if isinstance(update, dict):
                yield from _issue_rich_text(update, f"body.issueUpdates[{index}]")
    schema_name = _body_schema_name(operation)
    for name, prop in spec.adf_properties:
        if name == schema_name and prop in body:
            yield f"body.{prop}", body[prop]


def _issue_rich_text(update: Mapping[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    fields = update.get("fields")
    if isinstance(fields, dict):
        for name in ISSUE_FIELD_RICH_TEXT:
            if name in fields:
                yield f"{where}.fields.{name}", fields[name]
    operations = update.get("update")
    if not isinstance(operations, dict):
        return
    for name in ISSUE_FIELD_RICH_TEXT:
        for index, op in enumerate(operations.get(name) or []):
            if isinstance(op, dict) and "set" in op:
                yield f"{where}.update.{name}[{index}].set", op["set"]
    for field, key in (("comment", "body"), ("worklog", "comment")):
        for index, op in enumerate(operations.get(field) or []):
            if not isinstance(op, dict):
                continue
            for verb in ("add", "edit"):
                payload = op.get(verb)
                if isinstance(payload, dict) and key in payload:
                    yield f"{where}.update.{field}[{index}].{verb}.{key}", payload[key]


def _body_schema_name(operation: Operation) -> str | None:
    ref = (operation.body_schema or {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) and ref else None


# ---- loading ------------------------------------------------------------------------------------


def _read_document(filename: str) -> dict[str, Any]:
    data = resources.files("sandbox").joinpath("specs", filename).read_bytes()
    document: dict[str, Any] = json.loads(gzip.decompress(data))
    return document


@functools.cache
def _jira_spec() -> Spec:
    document = _read_document(JIRA_SPEC)
    document["paths"] = {
        **document["paths"],
        **JIRA_SOFTWARE_PATHS,
        **admin_webhook_paths(cloud=True),
    }
    return _compile(document, "urn:crossdept:jira-platform")


@functools.cache
def _jira_dc_spec() -> Spec:
    """Data Center's contract as an OpenAPI-like document, compiled like the others."""
    raw = resources.files("sandbox").joinpath("specs", JIRA_DC_CONTRACT).read_text("utf-8")
    contract = json.loads(raw)
    paths: dict[str, dict[str, Any]] = {}
    for entry in contract["operations"]:
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"\{(\w+)\}", entry["path"])
        ]
        parameters += [
            {"name": name, "in": "query", "schema": schema}
            for name, schema in (entry.get("query") or {}).items()
        ]
        operation: dict[str, Any] = {
            "operationId": entry["operationId"],
            "parameters": parameters,
        }
        if "body" in entry:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": entry["body"]}},
            }
        paths.setdefault(entry["path"], {})[entry["method"].lower()] = operation
    paths.update(admin_webhook_paths(cloud=False))
    document = {"info": {"title": contract["title"]}, "paths": paths}
    return _compile(document, "urn:crossdept:jira-dc")


@functools.cache
def _confluence_v1_spec() -> Spec:
    return _compile(_read_document(CONFLUENCE_V1_SPEC), "urn:crossdept:confluence-v1")


@functools.cache
def _confluence_v2_spec() -> Spec:
    return _compile(_read_document(CONFLUENCE_V2_SPEC), "urn:crossdept:confluence-v2")


def _compile(document: dict[str, Any], base_uri: str) -> Spec:
    components = document.get("components") or {}
    schemas = {
        name: to_json_schema(schema, base_uri)
        for name, schema in (components.get("schemas") or {}).items()
    }
    resource: Resource[Any] = Resource.from_contents(
        {"components": {"schemas": schemas}}, default_specification=DRAFT4
    )
    registry: Registry[Any] = Registry().with_resource(base_uri, resource)
    routes = []
    for template, item in document["paths"].items():
        shared = item.get("parameters") or []
        operations = {}
        for method in HTTP_METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            operations[method] = _operation(document, base_uri, method, template, raw, shared)
        routes.append(_route(template, operations))
    routes.sort(key=lambda r: (-r.literal_segments, r.template))
    adf = frozenset(
        (name, prop)
        for name, schema in (components.get("schemas") or {}).items()
        for prop, prop_schema in (schema.get("properties") or {}).items()
        if isinstance(prop_schema, dict) and ADF_MARKER in prop_schema.get("description", "")
    )
    title = document.get("info", {}).get("title", base_uri)
    servers = document.get("servers") or [{"url": ""}]
    server_path = urlparse(str(servers[0]["url"])).path.rstrip("/")
    return Spec(title, tuple(routes), registry, base_uri, adf, server_path)


def _operation(
    document: dict[str, Any],
    base_uri: str,
    method: str,
    template: str,
    raw: Mapping[str, Any],
    shared: list[Any],
) -> Operation:
    parameters: dict[tuple[str, str], Mapping[str, Any]] = {}
    for parameter in [*shared, *(raw.get("parameters") or [])]:
        resolved = _follow(document, parameter)
        schema = to_json_schema(resolved.get("schema") or {}, base_uri)
        parameters[(resolved["name"], resolved.get("in", ""))] = {**resolved, "schema": schema}
    body_required = False
    body_schema = None
    request_body = raw.get("requestBody")
    if request_body is not None:
        request_body = _follow(document, request_body)
        body_required = bool(request_body.get("required"))
        content = request_body.get("content") or {}
        media = content.get("application/json") or next(
            (v for k, v in content.items() if k.endswith("json")), None
        )
        if media is not None and "schema" in media:
            body_schema = to_json_schema(media["schema"], base_uri)
    return Operation(
        method=method.upper(),
        template=template,
        operation_id=raw.get("operationId", f"{method} {template}"),
        parameters=tuple(parameters.values()),
        body_required=body_required,
        body_schema=body_schema,
    )


def _follow(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Resolve a local `$ref` to a parameter or request body."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _route(template: str, operations: Mapping[str, Operation]) -> Route:
    parts = []
    literals = 0
    for segment in template.strip("/").split("/"):
        pieces = re.split(r"(\{[^}]+\})", segment)
        regex = ""
        for piece in pieces:
            if piece.startswith("{") and piece.endswith("}"):
                regex += f"(?P<{_group_name(piece[1:-1])}>[^/]+)"
            else:
                regex += re.escape(piece)
        literals += 0 if "{" in segment else 1
        parts.append(regex)
    pattern = re.compile("^/" + "/".join(parts) + "$")
    return Route(template, pattern, literals, operations)


def _group_name(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


# ---- OpenAPI 3.0 schema -> JSON Schema draft 4 --------------------------------------------------

SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
SCHEMA_SINGLES = ("additionalProperties", "not", "additionalItems")


def to_json_schema(schema: Any, base_uri: str) -> Any:
    """Convert an OpenAPI 3.0 schema to JSON Schema draft 4 as a request validator needs it.

    `nullable` becomes a `null` type; `readOnly` properties are not required in requests; `oneOf`
    becomes `anyOf` because Atlassian's documents list overlapping alternatives (e.g. v2 page
    bodies) and their servers take the first that reads; local `$ref`s point into `base_uri`.
    """
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        ref = schema["$ref"]
        return {"$ref": base_uri + ref if ref.startswith("#") else ref}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: to_json_schema(sub, base_uri) for name, sub in value.items()}
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out["anyOf" if key == "oneOf" else key] = [to_json_schema(s, base_uri) for s in value]
        elif key in SCHEMA_SINGLES or key == "items":
            if isinstance(value, list):
                out[key] = [to_json_schema(s, base_uri) for s in value]
            else:
                out[key] = to_json_schema(value, base_uri)
        elif key in ("nullable", "readOnly", "writeOnly", "discriminator", "example", "xml"):
            continue
        elif key == "required" and not isinstance(value, list):
            continue  # a `required: true` flag copied onto a property schema; not draft 4
        else:
            out[key] = value
    properties = schema.get("properties")
    if isinstance(out.get("required"), list) and isinstance(properties, dict):
        out["required"] = [
            name
            for name in out["required"]
            if not (isinstance(properties.get(name), dict) and properties[name].get("readOnly"))
        ]
        if not out["required"]:
            del out["required"]
    if schema.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out
