"""Search: JQL over /search (Data Center) and /search/jql (Cloud), bulk fetch, and JQL's fields."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sandbox import jql
from sandbox.http import ApiError, SandboxResponse
from sandbox.jira.common import (
    DEFAULT_PRIORITY,
    LINK_TYPES,
    NO_ISSUE,
    PRIORITIES,
    Call,
    JqlField,
    StoredIssue,
    decode_page_token,
    encode_page_token,
    parse_jql_time,
    property_atom,
    split_values,
    text_only,
)
from sandbox.jira.state import JiraState
from sandbox.seed import STATUS_CATEGORIES, SeedField


class SearchEndpoints(JiraState):
    """Endpoints that find issues, and the adapters JQL reads fields through."""

    # ------------------------------------------------------------------ search

    def _search_params(self, call: Call) -> dict[str, Any]:
        request = call.request
        if request.method == "POST":
            body = request.json()
            if not isinstance(body, Mapping):
                raise ApiError(400, ["A search body is required."])
            params = dict(body)
            for name in ("fields", "expand", "properties"):
                value = params.get(name)
                if isinstance(value, str):
                    params[name] = split_values([value])
                elif value is None:
                    params[name] = None
                else:
                    params[name] = split_values([str(v) for v in value])
            return params
        query = request.query
        return {
            "jql": request.arg("jql", ""),
            "startAt": request.arg("startAt"),
            "maxResults": request.arg("maxResults"),
            "nextPageToken": request.arg("nextPageToken"),
            "fields": split_values(query["fields"]) if "fields" in query else None,
            "expand": split_values(query.get("expand", [])),
            "properties": split_values(query.get("properties", [])),
        }

    def serve_search(self, call: Call) -> SandboxResponse:
        if self.seed.is_cloud:
            # https://developer.atlassian.com/changelog/#CHANGE-2046 : removed in favour of /search/jql
            raise ApiError(
                410,
                [
                    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
                ],
            )
        params = self._search_params(call)
        # Data Center reads validateQuery as a Boolean: true (the default) answers 400 for an
        # unknown issue key; false turns such errors into warningMessages and matches nothing for
        # them. (Cloud's strict/warn/none belong to its removed /search.)
        validation = params.get("validateQuery")
        validation = "true" if validation is None else str(validation).lower()
        warnings: list[str] | None = [] if validation in ("warn", "false", "none") else None
        self.jql_warnings = warnings
        text = str(params.get("jql") or "")
        start = int(params.get("startAt") or 0)
        try:
            found = self._paged(
                text + validation, start, call.actor, lambda: self.find_issues(text, call.actor)
            )
        finally:
            self.jql_warnings = None
        limit = min(int(params.get("maxResults") or 50), 1000)
        page = found[start : start + limit]
        fields = params.get("fields")
        result: dict[str, Any] = {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": limit,
            "total": len(found),
            "issues": [
                self.issue_json(
                    issue,
                    version=call.version,
                    fields=fields if fields is not None else ["*navigable"],
                    expand=params.get("expand") or (),
                    # DC's search has no `properties`: its bean refuses one in a body, and JAX-RS
                    # ignores one in a query string. Properties are read per issue on DC.
                    properties=(),
                )
                for issue in page
            ],
        }
        if warnings:
            result["warningMessages"] = warnings
        return SandboxResponse(200, result)

    def serve_bulk_fetch(self, call: Call) -> SandboxResponse:
        """POST /issue/bulkfetch (Cloud only): up to 100 issues by id or key, errors for the rest."""
        if not self.seed.is_cloud:
            raise ApiError(404, ["null for uri: /rest/api/2/issue/bulkfetch"])
        body = call.request.json()
        wanted = body.get("issueIdsOrKeys") if isinstance(body, Mapping) else None
        if not isinstance(wanted, list) or not wanted:
            raise ApiError(400, ["issueIdsOrKeys must name at least one issue."])
        if len(wanted) > 100:
            raise ApiError(400, ["You can request up to 100 issues."])
        fields = body.get("fields") or ["*navigable"]
        properties = body.get("properties") or ()
        found: dict[int, StoredIssue] = {}
        errors: list[dict[str, str]] = []
        for ident in wanted:
            issue = self.find_issue(str(ident))
            if issue is None:
                errors.append(
                    {
                        "id": str(ident),
                        "errorMessage": "Issue does not exist or you do not have permission to see it.",
                    }
                )
            else:
                found[issue.id] = issue
        return SandboxResponse(
            200,
            {
                "expand": "",
                "issues": [
                    self.issue_json(
                        found[issue_id],
                        version=call.version,
                        fields=[str(f) for f in fields],
                        properties=[str(p) for p in properties],
                    )
                    for issue_id in sorted(found)  # ascending id order, as documented
                ],
                "issueErrors": errors,
            },
        )

    def serve_search_jql(self, call: Call) -> SandboxResponse:
        if not self.seed.is_cloud:
            raise ApiError(404, ["null for uri: /rest/api/2/search/jql"])
        params = self._search_params(call)
        text = str(params.get("jql") or "")
        query = self._parse_jql(text)
        if query.where is None:
            raise ApiError(
                400,
                [
                    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
                ],
            )
        token = params.get("nextPageToken")
        start = decode_page_token(token) if token else 0
        found = self._paged(text, start, call.actor, lambda: self._run_query(query, call.actor))
        limit = min(int(params.get("maxResults") or 50), 5000)
        page = found[start : start + limit]
        fields = params.get("fields")
        result: dict[str, Any] = {
            "issues": [
                self.issue_json(
                    issue,
                    version=call.version,
                    fields=fields if fields else ["id"],
                    expand=params.get("expand") or (),
                    properties=params.get("properties") or (),
                )
                for issue in page
            ],
            "isLast": start + limit >= len(found),
        }
        if not result["isLast"]:
            result["nextPageToken"] = encode_page_token(start + limit)
        return SandboxResponse(200, result)

    def _paged(
        self, text: str, start: int, actor: str, run: Callable[[], list[StoredIssue]]
    ) -> list[StoredIssue]:
        """A search's result: worked out for its first page, and reused for the next pages while
        nothing was written and the clock stood (a search of 20,000 items is 200 pages, and
        each page ran the query and the sort over every issue again)."""
        key = (text, actor, self.writes, self.now())
        kept = self.last_search
        if start > 0 and kept is not None and kept[0] == key:
            return list(kept[1])
        found = run()
        self.last_search = (key, list(found))
        return found

    def _parse_jql(self, text: str) -> jql.Query:
        try:
            query = jql.parse(text)
            resolve = self._jql_resolver("")
            jql.validate(query.where, resolve)
            for key in query.order_by:
                resolve(key.field)
        except jql.JqlError as error:
            raise ApiError(400, [str(error)]) from error
        return query

    def _run_query(self, query: jql.Query, actor: str) -> list[StoredIssue]:
        resolve = self._jql_resolver(actor)
        prepared: jql.Prepared = {}
        try:
            matched = [
                issue
                for issue in self.issues.values()
                if query.where is None or jql.matches(query.where, issue, resolve, prepared)
            ]
            if query.order_by:
                return jql.sort(matched, query.order_by, resolve)
        except jql.JqlError as error:
            raise ApiError(400, [str(error)]) from error
        return sorted(matched, key=lambda i: i.id, reverse=True)

    def find_issues(self, text: str, actor: str) -> list[StoredIssue]:
        """Issues matching a JQL query, in the order Jira would return them."""
        return self._run_query(self._parse_jql(text), actor)

    def _jql_resolver(self, actor: str) -> Callable[[str], jql.FieldAdapter[StoredIssue]]:
        """Map a JQL field name to an adapter that reads and compares that field."""
        now = self.now()

        def resolve(name: str) -> jql.FieldAdapter[StoredIssue]:
            lowered = name.lower()
            prop = re.fullmatch(r"issue\.property\[([^\]]+)\](?:\.(.+))?", name, re.IGNORECASE)
            if prop:
                return self._property_adapter(name, prop.group(1), prop.group(2))
            cf = re.fullmatch(r"cf\[(\d+)\]|customfield_(\d+)", lowered)
            if cf:
                fid = "customfield_" + (cf.group(1) or cf.group(2))
                if fid not in self.fields:
                    raise jql.JqlError(
                        f"Field '{name}' does not exist or you do not have permission to view it."
                    )
                return self._custom_adapter(self.fields[fid], actor, now)
            system = self._system_adapter(lowered, name, actor, now)
            if system is not None:
                return system
            for fld in self.fields.values():
                if fld.name.lower() == lowered:
                    return self._custom_adapter(fld, actor, now)
            if lowered in _KNOWN_UNSUPPORTED_JQL_FIELDS:
                raise jql.JqlError(
                    f"{jql.PREFIX}the sandbox does not support searching the field '{name}'."
                )
            raise jql.JqlError(
                f"Field '{name}' does not exist or you do not have permission to view it."
            )

        return resolve

    def _unknown_value(self, value: Any, field_name: str) -> jql.JqlError:
        return jql.JqlError(f"The value '{value}' does not exist for the field '{field_name}'.")

    def _issue_operand(self, field_name: str) -> Callable[[jql.Operand, str], int | frozenset[int]]:
        def convert(operand: jql.Operand, operator: str) -> int | frozenset[int]:
            if isinstance(operand, jql.Function) and operand.name == "linkedissues":
                return self._linked_issues(operand, operator)
            if not isinstance(operand, str):
                raise jql.JqlError(
                    f"{jql.PREFIX}the field '{field_name}' takes an issue key or id."
                )
            issue = self.find_issue(operand)
            if issue is None:
                message = f"An issue with key '{operand}' does not exist for field '{field_name}'."
                if self.jql_warnings is None:
                    raise jql.JqlError(message)
                # validateQuery=warn: the clause matches nothing and the error becomes a warning.
                if message not in self.jql_warnings:
                    self.jql_warnings.append(message)
                return NO_ISSUE
            return issue.id

        return convert

    def _linked_issues(self, function: jql.Function, operator: str) -> frozenset[int]:
        """linkedIssues(issueKey[, linkType]): the issues linked to one issue, either way round,
        by any link or by the links of one type (its name, or its inward or outward words).
        https://support.atlassian.com/jira-software-cloud/docs/jql-functions/#linkedIssues--"""
        if operator not in ("in", "not in"):
            raise jql.JqlError(
                f"{jql.PREFIX}linkedIssues() is used with IN or NOT IN, not '{operator.upper()}'."
            )
        key, *kind = function.args
        wanted = kind[0].lower() if kind else None

        def words(link_type: Mapping[str, Any]) -> set[str]:
            return {str(link_type.get(part, "")).lower() for part in ("name", "inward", "outward")}

        if wanted is not None and not any(wanted in words(t) for t in LINK_TYPES):
            raise jql.JqlError(
                f"Issue link type '{kind[0]}' could not be found in function 'linkedIssues'."
            )
        issue = self.find_issue(key)
        if issue is None:
            raise jql.JqlError(f"Issue '{key}' could not be found in function 'linkedIssues'.")
        found: set[int] = set()
        for link in self.links.values():
            if wanted is not None and wanted not in words(link["type"]):
                continue
            if link["inward"] == issue.id:
                found.add(link["outward"])
            elif link["outward"] == issue.id:
                found.add(link["inward"])
        return frozenset(found)

    def _user_operand(self, field_name: str, actor: str) -> Callable[[jql.Operand, str], str]:
        def convert(operand: jql.Operand, operator: str) -> str:
            if isinstance(operand, jql.Function):
                if operand.name != "currentuser":
                    raise jql.JqlError(
                        f"{jql.PREFIX}the field '{field_name}' does not take {operand.name}()."
                    )
                return actor
            if not isinstance(operand, str):
                raise self._unknown_value(operand, field_name)
            login = (
                self.find_user(account_id=operand)
                if self.seed.is_cloud
                else self.find_user(name=operand)
            )
            if login is None:
                raise self._unknown_value(operand, field_name)
            return login

        return convert

    def _time_operand(
        self, field_name: str, now: datetime
    ) -> Callable[[jql.Operand, str], datetime]:
        def convert(operand: jql.Operand, operator: str) -> datetime:
            if isinstance(operand, jql.Function):
                if operand.name != "now":
                    raise jql.JqlError(
                        f"{jql.PREFIX}the field '{field_name}' does not take {operand.name}()."
                    )
                return now
            moment = parse_jql_time(str(operand), now, self.tz)
            if moment is None:
                raise jql.JqlError(
                    f"Date value '{operand}' for field '{field_name}' is invalid. Valid formats include: "
                    "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
                    "format e.g. '-5d', '4w 2d'."
                )
            return moment

        return convert

    def _system_adapter(
        self, lowered: str, name: str, actor: str, now: datetime
    ) -> JqlField | None:
        tz = self.tz

        def day(value: str | None) -> list[Any]:
            return [datetime.fromisoformat(value).replace(tzinfo=tz)] if value else []

        if lowered == "project":

            def project_operand(op: jql.Operand, operator: str) -> str:
                project = self.find_project(str(op)) if isinstance(op, str) else None
                if project is None:
                    raise self._unknown_value(op, name)
                return project.key

            return JqlField(name, False, lambda i: [i.project.key], project_operand)
        if lowered in ("key", "issuekey", "id", "issue"):
            return JqlField(name, True, lambda i: [i.id], self._issue_operand(name))
        if lowered in ("issuetype", "type"):

            def type_operand(op: jql.Operand, operator: str) -> str:
                for project in self.seed.projects:
                    for issue_type in project.issue_types:
                        if isinstance(op, str) and (
                            op.lower() == issue_type.name.lower() or op == issue_type.id
                        ):
                            return issue_type.name
                raise self._unknown_value(op, name)

            return JqlField(name, False, lambda i: [i.issue_type.name], type_operand)
        if lowered == "status":

            def status_operand(op: jql.Operand, operator: str) -> str:
                for status in self.seed.statuses.values():
                    if isinstance(op, str) and (
                        op.lower() == status.name.lower() or op == status.id
                    ):
                        return status.name
                raise self._unknown_value(op, name)

            return JqlField(name, False, lambda i: [i.status], status_operand)
        if lowered in ("statuscategory", "category"):

            def category_operand(op: jql.Operand, operator: str) -> str:
                for key, category in STATUS_CATEGORIES.items():
                    if isinstance(op, str) and op.lower() in (
                        key,
                        category["name"].lower(),
                        str(category["id"]),
                    ):
                        return key
                raise self._unknown_value(op, name)

            return JqlField(
                name, False, lambda i: [self.seed.statuses[i.status].category], category_operand
            )
        if lowered == "parent":
            return JqlField(
                name,
                False,
                lambda i: [i.values["parent"]] if "parent" in i.values else [],
                self._issue_operand(name),
            )
        if lowered in ("assignee", "reporter", "creator"):

            def people(i: StoredIssue) -> list[Any]:
                login = i.creator if lowered == "creator" else i.values.get(lowered)
                return [login] if login else []

            return JqlField(
                name,
                False,
                people,
                self._user_operand(name, actor),
                sort=lambda i: (
                    self.users[i.values[lowered]].display_name if i.values.get(lowered) else None
                ),
            )
        if lowered in ("duedate", "due"):
            return JqlField(
                name, True, lambda i: day(i.values.get("duedate")), self._time_operand(name, now)
            )
        if lowered in ("created", "createddate"):
            return JqlField(name, True, lambda i: [i.created], self._time_operand(name, now))
        if lowered in ("updated", "updateddate"):
            return JqlField(name, True, lambda i: [i.updated], self._time_operand(name, now))
        if lowered in ("resolved", "resolutiondate"):
            return JqlField(
                name,
                True,
                lambda i: [i.resolution_date] if i.resolution_date else [],
                self._time_operand(name, now),
            )
        if lowered == "labels":

            def label_operand(op: jql.Operand, operator: str) -> str:
                if not isinstance(op, str):
                    raise jql.JqlError(f"{jql.PREFIX}labels are compared with words or strings.")
                return op

            return JqlField(name, False, lambda i: list(i.values.get("labels", [])), label_operand)
        if lowered == "priority":

            def priority_operand(op: jql.Operand, operator: str) -> int:
                for pid, pname in PRIORITIES:
                    if isinstance(op, str) and op.lower() in (pname.lower(), pid):
                        return -int(pid)  # higher priority compares greater, as in Jira
                raise self._unknown_value(op, name)

            return JqlField(
                name,
                True,
                lambda i: [-int(i.values.get("priority", DEFAULT_PRIORITY))],
                priority_operand,
            )
        if lowered == "resolution":

            def resolution_operand(op: jql.Operand, operator: str) -> str:
                if isinstance(op, str) and op.lower() == "done":
                    return "Done"
                if isinstance(op, str) and op.lower() == "unresolved":
                    return "__unresolved__"
                raise self._unknown_value(op, name)

            return JqlField(
                name,
                False,
                lambda i: [i.resolution["name"]] if i.resolution else ["__unresolved__"],
                resolution_operand,
            )
        if lowered == "summary":
            return JqlField(name, True, lambda i: [i.values.get("summary", "")], text_only(name))
        return None

    def _custom_adapter(self, fld: SeedField, actor: str, now: datetime) -> JqlField:
        kind = fld.type
        name = fld.name

        def raw(i: StoredIssue) -> list[Any]:
            value = i.values.get(fld.id)
            if value is None:
                return []
            return list(value) if isinstance(value, list) else [value]

        if kind in ("select", "multiselect"):

            def option_operand(op: jql.Operand, operator: str) -> str:
                for option in fld.options:
                    if isinstance(op, str) and op in (option.value, option.id):
                        return option.id
                raise jql.JqlError(f"The option '{op}' for field '{name}' does not exist.")

            return JqlField(name, False, raw, option_operand)
        if kind == "datepicker":
            tz = self.tz
            return JqlField(
                name,
                True,
                lambda i: [datetime.fromisoformat(v).replace(tzinfo=tz) for v in raw(i)],
                self._time_operand(name, now),
            )
        if kind == "datetime":
            return JqlField(name, True, raw, self._time_operand(name, now))
        if kind in ("userpicker", "multiuserpicker"):
            return JqlField(name, False, raw, self._user_operand(name, actor))
        if kind == "epiclink":
            return JqlField(name, False, raw, self._issue_operand(name))
        if kind == "labels":
            return JqlField(name, False, raw, lambda op, operator: str(op))
        return JqlField(name, True, raw, text_only(name))

    def _property_adapter(self, name: str, key: str, path: str | None) -> JqlField:
        def read(i: StoredIssue) -> list[Any]:
            if key not in i.properties:
                return []
            value: Any = i.properties[key]
            for part in (path or "").split(".") if path else []:
                if not isinstance(value, Mapping) or part not in value:
                    return []
                value = value[part]
            if value is None:
                return []
            items = value if isinstance(value, list) else [value]
            return [property_atom(v) for v in items if not isinstance(v, Mapping | list)]

        def convert(op: jql.Operand, operator: str) -> Any:
            if not isinstance(op, str):
                raise jql.JqlError(
                    f"{jql.PREFIX}issue properties are compared with words, strings or numbers."
                )
            return property_atom(op, from_query=True)

        return JqlField(name, True, read, convert)


_KNOWN_UNSUPPORTED_JQL_FIELDS = {
    "text", "description", "comment", "environment", "component", "fixversion", "affectedversion",
    "sprint", "watcher", "watchers", "votes", "voter", "worklogauthor", "worklogdate", "filter",
    "attachments", "level", "lastviewed", "originalestimate", "remainingestimate", "timespent",
    "issuefunction", "approvals", "request-channel-type", "subtasks", "issuelinktype", "team",
    "epic link", "parent link",
}  # fmt: skip
