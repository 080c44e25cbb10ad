# Version and git commit, baked into a generated header for `ablate --version`
# and the results file's attributes.
execute_process(
  COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  OUTPUT_VARIABLE ABLATE_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT ABLATE_GIT_COMMIT)
  set(ABLATE_GIT_COMMIT "unknown")
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/version.hpp.in ${CMAKE_BINARY_DIR}/generated/ablate/version.hpp @ONLY)
add_library(ablate_version INTERFACE)
target_include_directories(ablate_version INTERFACE ${CMAKE_BINARY_DIR}/generated)
