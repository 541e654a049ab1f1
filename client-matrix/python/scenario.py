"""The client-matrix scenario of the Python client that openapi-python-client
generates from openapi.yaml at its default options.

It proves that the generated client, used as it is, works against a live
server: it lists runs and follows the pagination cursor, reads every run into
the generated models, creates runs with every nullable field set to null or
to a value, replaces a run with `If-Match`, reads the `Error` body of a 404,
a 412 and a 422, and writes runs it read back unchanged through the generated
write model (the same ETag: timestamps and decimal strings survive). Against
a later server (TASK_AGENT_EXPECT_LATER=1) it proves that reading tolerates
a status and a file source it does not know, and fields it does not know
(kept in `additional_properties`).

    PYTHONPATH=<generated dir> python client-matrix/python/scenario.py

Environment: TASK_AGENT_URL, TASK_AGENT_READER_TOKEN, TASK_AGENT_WRITER_TOKEN
(mode `full` only), TASK_AGENT_ORG, TASK_AGENT_PROJECT, TASK_AGENT_AGENT,
TASK_AGENT_MODE (`full`: every step, against the live server; `read`: the
reading steps only) and TASK_AGENT_EXPECT_LATER (`1` against the proxy of
later_server.py with `--change later`). Prints `ok   <step>: <detail>` or
`FAIL <step>: <reason>` for each step, then `<N> passed, <M> failed`, and
exits with 1 if a step failed.
"""

import copy
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, Protocol, TypeVar
from uuid import UUID

from task_agent_runs_api_client import AuthenticatedClient
from task_agent_runs_api_client.api.task_agent_runs import (
    get_task_agent_run,
    list_task_agent_runs,
    put_task_agent_run,
)
from task_agent_runs_api_client.models import (
    Error,
    McpToolInvocationWrite,
    ModelUsageWrite,
    PhaseTimingWrite,
    RunFileSource,
    RunFileWrite,
    RunStatus,
    SkillActivationWrite,
    TaskAgentRun,
    TaskAgentRunPage,
    TaskAgentRunWrite,
    TaskToolInvocationWrite,
)
from task_agent_runs_api_client.types import UNSET, Response, Unset

# The top-level fields of a run that may be null.
NULLABLE_FIELDS = (
    "user_id",
    "charged_credits",
    "total_charged_credits",
    "completed",
    "last_activity_at",
    "duration_ms",
    "task_agent_revision_id",
    "primary_llm_model_id",
    "fallback_llm_model_id",
    "invocation_id",
    "primary_failure_reason",
    "termination_reason",
    "task_tools_invoked",
    "mcp_tools_invoked",
    "integration_tools_invoked",
    "skills_activated",
    "phase_timings",
    "context_usage",
)

# When the runs written here started, with microseconds; the server keeps
# milliseconds.
CREATED = datetime(2026, 11, 20, 9, 14, 3, 512345, tzinfo=UTC)
CREATED_STORED = datetime(2026, 11, 20, 9, 14, 3, 512000, tzinfo=UTC)
# The other timestamps of the runs written here: whole milliseconds.
ACTIVE = datetime(2026, 11, 20, 9, 14, 4, 1000, tzinfo=UTC)

T = TypeVar("T")
M = TypeVar("M")


class StepFailed(Exception):
    """A check of a step did not hold."""


class Extensible(Protocol):
    """A generated model that keeps the fields it does not know."""

    additional_properties: dict[str, Any]


@dataclass
class StoredRun:
    """A run this scenario wrote: its id, the body sent and the ETag returned."""

    run_id: UUID
    body: TaskAgentRunWrite
    etag: str


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


def require(value: T | None, step: str) -> T:
    """The result of an earlier step, which must have succeeded."""
    if value is None:
        raise StepFailed(f"needs step {step}, which failed")
    return value


