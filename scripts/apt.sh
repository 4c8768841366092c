# Sourced by the set-up scripts: `apt_ensure PKG...` installs the Debian packages that are missing
# (sudo only when not root) and does nothing when all are present.
apt_ensure() {
  local missing="" p sudo=""
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup: installing apt packages:$missing"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}
