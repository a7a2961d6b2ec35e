# Shared by scripts/run and scripts/test: installing what is missing, a local Postgres owned by the
# `postgres` user, and building the site (server binary + browser bundle + styles).
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# Tools that `cargo install` puts here must be found even where the shell profile did not add it.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root to run: $*"
    fi
}

APT_UPDATED=
apt_install() {
    if [ -z "$APT_UPDATED" ]; then
        say "apt-get update"
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    say "installing $* from Debian's packages"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The wasm-bindgen version the lock file pins; the CLI must match it exactly.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_rust_tools() {
    command -v cargo >/dev/null || die "cargo is missing: install Rust (rustup) first"
    if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
        say "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
    local want have
    want=$(wasm_bindgen_version)
    have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
    if [ "$have" != "$want" ]; then
        say "installing wasm-bindgen-cli $want (matching Cargo.lock)"
        cargo install -q wasm-bindgen-cli --version "$want" --force
    fi
}

ensure_postgres() {
    [ -x "$PG_BIN/initdb" ] || apt_install postgresql
    [ -x "$PG_BIN/initdb" ] || die "Postgres server binaries not found in $PG_BIN"
    id postgres >/dev/null 2>&1 || die "the postgres user is missing (the postgresql package creates it)"
}

# True when the `postgres` user can reach and write inside folder $1 (which must exist).
postgres_can_use() {
    runuser -u postgres -- test -w "$1" -a -x "$1" 2>/dev/null
}

# Runs a Postgres command as the postgres user (Postgres refuses to run as root).
pg_as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A free TCP port on 127.0.0.1, starting the search at $1.
free_port() {
    local port=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    echo "$port"
}

# pg_start DATA_DIR PORT: starts the cluster, TCP on 127.0.0.1 only, no Unix socket; its log is
# DATA_DIR/server.log.
pg_start() {
    pg_as_postgres "$PG_BIN/pg_ctl" -D "$1" -l "$1/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $2 -c unix_socket_directories=''" start >/dev/null \
        || { tail -n 20 "$1/server.log" >&2; die "Postgres did not start (log: $1/server.log)"; }
}

# pg_start_free DATA_DIR FIRST_PORT: starts the cluster on the first port from FIRST_PORT that it
# can bind (a port that looked free can still be taken, e.g. by a cluster that is just stopping),
# and sets PG_PORT to it.
pg_start_free() {
    local port=$2 tries
    for tries in 1 2 3 4 5 6 7 8; do
        port=$(free_port "$port")
        if pg_as_postgres "$PG_BIN/pg_ctl" -D "$1" -l "$1/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=''" start >/dev/null; then
            PG_PORT=$port
            return 0
        fi
        grep -q "could not bind\|could not create any TCP/IP sockets" "$1/server.log" 2>/dev/null \
            || { tail -n 20 "$1/server.log" >&2; die "Postgres did not start (log: $1/server.log)"; }
        say "port $port was taken after all (try $tries); trying the next one"
        port=$((port + 1))
    done
    die "Postgres found no port to listen on from $2"
}

pg_stop() {
    pg_as_postgres "$PG_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1 || true
}

pg_running() {
    pg_as_postgres "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# build_site PROFILE: builds the server binary and the browser bundle, and lays out
# $TARGET_DIR/site/{pkg,...} the way the server serves it. PROFILE is `dev` or `release`.
build_site() {
    local profile=$1 out wasm_profile wasm_dir server_dir
    if [ "$profile" = release ]; then
        wasm_profile=wasm-release; wasm_dir=wasm-release; server_dir=release
    else
        wasm_profile=dev; wasm_dir=debug; server_dir=debug
    fi
    say "building the browser bundle ($wasm_profile)"
    cargo build --locked --lib --target wasm32-unknown-unknown --no-default-features --features hydrate \
        --profile "$wasm_profile"
    say "building the server ($profile)"
    # The committed .sqlx data, not whatever database DATABASE_URL names, checks the queries.
    SQLX_OFFLINE=true cargo build --locked --bin modelgov --features ssr --profile "$profile"
    out=$TARGET_DIR/site
    rm -rf "$out.new" && mkdir -p "$out.new/pkg"
    wasm-bindgen --target web --no-typescript --out-name modelgov --out-dir "$out.new/pkg" \
        "$TARGET_DIR/wasm32-unknown-unknown/$wasm_dir/modelgov.wasm"
    if [ "$profile" = release ]; then
        # Smaller for browsers: wasm-opt (about 5.6 to 2 MB), and brotli twins (below).
        ensure_wasm_opt
        ensure_brotli
        say "optimizing the browser bundle (wasm-opt -Oz)"
        node "$WASM_OPT" -Oz --converge --strip-debug --strip-producers \
            --enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int \
            --enable-sign-ext --enable-reference-types --enable-multivalue \
            -o "$out.new/pkg/modelgov_bg.wasm" "$out.new/pkg/modelgov_bg.wasm"
    fi
    cp "$ROOT/style/main.css" "$out.new/pkg/modelgov.css"
    # The bundle under pkg/<hash of its files>/, with a gzip twin of each file: its addresses
    # change with its content, so the server lets browsers keep it for good (pkg-version).
    local version
    version=$(cat "$out.new/pkg/"* | sha256sum | cut -c1-16)
    mkdir "$out.new/pkg/$version"
    mv "$out.new/pkg/"modelgov* "$out.new/pkg/$version/"
    gzip -k -9 "$out.new/pkg/$version/"modelgov*
    if [ "$profile" = release ]; then
        brotli -q 11 -k "$out.new/pkg/$version/"modelgov.{js,css} "$out.new/pkg/$version/"modelgov_bg.wasm
    fi
    echo "$version" >"$out.new/pkg-version"
    cp -r "$ROOT/public/." "$out.new/"
    rm -rf "$out" && mv "$out.new" "$out"
    SERVER_BIN=$TARGET_DIR/$server_dir/modelgov
    export SERVER_BIN
}

# npm_tool PACKAGE VERSION BIN: a command-line tool from npm, pinned, kept under target/tools and
# installed when missing. Sets NPM_TOOL to the path of its BIN.
npm_tool() {
    local dir=$TARGET_DIR/tools/$1-$2
    if [ ! -f "$dir/node_modules/$3" ]; then
        command -v npm >/dev/null || apt_install nodejs npm
        say "installing $1 $2 from npm"
        mkdir -p "$dir"
        npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$1@$2"
    fi
    NPM_TOOL=$dir/node_modules/$3
}

# wasm-opt, from the npm package binaryen (Debian's is too old for what rustc emits). Sets
# WASM_OPT (a node script).
ensure_wasm_opt() {
    npm_tool binaryen 132.0.0 binaryen/bin/wasm-opt
    WASM_OPT=$NPM_TOOL
}

# Lighthouse (scripts/bench, section 10); 12.x runs on Debian's Node 20. Sets LIGHTHOUSE.
ensure_lighthouse() {
    npm_tool lighthouse 12.8.2 .bin/lighthouse
    LIGHTHOUSE=$NPM_TOOL
}

ensure_brotli() {
    command -v brotli >/dev/null || apt_install brotli
}

# The sqlx version the lock file pins; sqlx-cli is installed at the same version.
sqlx_version() {
    awk '/^name = "sqlx"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_sqlx_cli() {
    local want have
    want=$(sqlx_version)
    have=$(cargo sqlx --version 2>/dev/null | awk '{print $2}' || true)
    if [ "$have" != "$want" ]; then
        say "installing sqlx-cli $want (matching Cargo.lock)"
        cargo install -q sqlx-cli --version "$want" --locked --force \
            --no-default-features --features postgres,rustls
    fi
}

ensure_chromium() {
    [ -x /usr/bin/chromium ] || apt_install chromium
}

# A Python virtual environment with the real interop clients (tests/interop/requirements.txt),
# made again when the requirements change. Sets INTEROP_PYTHON.
# ensure_venv DIR REQUIREMENTS WHAT: a venv in DIR with the packages REQUIREMENTS pins, made again
# when that file changes.
ensure_venv() {
    local venv=$1 requirements=$2 want
    python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
    want=$(sha256sum "$requirements" | cut -d' ' -f1)
    if [ "$(cat "$venv/.modelgov-requirements-hash" 2>/dev/null)" != "$want" ]; then
        say "installing $3 from PyPI"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        echo "$want" >"$venv/.modelgov-requirements-hash"
    fi
}

ensure_interop_venv() {
    ensure_venv "$TARGET_DIR/interop-venv" "$ROOT/tests/interop/requirements.txt" "the interop clients"
    INTEROP_PYTHON=$TARGET_DIR/interop-venv/bin/python
    export INTEROP_PYTHON
}

# The real MLflow server, for the differential test, in a venv of its own (it is large).
ensure_mlflow_server_venv() {
    ensure_venv "$TARGET_DIR/mlflow-server-venv" "$ROOT/tests/interop/mlflow-server-requirements.txt" "the MLflow server"
    MLFLOW_SERVER=$TARGET_DIR/mlflow-server-venv/bin/mlflow
    export MLFLOW_SERVER
}

# schemathesis has a venv of its own: its dependencies need not agree with the interop clients'.
ensure_schemathesis_venv() {
    ensure_venv "$TARGET_DIR/schemathesis-venv" "$ROOT/tests/api/requirements.txt" "schemathesis"
    SCHEMATHESIS=$TARGET_DIR/schemathesis-venv/bin/st
    export SCHEMATHESIS
}

# Installs end2end/'s npm packages when they are missing or the lock file changed.
ensure_npm_packages() {
    command -v npm >/dev/null || apt_install nodejs npm
    local stamp=$ROOT/end2end/node_modules/.modelgov-lock-hash want
    want=$(sha256sum "$ROOT/end2end/package-lock.json" | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing end2end's npm packages"
        (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
        echo "$want" >"$stamp"
    fi
}
