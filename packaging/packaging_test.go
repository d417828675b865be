package packaging

import (
	"bufio"
	"debug/elf"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasPrefix(line, "#") { // a comment inside a continued instruction
			continue
		}
		if rest, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// stages splits instructions at FROM.
func stages(ins []instruction) [][]instruction {
	var out [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

func find(st []instruction, cmd string) []string {
	var out []string
	for _, in := range st {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// envOf reads ENV k=v pairs (several per instruction, as the Dockerfile writes them).
func envOf(st []instruction) map[string]string {
	env := map[string]string{}
	for _, a := range find(st, "ENV") {
		for _, kv := range strings.Fields(a) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	return env
}

// The Dockerfile's essentials: a cgo-free build stage, a small runtime stage that runs as a
// non-root user, keeps its data in a volume, listens where it exposes, and checks its health
// with the binary itself (the runtime image has no curl).
func TestDockerfile(t *testing.T) {
	st := stages(parseDockerfile(t, "../Dockerfile"))
	if len(st) != 2 {
		t.Fatalf("want a build stage and a runtime stage, got %d stages", len(st))
	}
	build, rt := st[0], st[1]
	if from := build[0].args; !regexp.MustCompile(`^golang:1\.\d+\S* AS build$`).MatchString(from) {
		t.Errorf("build stage FROM %q: want golang:<version> AS build", from)
	}
	runs := strings.Join(find(build, "RUN"), "\n")
	if !strings.Contains(runs, "CGO_ENABLED=0 go build") || !strings.Contains(runs, "./cmd/keyhold") {
		t.Errorf("the build stage does not build ./cmd/keyhold with CGO_ENABLED=0: %q", runs)
	}
	if from := rt[0].args; !strings.HasPrefix(from, "gcr.io/distroless/static") && !strings.HasPrefix(from, "debian:") {
		t.Errorf("runtime stage FROM %q: want distroless/static or debian-slim", from)
	}
	users := find(rt, "USER")
	if len(users) == 0 {
		t.Fatal("the runtime stage sets no USER: it would run as root")
	}
	if u, _, _ := strings.Cut(users[len(users)-1], ":"); u == "root" || u == "0" {
		t.Errorf("the runtime stage runs as %q", users[len(users)-1])
	}
	env := envOf(rt)
	dataDir, listen := env["KEYHOLD_DATA_DIR"], env["KEYHOLD_LISTEN"]
	if dataDir == "" || !slices.ContainsFunc(find(rt, "VOLUME"), func(v string) bool { return strings.Contains(v, `"`+dataDir+`"`) }) {
		t.Errorf("KEYHOLD_DATA_DIR %q is not a VOLUME (%q)", dataDir, find(rt, "VOLUME"))
	}
	if !slices.ContainsFunc(find(rt, "COPY"), func(c string) bool {
		return strings.Contains(c, "--chown=65532:65532") && strings.HasSuffix(c, " "+dataDir)
	}) {
		t.Errorf("the data directory %s is not created owned by the image's user", dataDir)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil || host != "0.0.0.0" {
		t.Errorf("KEYHOLD_LISTEN %q: want 0.0.0.0:<port>, reachable from outside the container", listen)
	}
	if _, ok := env["KEYHOLD_BASE_URL"]; ok {
		t.Error("the image sets KEYHOLD_BASE_URL: it belongs to each deployment (docker run -e)")
	}
	if exp := find(rt, "EXPOSE"); len(exp) != 1 || exp[0] != port {
		t.Errorf("EXPOSE %q, want the listen port %s", exp, port)
	}
	hc := find(rt, "HEALTHCHECK")
	want := `CMD ["/usr/local/bin/keyhold", "healthcheck", "--url", "http://127.0.0.1:` + port + `/healthz"]`
	if len(hc) != 1 || !strings.HasSuffix(hc[0], want) || !strings.Contains(hc[0], "--start-period=") {
		t.Errorf("HEALTHCHECK %q: want one with a start period and %s", hc, want)
	}
	if ep := find(rt, "ENTRYPOINT"); len(ep) != 1 || ep[0] != `["/usr/local/bin/keyhold"]` ||
		!slices.Contains(find(rt, "COPY"), "--from=build /out/keyhold /usr/local/bin/keyhold") {
		t.Errorf("ENTRYPOINT %q is not the binary copied from the build stage", ep)
	}
	if cmd := find(rt, "CMD"); len(cmd) != 1 || cmd[0] != `["serve"]` {
		t.Errorf("CMD %q, want [\"serve\"]", cmd)
	}
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, need := range []string{"!go.mod", "!go.sum", "!cmd/", "!internal/"} {
		if !strings.Contains(string(ignore), need+"\n") {
			t.Errorf(".dockerignore does not let %s into the build", need)
		}
	}
}

// The build stage's command, run here: the binary is static (no program interpreter, so it
// runs on distroless/static), and with the image's settings it serves and its health check
// passes; before it serves, the health check fails.
func TestImageBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds keyhold; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "keyhold")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/keyhold")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the build stage's go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary needs a program interpreter (dynamic linking): it would not run on distroless/static")
		}
	}
	f.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	health := func() error {
		return exec.Command(bin, "healthcheck", "--url", "http://127.0.0.1:"+port+"/healthz").Run()
	}
	if health() == nil {
		t.Fatal("the health check passed with nothing listening")
	}
	srv := exec.Command(bin, "serve")
	srv.Env = append(cleanEnv(), "KEYHOLD_DATA_DIR="+filepath.Join(dir, "data"), "KEYHOLD_LISTEN=0.0.0.0:"+port,
		"KEYHOLD_BASE_URL=https://keyhold.image.test")
	var stderr strings.Builder
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for health() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the health check never passed; stderr:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KEYHOLD_") {
			env = append(env, kv)
		}
	}
	return env
}

