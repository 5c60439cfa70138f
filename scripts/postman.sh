#!/usr/bin/env bash
# `make postman`: run the Postman collection with newman against a throwaway server.
#
# A fresh SQLite database in a temporary directory is migrated and seeded, gunicorn serves it on a
# free port of 127.0.0.1, newman runs postman/bookstore.postman_collection.json with the environment
# file and baseUrl pointing at that server, and the server and the directory are always removed.
# Exit status: newman's (non-zero on any failed assertion), or non-zero if the server never came up.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
NEWMAN=node_modules/.bin/newman
COLLECTION=postman/bookstore.postman_collection.json
ENVIRONMENT=postman/bookstore.postman_environment.json

[[ -x $BIN/python ]] || { echo "postman: $BIN/python missing; run 'make install' first" >&2; exit 2; }
[[ -x $NEWMAN ]] || { echo "postman: $NEWMAN missing; run 'npm ci' first" >&2; exit 2; }

# The committed collection must be what the generator writes.
$BIN/python postman/build_collection.py --check

WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/bookstore-postman.XXXXXX")
SERVER_PID=""
cleanup() {
    local rc=$?
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -s $WORKDIR/server.log ]]; then
        echo "---- last lines of the server log ----" >&2
        tail -n 40 "$WORKDIR/server.log" >&2
    fi
    rm -rf "$WORKDIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A production-like server with its own secrets; nothing from .env may point it elsewhere
# (python-dotenv never overrides a variable that is already set, even to "").
export APP_ENV=production
export DATABASE_URL="sqlite:///$WORKDIR/bookstore.db"
SECRET_KEY=$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(48))')
JWT_SECRET_KEY=$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(48))')
export SECRET_KEY JWT_SECRET_KEY
export REDIS_URL="" CORS_ORIGINS="" TRUSTED_PROXIES=0 RATELIMIT_ENABLED=true
export LOGIN_RATE_LIMIT="10 per minute" LOGIN_ADDRESS_RATE_LIMIT="60 per minute" REGISTER_RATE_LIMIT="30 per hour"
export PROFILE_RATE_LIMIT="30 per hour"

echo "postman: database $DATABASE_URL"
$BIN/flask --app run db upgrade >"$WORKDIR/migrate.log" 2>&1 || { cat "$WORKDIR/migrate.log" >&2; exit 1; }
$BIN/flask --app run seed </dev/null

PORT=$($BIN/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE_URL="http://127.0.0.1:$PORT"
$BIN/gunicorn -c gunicorn.conf.py --workers 2 --bind "127.0.0.1:$PORT" --no-control-socket --graceful-timeout 5 \
    --access-logfile - run:app >"$WORKDIR/server.log" 2>&1 &
SERVER_PID=$!

echo "postman: waiting for $BASE_URL/health"
for i in $(seq 1 100); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "postman: the server exited before answering" >&2
        exit 1
    fi
    if $BIN/python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$BASE_URL/health" 2>/dev/null; then
        break
    fi
    if [[ $i -eq 100 ]]; then
        echo "postman: $BASE_URL/health did not answer 200 within 30 s" >&2
        exit 1
    fi
    sleep 0.3
done

NEWMAN_ARGS=(run "$COLLECTION" --environment "$ENVIRONMENT" --env-var "baseUrl=$BASE_URL"
             --timeout-request 30000 --reporters cli)
[[ -n ${CI:-} ]] && NEWMAN_ARGS+=(--color off --disable-unicode)
$NEWMAN "${NEWMAN_ARGS[@]}" "$@"
