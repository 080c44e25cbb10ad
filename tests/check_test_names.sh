#!/usr/bin/env bash
# Catch test names that ctest cannot run as written: catch_discover_tests makes
# a name with ';' into two tests (a CMake list) whose filters match nothing, so
# both "pass" without running anything; a name starting with '--' is read as
# a Catch option. Lists every such TEST_CASE and fails when there is one.
#   tests/check_test_names.sh [source dir]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
bad=$(grep -rnE 'TEST_CASE\("([^"]*;|--)' tests/ --include='*.cpp' || true)
if [[ -n $bad ]]; then
  echo "check_test_names: these test names cannot run under ctest (use ',' for ';', and no leading '--'):" >&2
  echo "$bad" >&2
  exit 1
fi
echo "check_test_names: every TEST_CASE name is runnable under ctest"
