# Sourced by check-deploy and tests/ops/check-ops: apt installs, and Go
# commands built from their modules once and cached as binaries.
# The caller defines die MESSAGE and step MESSAGE, and sets cache (where
# binaries are kept, $cache/bin) and work (a temporary directory).

GO_FALLBACK=go1.26.8   # the Go that builds the tools where the machine's go is older than 1.21 (>= every tool's go.mod)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }
apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 || {
    as_root apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
  }
}

# Prints the go command that builds the tools; MISSING is the line to stop
# with when there is none. A Go >= 1.21 fetches the toolchain a tool's go.mod
# asks for by itself (GOTOOLCHAIN=auto, from the Go module proxy). An older one
# (Debian 12's is 1.19, installed here when there is no go at all) knows no
# GOTOOLCHAIN, but can download that same toolchain as the module
# golang.org/toolchain, whose files come without their executable bits.
go_command() {
  local missing=$1 version=0 toolchain json dir
  if command -v go >/dev/null; then
    version=$(go env GOVERSION); version=${version#go1.}; version=${version%%[!0-9]*}
  else
    step "installing Debian's go (apt), to download Go ${GO_FALLBACK#go}" >&2
    apt_install golang-go || die "$missing"
  fi
  if [ "${version:-0}" -ge 21 ]; then echo go; return; fi
  toolchain=golang.org/toolchain@v0.0.1-$GO_FALLBACK.$(go env GOOS)-$(go env GOARCH)
  step "downloading Go ${GO_FALLBACK#go} with $(go version | cut -d' ' -f3) (go mod download $toolchain)" >&2
  json=$(GOFLAGS=-modcacherw GOMODCACHE=$work/gomod go mod download -json "$toolchain" 2>&1) || true
  dir=$(printf '%s\n' "$json" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { printf '%s\n' "$json" | grep '"Error"' >&2; die "$missing"; }
  chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/*
  echo "$dir/bin/go"
}

# go_tool NAME VERSION PACKAGE [go install flags...]: prints the path of
# $cache/bin/NAME-VERSION, building it first when it is not there
# (`go install PACKAGE@VERSION`, static, -trimpath; NAME is PACKAGE's last
# element). One build at a time per binary: parallel checks wait for it.
go_tool() {
  local name=$1 version=$2 package=$3; shift 3
  local binary=$cache/bin/$name-$version start go
  mkdir -p "$cache/bin"
  if [ ! -x "$binary" ]; then
    exec {lock}>"$binary.lock"
    flock "$lock"
    if [ ! -x "$binary" ]; then
      go=$(go_command "$name $version is built from source and needs Go >= 1.21 (or Debian's golang-go, which downloads Go ${GO_FALLBACK#go} from the Go module proxy): install one, or put a $name $version binary at $binary")
      step "building $name $version with $("$go" version | cut -d' ' -f3) (once; cached in $cache/bin)" >&2
      start=$SECONDS
      GOBIN=$work/gobin GOFLAGS='' GOTOOLCHAIN=auto CGO_ENABLED=0 "$go" install -trimpath "$@" "$package@$version" >&2 \
        || die "building $name $version failed"
      mv "$work/gobin/$name" "$binary.tmp" && mv "$binary.tmp" "$binary"
      echo "   built in $((SECONDS - start)) s" >&2
    fi
    exec {lock}>&-
  fi
  echo "$binary"
}
