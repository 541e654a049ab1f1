// Command scenario proves that the Go client that openapi-generator 7.26.0
// (generator "go", default options) generates from openapi.yaml works
// against a live Task Agent Runs server: it lists and pages through runs,
// reads every one, creates runs (full and all-null), replaces them with and
// without If-Match, reads the 404, 412 and 422 answers as the generated
// Error model, and writes runs it read back unchanged (same ETag). Against a
// later server (TASK_AGENT_EXPECT_LATER=1) it proves that statuses, file
// sources and fields this client does not know are read without error, the
// fields kept in AdditionalProperties.
//
// Environment: TASK_AGENT_URL, TASK_AGENT_READER_TOKEN,
// TASK_AGENT_WRITER_TOKEN (mode full), TASK_AGENT_ORG, TASK_AGENT_PROJECT,
// TASK_AGENT_AGENT, TASK_AGENT_MODE (full or read), TASK_AGENT_EXPECT_LATER.
// It prints one line per step and a count, and exits 1 if a step failed.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	openapi "github.com/GIT_USER_ID/GIT_REPO_ID"
)

// createdAt is when the runs this scenario writes started: below the
// millisecond on purpose, since the server keeps timestamps to the
// millisecond.
var createdAt = time.Date(2026, 11, 20, 9, 14, 3, 512345678, time.UTC)

// nullableTopLevel names the nullable fields of a run, as nullFields reads
// them.
var nullableTopLevel = []string{
	"user_id", "charged_credits", "total_charged_credits", "completed",
	"last_activity_at", "duration_ms", "task_agent_revision_id",
	"primary_llm_model_id", "fallback_llm_model_id", "invocation_id",
	"primary_failure_reason", "termination_reason", "task_tools_invoked",
	"mcp_tools_invoked", "integration_tools_invoked", "skills_activated",
	"phase_timings", "context_usage",
}

type scenario struct {
	api                 *openapi.TaskAgentRunsAPIService
	reader, writer      context.Context
	org, project, agent string
	passed, failed      int

	page    *openapi.TaskAgentRunPage // the page_limit=100 list (get-run)
	fetched []*openapi.TaskAgentRun   // every run of page, read one by one

	createdID   string                    // the run put-create wrote
	createdBody openapi.TaskAgentRunWrite // what was last stored under it
	createdETag string                    // its current ETag
	staleETag   string                    // its ETag before put-if-match
}

func main() {
	s, mode, err := newScenario()
	if err != nil {
		fmt.Printf("FAIL setup: %v\n0 passed, 1 failed\n", err)
		os.Exit(1)
	}
	s.step("get-run", s.getRun)
	s.step("list-pages", s.listPages)
	s.step("read-every-run", s.readEveryRun)
	if os.Getenv("TASK_AGENT_EXPECT_LATER") == "1" {
		s.step("later-values", s.laterValues)
		s.step("later-fields", s.laterFields)
	}
	if mode == "full" {
		s.step("put-create", s.putCreate)
		s.step("get-created", s.getCreated)
		s.step("nulls", s.nulls)
		s.step("put-if-match", s.putIfMatch)
		s.step("put-stale-if-match", s.putStaleIfMatch)
		s.step("not-found", s.notFound)
		s.step("unprocessable", s.unprocessable)
		s.step("round-trip", s.roundTrip)
		s.step("complete-round-trip", s.completeRoundTrip)
	}
	fmt.Printf("%d passed, %d failed\n", s.passed, s.failed)
	if s.failed > 0 {
		os.Exit(1)
	}
}