def expect(response: Response[Any], status: HTTPStatus, model: type[M]) -> M:
    """The body of `response`, which must have `status` and parse into `model`."""
    if response.status_code != status:
        body = " ".join(response.content.decode(errors="replace").split())
        raise StepFailed(f"status {response.status_code.value}, expected {status.value}: {body[:300]}")
    if not isinstance(response.parsed, model):
        raise StepFailed(f"the body parsed into {type(response.parsed).__name__}, not {model.__name__}")
    return response.parsed


def expect_error(response: Response[Any], status: HTTPStatus, error_code: str) -> Error:
    """The `Error` body of `response`, which must have `status` and `error_code`."""
    error = expect(response, status, Error)
    check(error.request_id != "", "the error has an empty request_id")
    check(error.error_code == error_code, f"error_code {error.error_code!r}, expected {error_code!r}")
    check(error.message != "", "the error has an empty message")
    return error


def etag(response: Response[Any]) -> str:
    value = response.headers.get("ETag")
    if not value:
        raise StepFailed("no ETag header")
    return value


def to_write(run: TaskAgentRun) -> TaskAgentRunWrite:
    """The body that stores `run` as it is, built through the generated models."""
    body = run.to_dict()
    del body["id"], body["task_agent_id"]
    return TaskAgentRunWrite.from_dict(body)


def differences(expected: TaskAgentRunWrite, run: TaskAgentRun) -> list[str]:
    """The fields of `run` that differ from `expected`, as JSON."""
    sent, read = expected.to_dict(), to_write(run).to_dict()
    return [
        f"{name}: sent {sent.get(name)!r}, read {read.get(name)!r}"
        for name in sorted(sent.keys() | read.keys())
        if sent.get(name) != read.get(name)
    ]


def nested_objects(run: TaskAgentRun) -> Iterator[Extensible]:
    yield from run.task_tools_invoked or []
    yield from run.mcp_tools_invoked or []
    yield from run.integration_tools_invoked or []
    yield from run.skills_activated or []
    yield from run.phase_timings or []
    if run.context_usage is not None:
        yield run.context_usage
    yield from run.model_usages
    yield from run.files


def running_run() -> TaskAgentRunWrite:
    """A running run with every field given, nulls among them, and one item of each list but one."""
    return TaskAgentRunWrite(
        session_id=f"client-matrix-python-{uuid.uuid4()}",
        user_id=uuid.uuid4(),
        input_tokens=1830,
        output_tokens=412,
        total_tokens=2242,
        charged_credits="0.0450",
        total_charged_credits="0.0450",
        created=CREATED,
        completed=None,
        last_activity_at=ACTIVE,
        duration_ms=None,
        status=RunStatus.RUNNING,
        is_error=False,
        task_agent_revision_id=uuid.uuid4(),
        primary_llm_model_id=uuid.uuid4(),
        fallback_llm_model_id=None,
        invocation_id=f"e-{uuid.uuid4()}",
        is_continuation=False,
        used_fallback_model=False,
        had_task_tool_fail=False,
        had_mcp_tool_fail=False,
        had_integration_tool_fail=False,
        primary_failure_reason=None,
        termination_reason=None,
        task_tools_invoked=[
            TaskToolInvocationWrite(
                task_id=uuid.uuid4(),
                task_name="summarise-ticket",
                task_run_id=None,
                is_error=False,
                duration_ms=None,
                error=None,
            )
        ],
        mcp_tools_invoked=[
            McpToolInvocationWrite(
                mcp_server_id=uuid.uuid4(),
                server_name=None,
                tool_name="search_issues",
                is_error=False,
                duration_ms=640,
                error=None,
            )
        ],
        integration_tools_invoked=None,
        skills_activated=[
            SkillActivationWrite(skill_id=uuid.uuid4(), skill_revision_id=None, name="triage", activated_at=None)
        ],
        phase_timings=[PhaseTimingWrite(phase="llm", started_at=ACTIVE, duration_ms=9120)],
        context_usage=None,
        model_usages=[
            ModelUsageWrite(
                llm_model_id=uuid.uuid4(),
                model_name="gpt-5-mini",
                is_fallback=False,
                input_tokens=1830,
                output_tokens=412,
                total_tokens=2242,
                charged_credits=None,
            )
        ],
        files=[
            RunFileWrite(
                id=uuid.uuid4(),
                filename="ticket.pdf",
                content_type="application/pdf",
                size_bytes=48213,
                source=RunFileSource.UPLOADED,
                created=ACTIVE,
            )
        ],
    )


