package apiserver

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// A handler that panics answers 500 with a Status and logs the panic at
// Error with its stack. (The Server here has no storage, so /readyz
// panics.)
func TestHandlerPanicIs500AndLoggedAtError(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError})), codecs: newCodecs()}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	var st statusBody
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != 500 || st.Reason != "InternalError" ||
		st.Message != "Internal error occurred: This request caused apiserver to panic. Look in the logs for details." {
		t.Fatalf("answer: %d %s", rec.Code, rec.Body)
	}
	var entry struct {
		Level, Msg, Path, Stack string
	}
	if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if entry.Level != "ERROR" || entry.Path != "/readyz" || !strings.Contains(entry.Stack, "ServeHTTP") {
		t.Fatalf("log entry %+v", entry)
	}
}
