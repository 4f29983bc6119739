import subprocess, sys, json
from pathlib import Path
BIN = Path(sys.executable).parent

def run(proj, name, *args):
    r = subprocess.run([str(BIN / f"seamless-service-{name}"), *args], cwd=proj.project_dir, env=proj.env,
                       capture_output=True, text=True, timeout=120)
    print(f"--- {name} {args} rc={r.returncode}\n{r.stdout}\n{r.stderr}")
    return r

def test_smoke(project):
    r = project.init()
    print(r.describe() if hasattr(r, "describe") else r)
    for args in [("resolve", "--service", "hashserver"), ("ps",), ("ps", "--json"), ("ps", "--cluster", project.cluster),
                 ("ps", "--all-clusters", "--persistent", "--json"),
                 ("inspect", "--service", "database"), ("logs", "--service", "hashserver", "--tail", "3"),
                 ("rm", "--service", "hashserver"),
                 ("stop", "--cluster", project.cluster), ("ps", "--cluster", project.cluster),
                 ("rm", "--cluster", project.cluster), ("ps", "--cluster", project.cluster, "--json")]:
        run(project, *args)
    assert 0
