# The README's Docker commands, in a fresh copy of the repository, with an assertion for each promise and for
# each defect of issue 17 (sourced by run.sh after the engine and the base images are up).
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/lib/readme.sh"

# deploy/demo.env selects the demo profile (COMPOSE_PROFILES) and its own project and image tag.
DEMO='docker compose --env-file deploy/demo.env'

run_scenario() {
  CLONE=$1
  cd "$CLONE"
  for port in 80 443 8001 8011 8099; do
    [ -z "$(ss -Hltn "sport = :$port")" ] || fail "host port $port is in use; the README's commands need it"
  done
  real_install_first_start
  real_install_scale
  real_install_restart_on_kept_volumes
  real_install_https
  demo_beside_the_stopped_real_install
  real_install_after_the_demo
}

real_install_first_start() {
  step "real install: cp .env.example .env; docker compose up -d --build"
  run_readme 'cp .env.example .env'
  run_readme 'docker compose up -d --build'
  assert_one_app_image tradehook tradehook:local

  step "real install: docker compose logs init"
  local log
  log=$(run_readme 'docker compose logs init')
  echo "$log" | tail -3
  grep -q 'tradehook init: generated POSTGRES_PASSWORD.*WEBHOOK_SECRET, ADMIN_TOKEN' <<<"$log" ||
    fail "init did not report the generated secrets"

  step "real install: healthy, and the generated secrets are readable as the README says"
  wait_workers 1 1
  local secrets
  secrets=$(run_readme 'docker compose exec ingress cat /secrets/ingress/ingress.env' </dev/null)
  grep -Eq '^WEBHOOK_SECRET=.{20,}$' <<<"$secrets" || fail "no WEBHOOK_SECRET in the ingress's secrets file"
  REAL_WEBHOOK_SECRET=$(sed -n 's/^WEBHOOK_SECRET=//p' <<<"$secrets")

  step "real install: a second docker compose up -d recreates nothing (issue 17, defect 1)"
  local before after
  before=$(project_ids tradehook)
  docker compose up -d
  after=$(project_ids tradehook)
  assert_unchanged "a second up" "$before" "$after"
}

real_install_scale() {
  step "real install: docker compose up -d --scale worker-binance=2 recreates nothing else"
  local before after
  before=$(project_ids tradehook)
  run_readme 'docker compose up -d --scale worker-binance=2'
  after=$(project_ids tradehook)
  assert_unchanged "--scale worker-binance=2" "$before" "$after" worker-binance
  assert_eq "worker-binance replicas" 2 "$(grep -c '^worker-binance=' <<<"$after")"
  grep -q "^$(grep '^worker-binance=' <<<"$before")\$" <<<"$after" || fail "the first worker-binance was recreated"
  wait_workers 2 1
}

real_install_restart_on_kept_volumes() {
  step "real install: docker compose down; docker compose up -d (kept volumes: init and migrate do nothing)"
  run_readme 'docker compose down'
  [ -n "$(docker volume ls -q --filter label=com.docker.compose.project=tradehook)" ] || fail "down removed the volumes"
  run_readme 'docker compose up -d'
  # Logs are read whole before grep: grep -q would close the pipe early and fail the pipeline.
  local log
  log=$(docker compose logs --no-color init)
  grep -q 'all secrets already exist; nothing generated' <<<"$log" || fail "init generated secrets again: $log"
  log=$(docker compose logs --no-color migrate)
  grep -q 'migrations: 0 applied' <<<"$log" || fail "migrate applied migrations again: $log"
  log=$(docker compose logs --no-color postgres)
  grep -q 'Skipping initialization' <<<"$log" || fail "postgres initialised its volume again"
  wait_workers 1 1
  local secret
  secret=$(docker compose exec -T ingress cat /secrets/ingress/ingress.env | sed -n 's/^WEBHOOK_SECRET=//p')
  assert_eq "WEBHOOK_SECRET after the restart" "$REAL_WEBHOOK_SECRET" "$secret"
}

# webhook_status <base url> <secret> [curl options]: HTTP status of an alert for an account that does not exist.
webhook_status() {
  local url=$1 secret=$2
  shift 2
  curl -s -o /dev/null -w '%{http_code}' "$@" -X POST "$url/api/v1/webhook/tradingview" \
    -H 'Content-Type: application/json' \
    -d "{\"account_id\":\"nobody\",\"exchange\":\"binance\",\"action\":\"long\",\"symbol\":\"BTCUSDT\",\"secret\":\"$secret\"}"
}

