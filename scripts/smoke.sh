#!/usr/bin/env bash
# Starts dist/main.js as a user would, chats once with the offline model, and checks that
# bad configuration stops the process with a message naming the variable.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(node -e 'const s=require("net").createServer().listen(0,()=>{console.log(s.address().port);s.close()})')

env -u OPENAI_API_KEY -u OPENAI_BASE_URL PORT="$port" DATABASE_URL="$work/chat.sqlite" node dist/main.js >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  grep -q "ready on" "$work/log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log"; echo "smoke: the app exited during start-up"; exit 1; }
  sleep 0.1
done
grep -q "OFFLINE model" "$work/log" || { cat "$work/log"; echo "smoke: the log does not say the offline model is in use"; exit 1; }

answer=$(curl -sf -X POST -F 'prompt=smoke test' "http://127.0.0.1:$port/chat/")
echo "$answer" | head -n 1 | grep -q '"role":"user"' || { echo "smoke: no user line: $answer"; exit 1; }
echo "$answer" | tail -n 1 | grep -q 'Offline model' || { echo "smoke: no offline answer: $answer"; exit 1; }
curl -sf "http://127.0.0.1:$port/chat/" | grep -q 'smoke test' || { echo "smoke: history lacks the prompt"; exit 1; }
curl -sf "http://127.0.0.1:$port/" | grep -q '<title>' || { echo "smoke: the page is not served"; exit 1; }
kill "$pid"; wait "$pid" 2>/dev/null || true

if PORT=abc DATABASE_URL="$work/x.sqlite" node dist/main.js >"$work/bad" 2>&1; then
  echo "smoke: the app started with PORT=abc"; exit 1
fi
grep -q "PORT must be" "$work/bad" || { cat "$work/bad"; echo "smoke: the config error does not name PORT"; exit 1; }
grep -q "    at " "$work/bad" && { cat "$work/bad"; echo "smoke: a config error printed a stack trace"; exit 1; }
echo "smoke: ok (start, chat, history, page, config error)"
