# Helpers of the scenario (sourced): the README's own commands, container ids, JSON fields.
# shellcheck shell=bash

# readme_cmd <command>: that command from the README's fenced code blocks, exactly once (a trailing
# "  # comment" is ignored); "<start>*" takes the one command starting with <start>, continuation lines
# joined. The test runs exactly what a reader copies.
readme_cmd() {
  local found
  found=$(node -e '
    const [readme, start] = process.argv.slice(1);
    const text = require("fs").readFileSync(readme, "utf8");
    const lines = [...text.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)].flatMap((m) => m[1].split("\n"));
    const hits = [];
    for (let i = 0; i < lines.length; i++) {
      const bare = lines[i].replace(/\s+#.*$/, "");
      if (start.endsWith("*") ? !bare.startsWith(start.slice(0, -1)) : bare !== start) continue;
      let cmd = lines[i];
      while (cmd.endsWith("\\") && i + 1 < lines.length) cmd += "\n" + lines[++i];
      hits.push(cmd);
    }
    if (new Set(hits).size !== 1) { console.error(`${hits.length} distinct README commands match: ${start}`); process.exit(1); }
    process.stdout.write(hits[0]);
  ' "$CLONE/README.md" "$1") || fail "README: no single command starting with '$1'"
  printf '%s' "$found"
}

# run_readme <start>: prints and runs that README command in the repository copy.
run_readme() {
  local cmd
  cmd=$(readme_cmd "$1")
  printf '$ %s\n' "$cmd" >&2 # stdout is the command's own, for the assertions
  eval "$cmd"
}

# project_ids <project>: "service=container id" of every container of a compose project, sorted.
project_ids() {
  docker ps -a --filter "label=com.docker.compose.project=$1" \
    --format '{{.Label "com.docker.compose.service"}}={{.ID}}' | sort
}

# json_field <expression over j>: evaluates it on the JSON document on stdin.
json_field() {
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const j = JSON.parse(s); console.log(String(eval(process.argv[1])));
  })' "$1"
}

ingress_health() {
  curl -sf http://localhost:8001/api/v1/webhook/health
}

# wait_workers <binance> <okx>: until the ingress's health counts that many connected workers.
wait_workers() {
  local want="$1 $2" got=''
  for _ in $(seq 1 90); do
    got=$(ingress_health 2>/dev/null | json_field '`${j.status} ${j.workers.binance} ${j.workers.okx}`' || true)
    [ "$got" = "healthy $want" ] && { echo "health: $got"; return 0; }
    sleep 1
  done
  fail "health: expected 'healthy $want' (status, binance and okx workers), got '$got'"
}

# assert_unchanged <what> <ids before> <ids after> [service to ignore]
assert_unchanged() {
  local before=$2 after=$3
  if [ -n "${4:-}" ]; then
    before=$(grep -v "^$4=" <<<"$before")
    after=$(grep -v "^$4=" <<<"$after")
  fi
  [ "$before" = "$after" ] || fail "$1 recreated containers:
$(diff <(echo "$before") <(echo "$after") || true)"
  echo "$(wc -l <<<"$after") containers unchanged"
}

# The same app image id for every app container of a project (one build, not one per service).
assert_one_app_image() {
  local project=$1 image=$2 want got
  want=$(docker image inspect -f '{{.Id}}' "$image")
  got=$(docker ps -aq --filter "label=com.docker.compose.project=$project" |
    xargs docker inspect -f '{{.Config.Image}} {{.Image}}' | awk -v img="$image" '$1 == img {print $2}' | sort -u)
  assert_eq "$project: image id of every container created from $image" "$want" "$got"
  echo "every app container runs $image ($want)"
}
