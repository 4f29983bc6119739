#!/usr/bin/env bash
# The main job: a real local cluster (hashserver, database, jobserver) brought up and
# checked by seamless-init, then a transformation run through it, twice (the second
# run is a cache hit served by seamless-database). Stops the services it started.
#
#   bash scripts/demo.sh            # set up .venv if needed, run, stop the services
#   KEEP=1 bash scripts/demo.sh     # leave the services running (seamless-init reuses them)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
repo=$PWD
demo=$repo/.demo
mkdir -p "$demo"
export HOME=$demo/home          # keep the launcher's state (~/.remote-http-launcher) in .demo/
mkdir -p "$HOME"
export PATH=$repo/.venv/bin:$PATH

project=$demo/project
mkdir -p "$project"
cp examples/local-cluster/seamless.yaml examples/local-cluster/add.py "$project/"
cat > "$project/seamless.profile.yaml" <<YAML
- clusters:
    local:
      type: local
      workers: 2
      frontends:
        - hashserver:
            bufferdir: $demo/buffers
            network_interface: 127.0.0.1
            port_start: 58100
            port_end: 58199
          database:
            database_dir: $demo/database
            network_interface: 127.0.0.1
            port_start: 58200
            port_end: 58299
          jobserver:
            network_interface: 127.0.0.1
            port_start: 58300
            port_end: 58399
    local_cluster: local
- cluster: local
- execution: remote
YAML

stop_services() {
    # Identity-checked SIGINT -> SIGTERM -> SIGKILL of this cluster's services (state kept, marked stale)
    (cd "$project" && seamless-service-stop --cluster local) && echo "demo: services stopped"
}
if [ -z "${KEEP:-}" ]; then trap stop_services EXIT; fi

cd "$project"
echo "== seamless-init (brings up hashserver, database and jobserver concurrently)"
seamless-init
echo "== first run: computed by the jobserver"
python add.py
echo "== second run (new process): served from seamless-database"
python add.py