func newScenario() (*scenario, string, error) {
	mode := os.Getenv("TASK_AGENT_MODE")
	if mode != "full" && mode != "read" {
		return nil, "", fmt.Errorf("TASK_AGENT_MODE is %q, not full or read", mode)
	}
	required := []string{"TASK_AGENT_URL", "TASK_AGENT_READER_TOKEN", "TASK_AGENT_ORG", "TASK_AGENT_PROJECT", "TASK_AGENT_AGENT"}
	if mode == "full" {
		required = append(required, "TASK_AGENT_WRITER_TOKEN")
	}
	for _, name := range required {
		if os.Getenv(name) == "" {
			return nil, "", fmt.Errorf("%s is not set", name)
		}
	}
	cfg := openapi.NewConfiguration()
	cfg.Servers = openapi.ServerConfigurations{{URL: strings.TrimRight(os.Getenv("TASK_AGENT_URL"), "/")}}
	cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	bearer := func(name string) context.Context {
		return context.WithValue(context.Background(), openapi.ContextAccessToken, os.Getenv(name))
	}
	return &scenario{
		api:     openapi.NewAPIClient(cfg).TaskAgentRunsAPI,
		reader:  bearer("TASK_AGENT_READER_TOKEN"),
		writer:  bearer("TASK_AGENT_WRITER_TOKEN"),
		org:     os.Getenv("TASK_AGENT_ORG"),
		project: os.Getenv("TASK_AGENT_PROJECT"),
		agent:   os.Getenv("TASK_AGENT_AGENT"),
	}, mode, nil
}

func (s *scenario) step(name string, check func() (string, error)) {
	detail, err := check()
	if err != nil {
		s.failed++
		fmt.Printf("FAIL %s: %v\n", name, err)
		return
	}
	s.passed++
	fmt.Printf("ok   %s: %s\n", name, detail)
}

func (s *scenario) getRun() (string, error) {
	page, _, err := s.api.ListTaskAgentRuns(s.reader, s.org, s.project, s.agent).PageLimit(100).Execute()
	if err != nil {
		return "", failure("list page_limit=100", err)
	}
	if len(page.Results) == 0 {
		return "", errors.New("the task agent has no runs")
	}
	s.page = page
	run, etag, err := s.get(page.Results[0].Id)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s), ETag %s", run.Id, run.Status, etag), nil
}

func (s *scenario) listPages() (string, error) {
	if s.page == nil {
		return "", errors.New("no page_limit=100 list (get-run failed)")
	}
	var ids []string
	cursor := ""
	pages := 0
	for {
		request := s.api.ListTaskAgentRuns(s.reader, s.org, s.project, s.agent).PageLimit(7)
		if cursor != "" {
			request = request.Cursor(cursor)
		}
		page, _, err := request.Execute()
		if err != nil {
			return "", failure(fmt.Sprintf("page %d", pages+1), err)
		}
		pages++
		next := page.Pagination.NextCursor.Get()
		switch {
		case len(page.Results) > 7 || page.Pagination.PageLimit != 7:
			return "", fmt.Errorf("page %d: %d runs, page_limit %d", pages, len(page.Results), page.Pagination.PageLimit)
		case page.Pagination.HasNext != (next != nil):
			return "", fmt.Errorf("page %d: has_next %t but next_cursor %v", pages, page.Pagination.HasNext, next)
		}
		for _, run := range page.Results {
			ids = append(ids, run.Id)
		}
		if next == nil {
			break
		}
		if pages > 1000 {
			return "", errors.New("more than 1000 pages")
		}
		cursor = *next
	}
	// Against a task agent with more than 100 runs the big page is the
	// first 100 of the walk.
	big := runIDs(s.page.Results)
	if s.page.Pagination.HasNext && len(ids) > len(big) {
		ids = ids[:len(big)]
	}
	if !reflect.DeepEqual(ids, big) {
		return "", fmt.Errorf("%d ids over %d pages differ from the %d of the page_limit=100 page", len(ids), pages, len(big))
	}
	return fmt.Sprintf("%d runs in %d pages of 7, in the order of the page_limit=100 page", len(ids), pages), nil
}

func (s *scenario) readEveryRun() (string, error) {
	if s.page == nil {
		return "", errors.New("no page_limit=100 list (get-run failed)")
	}
	nulls := 0
	for _, listed := range s.page.Results {
		run, _, err := s.get(listed.Id)
		if err != nil {
			return "", err
		}
		s.fetched = append(s.fetched, run)
		nulls += len(nullFields(run))
	}
	return fmt.Sprintf("%d runs read, %d null top-level fields among them", len(s.fetched), nulls), nil
}