// unitSettings reads a systemd unit into section -> key -> values (keys may repeat).
func unitSettings(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: cannot read %q", path, line)
			}
			out[section][k] = append(out[section][k], v)
		}
	}
	return out
}

// The unit's confinement, setting by setting, and systemd's own verdict on it where
// systemd-analyze is installed (CI installs it).
func TestSystemdUnit(t *testing.T) {
	const path = "keyhold.service"
	u := unitSettings(t, path)
	svc := u["Service"]
	for k, want := range map[string]string{
		"ExecStart": "/usr/local/bin/keyhold serve", "DynamicUser": "yes", "StateDirectory": "keyhold",
		"ReadWritePaths": "/var/lib/keyhold", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "MemoryDenyWriteExecute": "yes",
		"LockPersonality": "yes", "RestrictNamespaces": "yes", "RestrictSUIDSGID": "yes",
		"SystemCallArchitectures": "native", "KillSignal": "SIGTERM", "UMask": "0077",
	} {
		if got := svc[k]; len(got) != 1 || got[0] != want {
			t.Errorf("[Service] %s = %q, want %q", k, got, want)
		}
	}
	if !slices.Contains(svc["SystemCallFilter"], "@system-service") {
		t.Errorf("SystemCallFilter %q lacks @system-service", svc["SystemCallFilter"])
	}
	if !slices.Contains(svc["Environment"], "KEYHOLD_DATA_DIR=/var/lib/keyhold") {
		t.Errorf("the data directory is not the state directory: %q", svc["Environment"])
	}
	if n := svc["LimitNOFILE"]; len(n) != 1 || n[0] == "" {
		t.Errorf("LimitNOFILE %q", n)
	}
	// TimeoutStopSec must leave the drain (--shutdown-timeout, 20 s by default) time to finish.
	if ts := svc["TimeoutStopSec"]; len(ts) != 1 || ts[0] != "30s" {
		t.Errorf("TimeoutStopSec %q, want 30s (above the 20 s drain)", ts)
	}
	if got := u["Install"]["WantedBy"]; len(got) != 1 || got[0] != "multi-user.target" {
		t.Errorf("[Install] WantedBy %q", got)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must verify the unit, but systemd-analyze is missing (apt-get install systemd)")
		}
		t.Skip("systemd-analyze is not installed: the unit was checked setting by setting only")
	}
	// verify insists that ExecStart's program exists: point it at an executable that does.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	unit := filepath.Join(t.TempDir(), "keyhold.service")
	if err := os.WriteFile(unit, []byte(strings.Replace(string(b), "ExecStart=/usr/local/bin/keyhold", "ExecStart="+self, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// systemd's exposure score, 0 (confined) to 10 (unprotected), in tenths: at most 2.0.
	out, err = exec.Command(analyze, "security", "--offline=yes", "--threshold=20", unit).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: exposure above 2.0 (%v)\n%s", err, out)
	}
	if m := regexp.MustCompile(`Overall exposure level for keyhold.service: ([\d.]+)`).FindSubmatch(out); m != nil {
		t.Logf("systemd-analyze security: exposure %s", m[1])
	}
}
