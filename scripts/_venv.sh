# Shared by serve.sh and test.sh: make .venv with Python 3.11+ and install a requirements file.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=".venv/.installed-$(basename "$1")"
if [ ! -f "$stamp" ] || [ "$1" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$1"
  touch "$stamp"
fi
# The project itself on the venv's path (what an editable install does): with the venv's
# python, `python -m searchapp` works from any folder.
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
[ -f "$site/searchapp-project.pth" ] || pwd > "$site/searchapp-project.pth"