class Reads:
    """The steps that only read: the whole scenario against a later server."""

    def __init__(self, reader: AuthenticatedClient, org: UUID, project: UUID, agent: UUID, expect_later: bool):
        self.reader = reader
        self.org = org
        self.project = project
        self.agent = agent
        self.expect_later = expect_later
        self.first_page: TaskAgentRunPage | None = None

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("get-run", self.get_run),
            ("list-pages", self.list_pages),
            ("read-every-run", self.read_every_run),
        ]

    def list_page(self, page_limit: int, cursor: str | Unset = UNSET) -> TaskAgentRunPage:
        response = list_task_agent_runs.sync_detailed(
            self.org, self.project, self.agent, client=self.reader, page_limit=page_limit, cursor=cursor
        )
        return expect(response, HTTPStatus.OK, TaskAgentRunPage)

    def get(self, run_id: UUID) -> Response[Error | TaskAgentRun]:
        return get_task_agent_run.sync_detailed(self.org, self.project, self.agent, run_id, client=self.reader)

    def get_run(self) -> str:
        self.first_page = self.list_page(page_limit=100)
        check(bool(self.first_page.results), "the task agent has no runs")
        run_id = self.first_page.results[0].id
        response = self.get(run_id)
        run = expect(response, HTTPStatus.OK, TaskAgentRun)
        check(run.id == run_id, f"asked for run {run_id}, got {run.id}")
        return f"run {run_id}, ETag {etag(response)}"

    def list_pages(self) -> str:
        first_page = require(self.first_page, "get-run")
        ids: list[UUID] = []
        pages = 0
        cursor: str | Unset = UNSET
        while True:
            page = self.list_page(page_limit=7, cursor=cursor)
            pages += 1
            pagination = page.pagination
            check(len(page.results) <= 7, f"page {pages} has {len(page.results)} runs")
            check(
                pagination.has_next == (pagination.next_cursor is not None),
                f"page {pages}: has_next {pagination.has_next}, next_cursor {pagination.next_cursor!r}",
            )
            if self.expect_later:
                check("later_field" in page.additional_properties, f"page {pages} lost later_field")
                check("later_field" in pagination.additional_properties, f"page {pages}: pagination lost later_field")
            ids.extend(run.id for run in page.results)
            if pagination.next_cursor is None:
                break
            cursor = pagination.next_cursor
        # The walk covers the whole list, which goes on past the page of 100
        # when that page has a next one.
        expected = [run.id for run in first_page.results]
        check(ids[: len(expected)] == expected, "the pages of 7 do not list the runs of the page of 100 in order")
        check(
            len(ids) == len(expected) or first_page.pagination.has_next,
            f"the pages of 7 list {len(ids)} runs, the page of 100 (the last) {len(expected)}",
        )
        return f"{len(ids)} runs in {pages} pages of at most 7, in the order of the page of 100"

    def read_every_run(self) -> str:
        first_page = require(self.first_page, "get-run")
        nulls = dict.fromkeys(NULLABLE_FIELDS, 0)
        nested = 0
        for listed in first_page.results:
            run = expect(self.get(listed.id), HTTPStatus.OK, TaskAgentRun)
            check(run == listed, f"run {run.id} differs from its entry in the list")
            for name in NULLABLE_FIELDS:
                if getattr(run, name) is None:
                    nulls[name] += 1
            if self.expect_later:
                nested += self.check_later(run)
        detail = f"{len(first_page.results)} runs read; null in " + ", ".join(
            f"{name} {count}" for name, count in nulls.items()
        )
        if self.expect_later:
            detail += (
                "; later: every status paused, every file source emailed,"
                f" later_field kept on every run and its {nested} nested objects"
            )
        return detail

    def check_later(self, run: TaskAgentRun) -> int:
        """Checks what the later server changed in `run`; the number of its nested objects."""
        check(run.status == "paused", f"run {run.id}: status {run.status!r}, expected 'paused'")
        for file in run.files:
            check(file.source == "emailed", f"run {run.id}: file source {file.source!r}, expected 'emailed'")
        nested = list(nested_objects(run))
        for item in [run, *nested]:
            check("later_field" in item.additional_properties, f"run {run.id}: {type(item).__name__} lost later_field")
        return len(nested)


