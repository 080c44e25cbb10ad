# Run at every build (cmake -P, from the ablate_version_header target): writes
# generated/ablate/version.hpp with the current git commit. configure_file only
# touches the file when its text changes, so a build without a new commit
# recompiles nothing; a commit since the last configure no longer goes stale.
# Inputs: SOURCE_DIR, OUTPUT, VERSION.
execute_process(
  COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE ABLATE_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT ABLATE_GIT_COMMIT)
  set(ABLATE_GIT_COMMIT "unknown")
endif()
set(PROJECT_VERSION ${VERSION})
configure_file(${SOURCE_DIR}/cmake/version.hpp.in ${OUTPUT} @ONLY)