// laterValues checks that the later server's status and file source values,
// which this client does not know, were read as they are.
func (s *scenario) laterValues() (string, error) {
	if len(s.fetched) == 0 {
		return "", errors.New("no runs read (read-every-run failed)")
	}
	files := 0
	for _, run := range s.readRuns() {
		if run.Status != "paused" {
			return "", fmt.Errorf("run %s: status %q, expected the later value paused", run.Id, run.Status)
		}
		for _, file := range run.Files {
			if file.Source != "emailed" {
				return "", fmt.Errorf("run %s, file %s: source %q, expected the later value emailed", run.Id, file.Id, file.Source)
			}
			files++
		}
	}
	return fmt.Sprintf("%d runs (listed and read) with status paused, %d files with source emailed", 2*len(s.fetched), files), nil
}

// laterFields checks that later_field, which this client does not know, was
// kept in AdditionalProperties of the page, its pagination, every run and
// every nested object.
func (s *scenario) laterFields() (string, error) {
	if len(s.fetched) == 0 {
		return "", errors.New("no runs read (read-every-run failed)")
	}
	owners := map[string]map[string]interface{}{
		"page":       s.page.AdditionalProperties,
		"pagination": s.page.Pagination.AdditionalProperties,
	}
	nested := 0
	for i, run := range s.readRuns() {
		owners[fmt.Sprintf("run %s (%d)", run.Id, i)] = run.AdditionalProperties
		for j, extra := range nestedExtras(run) {
			owners[fmt.Sprintf("run %s (%d), nested object %d", run.Id, i, j)] = extra
			nested++
		}
	}
	for owner, extra := range owners {
		if _, ok := extra["later_field"]; !ok {
			return "", fmt.Errorf("%s: later_field not in AdditionalProperties (%v)", owner, extra)
		}
	}
	return fmt.Sprintf("later_field kept on the page, its pagination, %d runs and %d nested objects", 2*len(s.fetched), nested), nil
}

func (s *scenario) putCreate() (string, error) {
	s.createdID = newUUID()
	body := newRun()
	run, response, err := s.put(s.createdID, body, "")
	etag, err := written(s.createdID, http.StatusCreated, run, response, err)
	if err != nil {
		return "", err
	}
	s.createdBody, s.createdETag = body, etag
	return fmt.Sprintf("201 for new run %s, ETag %s", s.createdID, etag), nil
}

func (s *scenario) getCreated() (string, error) {
	if s.createdETag == "" {
		return "", errors.New("no run written (put-create failed)")
	}
	run, etag, err := s.get(s.createdID)
	if err != nil {
		return "", err
	}
	want := s.createdBody
	want.Created = createdAt.Truncate(time.Millisecond)
	diffs, err := differences(want, run, "id", "task_agent_id")
	switch {
	case err != nil:
		return "", err
	case len(diffs) > 0:
		return "", fmt.Errorf("read back differently: %s", strings.Join(diffs, "; "))
	case run.TaskAgentId != s.agent:
		return "", fmt.Errorf("task_agent_id %s, expected %s", run.TaskAgentId, s.agent)
	case etag != s.createdETag:
		return "", fmt.Errorf("ETag %s, PUT gave %s", etag, s.createdETag)
	}
	return fmt.Sprintf("every field as sent, created %s (sent %s)",
		run.Created.Format(time.RFC3339Nano), createdAt.Format(time.RFC3339Nano)), nil
}

func (s *scenario) nulls() (string, error) {
	id := newUUID()
	body := openapi.NewTaskAgentRunWrite("matrix-go-nulls", 0, 0, 0, createdAt, openapi.PENDING)
	body.SetUserIdNil()
	body.SetChargedCreditsNil()
	body.SetTotalChargedCreditsNil()
	body.SetCompletedNil()
	body.SetLastActivityAtNil()
	body.SetDurationMsNil()
	body.SetTaskAgentRevisionIdNil()
	body.SetPrimaryLlmModelIdNil()
	body.SetFallbackLlmModelIdNil()
	body.SetInvocationIdNil()
	body.SetPrimaryFailureReasonNil()
	body.SetTerminationReasonNil()
	body.SetContextUsageNil()
	run, response, err := s.put(id, *body, "")
	if _, err := written(id, http.StatusCreated, run, response, err); err != nil {
		return "", err
	}
	run, _, err = s.get(id)
	if err != nil {
		return "", err
	}
	if got := nullFields(run); !reflect.DeepEqual(got, nullableTopLevel) {
		return "", fmt.Errorf("null fields %v, expected all of %v", got, nullableTopLevel)
	}
	if len(run.ModelUsages) != 0 || len(run.Files) != 0 {
		return "", fmt.Errorf("%d model usages and %d files, expected none", len(run.ModelUsages), len(run.Files))
	}
	return fmt.Sprintf("201, then all %d nullable fields read as null, model_usages and files empty", len(nullableTopLevel)), nil
}