real_install_https() {
  step "real install: the https profile on loopback (Caddy's local CA for DOMAIN=localhost)"
  local before after
  before=$(project_ids tradehook)
  run_readme 'DOMAIN=localhost WEBHOOK_SOURCE_IPS="0.0.0.0/0 ::/0" docker compose --profile https up -d'
  after=$(project_ids tradehook)
  assert_unchanged "adding the https profile" "$before" "$after" caddy
  retry 60 curl -skf https://localhost/api/v1/webhook/health || fail "no healthy answer through Caddy on 443"
  assert_eq "health through Caddy" healthy "$(curl -sk https://localhost/api/v1/webhook/health | json_field j.status)"
  assert_eq "a wrong secret through Caddy" 401 "$(webhook_status https://localhost wrong-secret -k)"
  assert_eq "the admin API through Caddy (never published)" 404 \
    "$(curl -sk -o /dev/null -w '%{http_code}' https://localhost/api/v1/accounts)"
  assert_eq "http:// redirects to https://" 308 "$(curl -s -o /dev/null -w '%{http_code}' http://localhost/)"
  echo "https://localhost answers: health 200, wrong secret 401, admin 404, http→https 308"

  step "real install: stopped (docker compose --profile https stop) while the demo runs on the same ports"
  docker compose --profile https stop
  REAL_IDS=$(project_ids tradehook)
  REAL_IMAGE_ID=$(docker image inspect -f '{{.Id}}' tradehook:local)
}

demo_beside_the_stopped_real_install() {
  step "demo: $DEMO up -d --build; logs -f demo"
  run_readme "$DEMO up -d --build"
  assert_eq "tradehook:local after the demo's build (issue 17, defect 2)" "$REAL_IMAGE_ID" \
    "$(docker image inspect -f '{{.Id}}' tradehook:local)"
  assert_one_app_image tradehook-demo tradehook:demo
  local log
  log=$(run_readme "$DEMO logs -f demo")
  grep -q 'Demo ready' <<<"$log" || fail "the demo step did not finish: $(tail -5 <<<"$log")"
  # What the demo tells the reader to type is the README's command.
  local eval_line
  eval_line=$(readme_cmd "eval \"\$($DEMO exec*")
  grep -qF "$eval_line" <<<"$log" || fail "the demo prints another secrets command than the README"

  step "demo: the guide's webhook and account status"
  run_readme "eval \"\$($DEMO exec*"
  [ -n "${WEBHOOK_SECRET:-}" ] && [ -n "${ADMIN_TOKEN:-}" ] || fail "the README's eval set no secrets"
  [ -z "$(env | grep -E '^(WEBHOOK_SECRET|ADMIN_TOKEN)=')" ] || fail "the README's eval exported the secrets"
  local long status
  long=$(run_readme 'curl -s -X POST "http://localhost:8011/api/v1/webhook/tradingview?wait"*')
  echo "$long" | cut -c1-160
  assert_eq "the guide's long" "true LONG order executed on binance" "$(json_field '`${j.success} ${j.message}`' <<<"$long")"
  status=$(run_readme 'curl -s "http://localhost:8011/api/v1/accounts/status/my_binance_account?exchange=binance"*')
  echo "$status" | cut -c1-160
  grep -q '"side":"long"' <<<"$status" || fail "the account status shows no long position"

  step "demo: a secret left exported in the shell overrides nothing (issue 17, defect 3)"
  local before after close
  before=$(project_ids tradehook-demo)
  export WEBHOOK_SECRET=exported-by-an-earlier-shell-0000 ADMIN_TOKEN=exported-by-an-earlier-shell-0000
  run_readme "$DEMO up -d --build"
  after=$(project_ids tradehook-demo)
  assert_unchanged "an up with exported secrets" "$before" "$after"
  run_readme "eval \"\$($DEMO exec*" # the README again: back to the generated values (still exported from above)
  close=$(eval "$(readme_cmd 'curl -s -X POST "http://localhost:8011/api/v1/webhook/tradingview?wait"*' |
    sed 's/\\"action\\":\\"long\\"/\\"action\\":\\"close_long\\"/')")
  echo "$close" | cut -c1-160
  assert_eq "close_long (the simulator kept the position)" "true" "$(json_field j.success <<<"$close")"
  DEMO_WEBHOOK_SECRET=$WEBHOOK_SECRET

  step "demo: $DEMO down -v"
  run_readme "$DEMO down -v"
  assert_eq "demo containers and volumes left" "" \
    "$(project_ids tradehook-demo; docker volume ls -q --filter label=com.docker.compose.project=tradehook-demo)"
}

real_install_after_the_demo() {
  step "real install: docker compose up -d from the demo's shell (its secrets exported) recreates nothing"
  run_readme 'docker compose up -d'
  assert_unchanged "the real install's up after the demo" "$REAL_IDS" "$(project_ids tradehook)"
  wait_workers 1 1
  assert_eq "the demo's secret at the real install" 401 "$(webhook_status http://localhost:8001 "$DEMO_WEBHOOK_SECRET")"
  local own
  own=$(webhook_status http://localhost:8001 "$REAL_WEBHOOK_SECRET")
  [ "$own" != 401 ] || fail "the real install refuses its own generated secret"
  echo "real install: its own secret accepted ($own for an unknown account), the demo's refused (401)"
  unset WEBHOOK_SECRET ADMIN_TOKEN

  step "real install: docker compose --profile https down -v"
  run_readme 'docker compose --profile https down -v'
  assert_eq "containers and volumes left" "" \
    "$(project_ids tradehook; docker volume ls -q --filter label=com.docker.compose.project=tradehook)"
}