class Writes(Reads):
    """Every step: the reading steps, then writing runs, against the live server."""

    def __init__(self, reader: AuthenticatedClient, writer: AuthenticatedClient, org: UUID, project: UUID, agent: UUID):
        super().__init__(reader, org, project, agent, expect_later=False)
        self.writer = writer
        self.created: StoredRun | None = None
        self.replaced: StoredRun | None = None

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            *super().steps(),
            ("put-create", self.put_create),
            ("get-created", self.get_created),
            ("nulls", self.nulls),
            ("put-if-match", self.put_if_match),
            ("put-stale-if-match", self.put_stale_if_match),
            ("not-found", self.not_found),
            ("unprocessable", self.unprocessable),
            ("round-trip", self.round_trip),
        ]

    def put(
        self, run_id: UUID, body: TaskAgentRunWrite, if_match: str | Unset = UNSET
    ) -> Response[Error | TaskAgentRun]:
        return put_task_agent_run.sync_detailed(
            self.org, self.project, self.agent, run_id, client=self.writer, body=body, if_match=if_match
        )

    def put_create(self) -> str:
        run_id = uuid.uuid4()
        body = running_run()
        response = self.put(run_id, body)
        expect(response, HTTPStatus.CREATED, TaskAgentRun)
        self.created = StoredRun(run_id, body, etag(response))
        return f"run {run_id} created, ETag {self.created.etag}"

    def get_created(self) -> str:
        created = require(self.created, "put-create")
        run = expect(self.get(created.run_id), HTTPStatus.OK, TaskAgentRun)
        check(run.id == created.run_id and run.task_agent_id == self.agent, f"read run {run.id} of {run.task_agent_id}")
        expected = copy.copy(created.body)
        expected.created = CREATED_STORED
        changed = differences(expected, run)
        check(not changed, "; ".join(changed))
        return f"every field as sent, created {run.created.isoformat()} (to the millisecond)"

    def nulls(self) -> str:
        run_id = uuid.uuid4()
        body = TaskAgentRunWrite(
            session_id=f"client-matrix-python-{uuid.uuid4()}",
            input_tokens=0,
            output_tokens=0,
            total_tokens=0,
            created=CREATED,
            status=RunStatus.PENDING,
        )
        expect(self.put(run_id, body), HTTPStatus.CREATED, TaskAgentRun)
        run = expect(self.get(run_id), HTTPStatus.OK, TaskAgentRun)
        not_null = [name for name in NULLABLE_FIELDS if getattr(run, name) is not None]
        check(not not_null, f"not None: {', '.join(not_null)}")
        check(run.model_usages == [] and run.files == [], "model_usages or files not empty")
        return f"run {run_id}: the {len(NULLABLE_FIELDS)} nullable fields None, model_usages and files empty"

    def put_if_match(self) -> str:
        created = require(self.created, "put-create")
        body = copy.copy(created.body)
        body.output_tokens += 1
        body.total_tokens += 1
        response = self.put(created.run_id, body, if_match=created.etag)
        run = expect(response, HTTPStatus.OK, TaskAgentRun)
        check(run.total_tokens == body.total_tokens, f"total_tokens {run.total_tokens}, sent {body.total_tokens}")
        self.replaced = StoredRun(created.run_id, body, etag(response))
        check(self.replaced.etag != created.etag, "the ETag did not change")
        return f"replaced, ETag {created.etag} -> {self.replaced.etag}"

    def put_stale_if_match(self) -> str:
        created = require(self.created, "put-create")
        replaced = require(self.replaced, "put-if-match")
        response = self.put(replaced.run_id, replaced.body, if_match=created.etag)
        error = expect_error(response, HTTPStatus.PRECONDITION_FAILED, "PreconditionFailed")
        return f"412 {error.error_code}: {error.message}"

    def not_found(self) -> str:
        error = expect_error(self.get(uuid.uuid4()), HTTPStatus.NOT_FOUND, "NotFound")
        return f"404 {error.error_code}: {error.message}"

    def unprocessable(self) -> str:
        body = TaskAgentRunWrite(
            session_id=f"client-matrix-python-{uuid.uuid4()}",
            input_tokens=10,
            output_tokens=5,
            total_tokens=16,
            created=CREATED,
            status=RunStatus.RUNNING,
        )
        error = expect_error(self.put(uuid.uuid4(), body), HTTPStatus.UNPROCESSABLE_ENTITY, "InvalidValue")
        check(error.message.startswith("total_tokens"), f"the message {error.message!r} does not name total_tokens")
        return f"422 {error.error_code}: {error.message}"

    def round_trip(self) -> str:
        first_page = require(self.first_page, "get-run")
        completed = next((run for run in first_page.results if run.status == RunStatus.COMPLETED), None)
        if completed is None:
            raise StepFailed("no completed run on the page of 100")
        self.put_back(completed.id)
        created = require(self.created, "put-create")
        body = copy.copy(created.body)
        body.status = RunStatus.COMPLETED
        body.completed = CREATED + timedelta(seconds=2.5)
        expect(self.put(created.run_id, body), HTTPStatus.OK, TaskAgentRun)
        self.put_back(created.run_id)
        return f"completed runs {completed.id} and {created.run_id} written back as read: 200, same ETag"

    def put_back(self, run_id: UUID) -> None:
        """Reads the run and writes it back unchanged: 200 and the ETag of the read."""
        response = self.get(run_id)
        run = expect(response, HTTPStatus.OK, TaskAgentRun)
        read = etag(response)
        response = self.put(run_id, to_write(run))
        expect(response, HTTPStatus.OK, TaskAgentRun)
        written = etag(response)
        check(written == read, f"run {run_id}: ETag {read} when read, {written} when written back")


