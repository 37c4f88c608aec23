#!/usr/bin/env bash
# Deploys the example app to moto_server on this machine, with the real CDK CLI:
# the "try it without an account" path. It starts moto_server on 127.0.0.1 on a
# free port, runs `cdk bootstrap` and `cdk deploy --method=direct`, prints the
# stack outputs and stops the server. The emulator supports a first create
# only: stack updates and `cdk destroy` fail there.
#
# It deploys role mode: the emulator's CloudFormation skips AWS::IAM::Group and
# AWS::SecretsManager::Secret, which user mode needs (tests/test_moto.py covers
# user mode by creating those through the API). Extra arguments go to cdk deploy,
# context options (-c) to the synth before it.
# Everything it writes goes to cdk.out.local, or to DEPLOY_LOCAL_OUT when set
# (the test gives each run its own directory, so that runs cannot collide).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="$PWD/.venv/bin"
CDK="$PWD/node_modules/.bin/cdk"
OUT="${DEPLOY_LOCAL_OUT:-$PWD/cdk.out.local}"
OUTPUTS="$OUT/outputs.json"
BUCKET="${BUCKET:-local-backups}"
rm -rf "$OUT"
mkdir -p "$OUT"

PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN/moto_server" -H 127.0.0.1 -p "$PORT" >"$OUT/moto_server.log" 2>&1 &
SERVER=$!
echo "$SERVER" >"$OUT/moto_server.pid"  # tests check that this process is gone afterwards
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
"$BIN/python" - "$PORT" "$OUT" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 30
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(f"moto_server did not start; see {sys.argv[2]}/moto_server.log")
        time.sleep(0.2)
PY
echo "moto_server listening on 127.0.0.1:$PORT"

# Only this emulator is reached: dummy credentials, a local endpoint (named
# localhost, which the CDK CLI accepts), no telemetry.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://localhost:$PORT"
export CDK_DISABLE_CLI_TELEMETRY=true
export PATH="$BIN:$PATH"
ACCOUNT=123456789012  # moto's account

# The app is synthesized while the CLI bootstraps (which mostly waits on
# CloudFormation), then deployed from that cloud assembly: context options
# (-c/--context) go to the synth, every other extra argument to the deploy.
CONTEXT=() DEPLOY=()
while (($#)); do
    case "$1" in
        -c | --context) CONTEXT+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
        -c=* | --context=*) CONTEXT+=("$1"); shift ;;
        *) DEPLOY+=("$1"); shift ;;
    esac
done
"$CDK" synth --quiet --output "$OUT/assembly" -c "bucket_name=$BUCKET" -c principal_type=role \
    -c external_id=local-restore "${CONTEXT[@]}" >"$OUT/synth.log" 2>&1 &
SYNTH=$!
"$CDK" bootstrap "aws://$ACCOUNT/us-east-1" --output "$OUT/bootstrap" >"$OUT/bootstrap.log" 2>&1 \
    || { cat "$OUT/bootstrap.log"; wait "$SYNTH" || true; exit 1; }
wait "$SYNTH" || { cat "$OUT/synth.log"; exit 1; }
"$CDK" deploy --app "$OUT/assembly" --method=direct --require-approval never \
    --outputs-file "$OUTPUTS" "${DEPLOY[@]}" >"$OUT/deploy.log" 2>&1 \
    || { cat "$OUT/deploy.log"; exit 1; }

echo "Deployed to the emulator. Stack outputs ($OUTPUTS):"
cat "$OUTPUTS"