func (s *scenario) putIfMatch() (string, error) {
	if s.createdETag == "" {
		return "", errors.New("no run written (put-create failed)")
	}
	body := s.createdBody
	body.OutputTokens++
	body.TotalTokens++
	run, response, err := s.put(s.createdID, body, s.createdETag)
	etag, err := written(s.createdID, http.StatusOK, run, response, err)
	switch {
	case err != nil:
		return "", err
	case etag == s.createdETag:
		return "", fmt.Errorf("ETag still %s after the change", etag)
	case run.OutputTokens != body.OutputTokens:
		return "", fmt.Errorf("output_tokens %d, sent %d", run.OutputTokens, body.OutputTokens)
	}
	s.staleETag = s.createdETag
	s.createdBody, s.createdETag = body, etag
	return fmt.Sprintf("200, ETag %s -> %s", s.staleETag, etag), nil
}

func (s *scenario) putStaleIfMatch() (string, error) {
	if s.staleETag == "" {
		return "", errors.New("no replaced run (put-if-match failed)")
	}
	body := s.createdBody
	body.OutputTokens++
	body.TotalTokens++
	_, response, err := s.put(s.createdID, body, s.staleETag)
	model, err := apiError("PUT with a stale If-Match", http.StatusPreconditionFailed, response, err)
	if err != nil {
		return "", err
	}
	if model.GetErrorCode() != "PreconditionFailed" {
		return "", fmt.Errorf("error_code %q, expected PreconditionFailed", model.GetErrorCode())
	}
	_, etag, err := s.get(s.createdID)
	switch {
	case err != nil:
		return "", fmt.Errorf("after the 412: %w", err)
	case etag != s.createdETag:
		return "", fmt.Errorf("after the 412 the run has ETag %s, expected it unchanged %s", etag, s.createdETag)
	}
	return fmt.Sprintf("412 %s %q (request %s), run unchanged", model.GetErrorCode(), model.Message, model.RequestId), nil
}

func (s *scenario) notFound() (string, error) {
	_, response, err := s.api.GetTaskAgentRun(s.reader, s.org, s.project, s.agent, newUUID()).Execute()
	model, err := apiError("GET a random run id", http.StatusNotFound, response, err)
	if err != nil {
		return "", err
	}
	if model.GetErrorCode() != "NotFound" {
		return "", fmt.Errorf("error_code %q, expected NotFound", model.GetErrorCode())
	}
	return fmt.Sprintf("404 %s %q", model.GetErrorCode(), model.Message), nil
}

func (s *scenario) unprocessable() (string, error) {
	body := newRun()
	body.TotalTokens = body.InputTokens + body.OutputTokens + 1
	_, response, err := s.put(newUUID(), body, "")
	model, err := apiError("PUT with total_tokens != input_tokens + output_tokens", http.StatusUnprocessableEntity, response, err)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(model.Message, "total_tokens") {
		return "", fmt.Errorf("message %q does not start with total_tokens", model.Message)
	}
	return fmt.Sprintf("422 %s %q", model.GetErrorCode(), model.Message), nil
}

// roundTrip writes a completed run of the list back as it was read: the
// server must see no change (200, not 409 RunTerminal) and keep its ETag.
func (s *scenario) roundTrip() (string, error) {
	if s.page == nil {
		return "", errors.New("no page_limit=100 list (get-run failed)")
	}
	for _, run := range s.page.Results {
		if run.Status == string(openapi.COMPLETED) {
			return s.writeBack(run.Id)
		}
	}
	return "", errors.New("no completed run on the page_limit=100 page")
}