def run_steps(steps: list[tuple[str, Callable[[], str]]]) -> int:
    """Runs and reports each step, then the totals; the number of failed steps."""
    failed = 0
    for name, step in steps:
        try:
            detail = step()
        except StepFailed as failure:
            failed += 1
            print(f"FAIL {name}: {failure}", flush=True)
        except Exception as error:  # a step that breaks must not stop the others
            failed += 1
            print(f"FAIL {name}: {type(error).__name__}: {error}", flush=True)
        else:
            print(f"ok   {name}: {detail}", flush=True)
    print(f"{len(steps) - failed} passed, {failed} failed")
    return failed


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"scenario.py: set {name}")
    return value


def main() -> int:
    mode = env("TASK_AGENT_MODE")
    if mode not in ("full", "read"):
        sys.exit(f"scenario.py: TASK_AGENT_MODE is {mode!r}, not 'full' or 'read'")
    url = env("TASK_AGENT_URL")
    reader = AuthenticatedClient(base_url=url, token=env("TASK_AGENT_READER_TOKEN"))
    location = (UUID(env("TASK_AGENT_ORG")), UUID(env("TASK_AGENT_PROJECT")), UUID(env("TASK_AGENT_AGENT")))
    scenario: Reads
    if mode == "full":
        writer = AuthenticatedClient(base_url=url, token=env("TASK_AGENT_WRITER_TOKEN"))
        scenario = Writes(reader, writer, *location)
    else:
        scenario = Reads(reader, *location, expect_later=os.environ.get("TASK_AGENT_EXPECT_LATER") == "1")
    return 1 if run_steps(scenario.steps()) else 0


if __name__ == "__main__":
    sys.exit(main())
