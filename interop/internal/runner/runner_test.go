package runner

import (
	"io"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

func TestParseRequest(t *testing.T) {
	www := "/srv/www"
	for _, tc := range []struct {
		req, want string
		ok        bool
	}{
		{"GET /file\r\n", "/srv/www/file", true},
		{"GET /dir/file", "/srv/www/dir/file", true},
		{"GET /../../etc/passwd\r\n", "/srv/www/etc/passwd", true},
		{"GET /a%20b\r\n", "/srv/www/a b", true},
		{"GET /\r\n", "/srv/www/index.html", true},
		{"GET /dir/\r\n", "/srv/www/dir/index.html", true},
		{"POST /file\r\n", "", false},
		{"GET file\r\n", "", false},
		{"", "", false},
		{"GET /%zz\r\n", "", false},
	} {
		got, err := ParseRequest(www, []byte(tc.req))
		if (err == nil) != tc.ok || got != filepath.FromSlash(tc.want) {
			t.Errorf("ParseRequest(%q) = %q, %v; want %q, ok %v", tc.req, got, err, tc.want, tc.ok)
		}
	}
}

func TestOpenServesIndexOrListing(t *testing.T) {
	www := t.TempDir()
	if err := os.WriteFile(filepath.Join(www, "b"), []byte("bb"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(www, "a"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	read := func(req string) (string, error) {
		name, err := ParseRequest(www, []byte(req))
		if err != nil {
			return "", err
		}
		r, err := Open(name)
		if err != nil {
			return "", err
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		return string(b), err
	}
	if got, err := read("GET /\r\n"); err != nil || got != "a\nb\n" {
		t.Errorf("GET / without index.html = %q, %v; want the listing", got, err)
	}
	if got, err := read("GET /b\r\n"); err != nil || got != "bb" {
		t.Errorf("GET /b = %q, %v", got, err)
	}
	if _, err := read("GET /missing\r\n"); err == nil {
		t.Error("GET /missing succeeded")
	}
	if err := os.WriteFile(filepath.Join(www, Index), []byte("home"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := read("GET /\r\n"); err != nil || got != "home" {
		t.Errorf("GET / with index.html = %q, %v", got, err)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte("GET /file\r\n"))
	f.Add([]byte("GET /../x"))
	f.Fuzz(func(t *testing.T, req []byte) {
		got, err := ParseRequest("/www", req)
		if err == nil && (len(got) < len("/www/") || got[:len("/www/")] != "/www/") {
			t.Fatalf("%q escapes the directory: %q", req, got)
		}
	})
}

func TestParseEnvironment(t *testing.T) {
	t.Setenv("ROLE", "client")
	t.Setenv("TESTCASE", "transfer")
	t.Setenv("REQUESTS", "https://127.0.0.1:4433/a https://127.0.0.1:4433/b/c")
	t.Setenv("SSLKEYLOGFILE", "/tmp/keys")
	e, err := Parse("t", []string{"-downloads", "/tmp/dl"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Role != "client" || e.TestCase != "transfer" || len(e.Requests) != 2 || e.KeyLogFile != "/tmp/keys" ||
		e.Downloads != "/tmp/dl" || e.WWW != "/www" || e.Certs != "/certs" {
		t.Errorf("Parse = %+v", e)
	}
	if got := e.DownloadPath(e.Requests[1]); got != filepath.FromSlash("/tmp/dl/b/c") {
		t.Errorf("DownloadPath = %q", got)
	}
	host, addr, err := ServerAddr(e.Requests[0])
	if err != nil || host != "127.0.0.1" || addr.String() != "127.0.0.1:4433" {
		t.Errorf("ServerAddr = %q, %v, %v", host, addr, err)
	}
	t.Setenv("ROLE", "")
	if _, err := Parse("t", nil); err == nil {
		t.Error("Parse accepted an empty ROLE")
	}
}

func TestRequestLine(t *testing.T) {
	u, _ := url.Parse("https://h:1/a b")
	if got := string(Request(u)); got != "GET /a%20b\r\n" {
		t.Errorf("Request = %q", got)
	}
}

func TestSupported(t *testing.T) {
	if !Supported("client", CaseKeyUpdate) || Supported("server", CaseKeyUpdate) {
		t.Error("keyupdate is a client test case")
	}
	if !Supported("server", CaseConnectionMigration) || Supported("client", CaseConnectionMigration) {
		t.Error("connectionmigration is a server test case")
	}
	if Supported("client", "http3") {
		t.Error("http3 is not supported")
	}
}

func TestPeersDir(t *testing.T) {
	t.Setenv(PeersEnv, "/opt/peers")
	if got := PeersDir(); got != "/opt/peers" {
		t.Errorf("PeersDir with %s set = %q", PeersEnv, got)
	}
	t.Setenv(PeersEnv, "")
	got := PeersDir()
	if _, err := os.Stat(filepath.Join(filepath.Dir(got), ".git")); filepath.Base(got) != "_peers" || err != nil {
		t.Errorf("PeersDir = %q, want _peers at the repository root", got)
	}
}