// completeRoundTrip completes the run put-create wrote, at a completion time
// below the millisecond, then writes it back as it was read.
func (s *scenario) completeRoundTrip() (string, error) {
	if s.createdETag == "" {
		return "", errors.New("no run written (put-create failed)")
	}
	body := s.createdBody
	body.Status = openapi.COMPLETED
	body.SetCompleted(createdAt.Add(2500 * time.Millisecond))
	run, response, err := s.put(s.createdID, body, "")
	if _, err := written(s.createdID, http.StatusOK, run, response, err); err != nil {
		return "", fmt.Errorf("completing: %w", err)
	}
	completed := run.Completed.Get()
	if want := body.Completed.Get().Truncate(time.Millisecond); completed == nil || !completed.Equal(want) {
		return "", fmt.Errorf("completed %v, expected %s", completed, want.Format(time.RFC3339Nano))
	}
	detail, err := s.writeBack(s.createdID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("completed at %s (sent %s); %s", completed.Format(time.RFC3339Nano),
		body.Completed.Get().Format(time.RFC3339Nano), detail), nil
}

// writeBack reads a run, converts it with toWrite and puts it back: 200 with
// the ETag it had.
func (s *scenario) writeBack(id string) (string, error) {
	run, etag, err := s.get(id)
	if err != nil {
		return "", err
	}
	body, err := toWrite(run)
	if err != nil {
		return "", fmt.Errorf("run %s: %w", id, err)
	}
	stored, response, err := s.put(id, body, "")
	after, err := written(id, http.StatusOK, stored, response, err)
	switch {
	case err != nil:
		return "", fmt.Errorf("writing %s back: %w", run.Status, err)
	case after != etag:
		return "", fmt.Errorf("ETag %s after writing back, read %s", after, etag)
	}
	return fmt.Sprintf("%s run %s written back: 200, ETag %s unchanged", run.Status, id, etag), nil
}

// get reads a run with the reader token: 200, the run asked for, an ETag.
func (s *scenario) get(id string) (*openapi.TaskAgentRun, string, error) {
	run, response, err := s.api.GetTaskAgentRun(s.reader, s.org, s.project, s.agent, id).Execute()
	if err != nil {
		return nil, "", failure("GET "+id, err)
	}
	etag := response.Header.Get("ETag")
	switch {
	case response.StatusCode != http.StatusOK:
		return nil, "", fmt.Errorf("GET %s: status %d", id, response.StatusCode)
	case run.Id != id:
		return nil, "", fmt.Errorf("GET %s: run %s", id, run.Id)
	case etag == "":
		return nil, "", fmt.Errorf("GET %s: no ETag header", id)
	}
	return run, etag, nil
}

// put writes a run with the writer token, under If-Match unless ifMatch is
// empty.
func (s *scenario) put(id string, body openapi.TaskAgentRunWrite, ifMatch string) (*openapi.TaskAgentRun, *http.Response, error) {
	request := s.api.PutTaskAgentRun(s.writer, s.org, s.project, s.agent, id).TaskAgentRunWrite(body)
	if ifMatch != "" {
		request = request.IfMatch(ifMatch)
	}
	return request.Execute()
}

// written checks a PUT's answer: the status expected, the run, an ETag,
// which it returns.
func written(id string, status int, run *openapi.TaskAgentRun, response *http.Response, err error) (string, error) {
	if err != nil {
		return "", failure("PUT "+id, err)
	}
	etag := response.Header.Get("ETag")
	switch {
	case response.StatusCode != status:
		return "", fmt.Errorf("PUT %s: status %d, expected %d", id, response.StatusCode, status)
	case run.Id != id:
		return "", fmt.Errorf("PUT %s: answered run %s", id, run.Id)
	case etag == "":
		return "", fmt.Errorf("PUT %s: no ETag header", id)
	}
	return etag, nil
}

// failure describes a call the generated client reported as failed, with the
// body the server sent when there was one.
func failure(call string, err error) error {
	var apiErr *openapi.GenericOpenAPIError
	if errors.As(err, &apiErr) && len(apiErr.Body()) > 0 {
		return fmt.Errorf("%s: %v (body %s)", call, err, oneLine(apiErr.Body()))
	}
	return fmt.Errorf("%s: %w", call, err)
}

// apiError checks that a call failed with status, its body read as the
// generated Error model, with a message and the request id of x-request-id.
func apiError(call string, status int, response *http.Response, err error) (openapi.Error, error) {
	var apiErr *openapi.GenericOpenAPIError
	switch {
	case err == nil:
		return openapi.Error{}, fmt.Errorf("%s: status %d, expected %d", call, response.StatusCode, status)
	case response == nil || !errors.As(err, &apiErr):
		return openapi.Error{}, fmt.Errorf("%s: %w", call, err)
	case response.StatusCode != status:
		return openapi.Error{}, fmt.Errorf("%s: status %d, expected %d (body %s)", call, response.StatusCode, status, oneLine(apiErr.Body()))
	}
	model, ok := apiErr.Model().(openapi.Error)
	switch {
	case !ok:
		return model, fmt.Errorf("%s: the %d body is not read as Error: %v (body %s)", call, status, err, oneLine(apiErr.Body()))
	case model.Message == "":
		return model, fmt.Errorf("%s: empty message", call)
	case model.RequestId == "" || model.RequestId != response.Header.Get("x-request-id"):
		return model, fmt.Errorf("%s: request_id %q, x-request-id header %q", call, model.RequestId, response.Header.Get("x-request-id"))
	}
	return model, nil
}

// newRun is a running run with a value in most fields, a null in the
// others, and one of each nested object.
func newRun() openapi.TaskAgentRunWrite {
	model := newUUID()
	null := *openapi.NewNullableString(nil)
	run := openapi.NewTaskAgentRunWrite("matrix-go-"+newUUID()[:8], 1830, 412, 2242, createdAt, openapi.RUNNING)
	run.SetUserId(newUUID())
	run.SetChargedCredits("0.0450")
	run.SetTotalChargedCredits("0.0450")
	run.SetCompletedNil()
	run.SetLastActivityAt(time.Date(2026, 11, 20, 9, 14, 12, 650000000, time.UTC))
	run.SetDurationMs(9138)
	run.SetTaskAgentRevisionId(newUUID())
	run.SetPrimaryLlmModelId(model)
	run.SetFallbackLlmModelIdNil()
	run.SetInvocationId("e-" + newUUID())
	run.SetIsContinuation(false)
	run.SetPrimaryFailureReasonNil()
	run.SetTerminationReasonNil()
	run.SetTaskToolsInvoked([]openapi.TaskToolInvocationWrite{
		*openapi.NewTaskToolInvocationWrite(newUUID(), "summarise-ticket", null, false, *openapi.NewNullableInt64(nil), null),
	})
	run.SetMcpToolsInvoked([]openapi.McpToolInvocationWrite{
		*openapi.NewMcpToolInvocationWrite(newUUID(), null, "search_issues", false, *openapi.NewNullableInt64(openapi.PtrInt64(640)), null),
	})
	run.SetSkillsActivated([]openapi.SkillActivationWrite{
		*openapi.NewSkillActivationWrite(newUUID(), null, "triage", *openapi.NewNullableTime(nil)),
	})
	run.SetPhaseTimings([]openapi.PhaseTimingWrite{
		*openapi.NewPhaseTimingWrite("llm", time.Date(2026, 11, 20, 9, 14, 3, 530000000, time.UTC), 9120),
	})
	run.SetContextUsageNil()
	run.SetModelUsages([]openapi.ModelUsageWrite{
		*openapi.NewModelUsageWrite(model, "gpt-5-mini", false, 1830, 412, 2242, null),
	})
	run.SetFiles([]openapi.RunFileWrite{
		*openapi.NewRunFileWrite(newUUID(), "ticket.pdf", "application/pdf", 48213, openapi.UPLOADED,
			time.Date(2026, 11, 20, 9, 14, 3, 600000000, time.UTC)),
	})
	return *run
}

// toWrite is the body that stores a run as it was read: field by field,
// through the generated types. Nullable fields keep their null; a status or
// file source this client does not know is an error, since the write
// schema's enums only take known values.
func toWrite(run *openapi.TaskAgentRun) (openapi.TaskAgentRunWrite, error) {
	status, err := openapi.NewRunStatusFromValue(run.Status)
	if err != nil {
		return openapi.TaskAgentRunWrite{}, err
	}
	files := make([]openapi.RunFileWrite, 0, len(run.Files))
	for _, file := range run.Files {
		source, err := openapi.NewRunFileSourceFromValue(file.Source)
		if err != nil {
			return openapi.TaskAgentRunWrite{}, fmt.Errorf("file %s: %w", file.Id, err)
		}
		files = append(files, *openapi.NewRunFileWrite(file.Id, file.Filename, file.ContentType, file.SizeBytes, *source, file.Created))
	}
	write := openapi.NewTaskAgentRunWrite(run.SessionId, run.InputTokens, run.OutputTokens, run.TotalTokens, run.Created, *status)
	write.UserId = run.UserId
	write.ChargedCredits = run.ChargedCredits
	write.TotalChargedCredits = run.TotalChargedCredits
	write.Completed = run.Completed
	write.LastActivityAt = run.LastActivityAt
	write.DurationMs = run.DurationMs
	write.SetIsError(run.IsError)
	write.TaskAgentRevisionId = run.TaskAgentRevisionId
	write.PrimaryLlmModelId = run.PrimaryLlmModelId
	write.FallbackLlmModelId = run.FallbackLlmModelId
	write.InvocationId = run.InvocationId
	write.SetIsContinuation(run.IsContinuation)
	write.SetUsedFallbackModel(run.UsedFallbackModel)
	write.SetHadTaskToolFail(run.HadTaskToolFail)
	write.SetHadMcpToolFail(run.HadMcpToolFail)
	write.SetHadIntegrationToolFail(run.HadIntegrationToolFail)
	write.PrimaryFailureReason = run.PrimaryFailureReason
	write.TerminationReason = run.TerminationReason
	write.TaskToolsInvoked = convert(run.TaskToolsInvoked, func(t openapi.TaskToolInvocation) openapi.TaskToolInvocationWrite {
		return *openapi.NewTaskToolInvocationWrite(t.TaskId, t.TaskName, t.TaskRunId, t.IsError, t.DurationMs, t.Error)
	})
	write.McpToolsInvoked = convert(run.McpToolsInvoked, func(t openapi.McpToolInvocation) openapi.McpToolInvocationWrite {
		return *openapi.NewMcpToolInvocationWrite(t.McpServerId, t.ServerName, t.ToolName, t.IsError, t.DurationMs, t.Error)
	})
	write.IntegrationToolsInvoked = convert(run.IntegrationToolsInvoked, func(t openapi.IntegrationToolInvocation) openapi.IntegrationToolInvocationWrite {
		return *openapi.NewIntegrationToolInvocationWrite(t.ProjectIntegrationId, t.ToolName, t.IsError, t.DurationMs, t.Error)
	})
	write.SkillsActivated = convert(run.SkillsActivated, func(a openapi.SkillActivation) openapi.SkillActivationWrite {
		return *openapi.NewSkillActivationWrite(a.SkillId, a.SkillRevisionId, a.Name, a.ActivatedAt)
	})
	write.PhaseTimings = convert(run.PhaseTimings, func(p openapi.PhaseTiming) openapi.PhaseTimingWrite {
		return *openapi.NewPhaseTimingWrite(p.Phase, p.StartedAt, p.DurationMs)
	})
	if usage := run.ContextUsage.Get(); usage != nil {
		write.SetContextUsage(*openapi.NewContextUsageWrite(usage.UsedTokens, usage.ContextWindow, usage.Compactions))
	} else {
		write.SetContextUsageNil()
	}
	write.SetModelUsages(convert(run.ModelUsages, func(u openapi.ModelUsage) openapi.ModelUsageWrite {
		return *openapi.NewModelUsageWrite(u.LlmModelId, u.ModelName, u.IsFallback, u.InputTokens, u.OutputTokens, u.TotalTokens, u.ChargedCredits)
	}))
	write.SetFiles(files)
	return *write, nil
}

// convert maps a list of nested objects to their write form, a null list
// to a null list.
func convert[R, W any](items []R, write func(R) W) []W {
	if items == nil {
		return nil
	}
	converted := make([]W, 0, len(items))
	for _, item := range items {
		converted = append(converted, write(item))
	}
	return converted
}

// nullFields names the nullable fields of a run that were null, in the
// order of nullableTopLevel.
func nullFields(run *openapi.TaskAgentRun) []string {
	null := map[string]bool{
		"user_id":                   run.UserId.Get() == nil,
		"charged_credits":           run.ChargedCredits.Get() == nil,
		"total_charged_credits":     run.TotalChargedCredits.Get() == nil,
		"completed":                 run.Completed.Get() == nil,
		"last_activity_at":          run.LastActivityAt.Get() == nil,
		"duration_ms":               run.DurationMs.Get() == nil,
		"task_agent_revision_id":    run.TaskAgentRevisionId.Get() == nil,
		"primary_llm_model_id":      run.PrimaryLlmModelId.Get() == nil,
		"fallback_llm_model_id":     run.FallbackLlmModelId.Get() == nil,
		"invocation_id":             run.InvocationId.Get() == nil,
		"primary_failure_reason":    run.PrimaryFailureReason.Get() == nil,
		"termination_reason":        run.TerminationReason.Get() == nil,
		"task_tools_invoked":        run.TaskToolsInvoked == nil,
		"mcp_tools_invoked":         run.McpToolsInvoked == nil,
		"integration_tools_invoked": run.IntegrationToolsInvoked == nil,
		"skills_activated":          run.SkillsActivated == nil,
		"phase_timings":             run.PhaseTimings == nil,
		"context_usage":             run.ContextUsage.Get() == nil,
	}
	var names []string
	for _, name := range nullableTopLevel {
		if null[name] {
			names = append(names, name)
		}
	}
	return names
}

// nestedExtras is the AdditionalProperties of every nested object of a run.
func nestedExtras(run *openapi.TaskAgentRun) []map[string]interface{} {
	var extras []map[string]interface{}
	for _, t := range run.TaskToolsInvoked {
		extras = append(extras, t.AdditionalProperties)
	}
	for _, t := range run.McpToolsInvoked {
		extras = append(extras, t.AdditionalProperties)
	}
	for _, t := range run.IntegrationToolsInvoked {
		extras = append(extras, t.AdditionalProperties)
	}
	for _, a := range run.SkillsActivated {
		extras = append(extras, a.AdditionalProperties)
	}
	for _, p := range run.PhaseTimings {
		extras = append(extras, p.AdditionalProperties)
	}
	if usage := run.ContextUsage.Get(); usage != nil {
		extras = append(extras, usage.AdditionalProperties)
	}
	for _, u := range run.ModelUsages {
		extras = append(extras, u.AdditionalProperties)
	}
	for _, f := range run.Files {
		extras = append(extras, f.AdditionalProperties)
	}
	return extras
}

// differences compares the JSON of what was read with the JSON of what was
// sent, field by field (but for skip); a field the body left out counts as
// null, as the server reads it.
func differences(sent, read interface{}, skip ...string) ([]string, error) {
	want, err := jsonObject(sent)
	if err != nil {
		return nil, err
	}
	got, err := jsonObject(read)
	if err != nil {
		return nil, err
	}
	for _, name := range skip {
		delete(got, name)
	}
	var diffs []string
	for name, value := range got {
		if expected := want[name]; !reflect.DeepEqual(expected, value) {
			diffs = append(diffs, fmt.Sprintf("%s: sent %s, read %s", name, compact(expected), compact(value)))
		}
		delete(want, name)
	}
	for name := range want {
		diffs = append(diffs, fmt.Sprintf("%s: sent, not read", name))
	}
	sort.Strings(diffs)
	return diffs, nil
}

// oneLine is a response body on one line, cut to 300 characters.
func oneLine(body []byte) string {
	line := strings.Join(strings.Fields(string(body)), " ")
	if len(line) > 300 {
		return line[:300] + "..."
	}
	return line
}

func jsonObject(value interface{}) (map[string]interface{}, error) {
	raw, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	var object map[string]interface{}
	return object, json.Unmarshal(raw, &object)
}

func compact(value interface{}) string {
	raw, _ := json.Marshal(value)
	return string(raw)
}

func runIDs(runs []openapi.TaskAgentRun) []string {
	ids := make([]string, 0, len(runs))
	for _, run := range runs {
		ids = append(ids, run.Id)
	}
	return ids
}

// readRuns is every run the read steps got: as listed, then as read one by
// one.
func (s *scenario) readRuns() []*openapi.TaskAgentRun {
	runs := make([]*openapi.TaskAgentRun, 0, 2*len(s.page.Results))
	for i := range s.page.Results {
		runs = append(runs, &s.page.Results[i])
	}
	return append(runs, s.fetched...)
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
