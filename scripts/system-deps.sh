#!/usr/bin/env bash
# Optional system tools some tests compare against or drive:
#   gdal_viewshed (Debian gdal-bin)        - coverage agreement tests and benchmark
#   chromium + chromium-driver (Debian)    - the report and CZML viewer tested in a real browser
# Installed with apt when running as root on Debian/Ubuntu; otherwise the tests that need them
# are skipped and say which package to install. Never fails the build.
set -u
need=()
command -v gdal_viewshed >/dev/null 2>&1 || need+=(gdal-bin)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} (apt) for the comparison and browser tests"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/tmp/iadsim-apt.log 2>&1 \
    || echo "could not install ${need[*]} (see /tmp/iadsim-apt.log); the tests that need them will be skipped"
else
  echo "optional: sudo apt-get install ${need[*]}  (the tests that need them are skipped without)"
fi
exit 0
