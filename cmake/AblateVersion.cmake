# Version and git commit, baked into a generated header for `ablate --version`
# and the results file's attributes. The header is rewritten at configure time
# and checked at every build (cmake/write_version.cmake), so the commit it names
# is the one the binary was built from.
set(ABLATE_VERSION_HEADER ${CMAKE_BINARY_DIR}/generated/ablate/version.hpp)
set(ABLATE_WRITE_VERSION
  ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUTPUT=${ABLATE_VERSION_HEADER}
  -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/write_version.cmake)
execute_process(COMMAND ${ABLATE_WRITE_VERSION})
add_custom_target(ablate_version_header
  COMMAND ${ABLATE_WRITE_VERSION}
  BYPRODUCTS ${ABLATE_VERSION_HEADER}
  COMMENT "Checking the git commit in ablate/version.hpp")
add_library(ablate_version INTERFACE)
target_include_directories(ablate_version INTERFACE ${CMAKE_BINARY_DIR}/generated)
add_dependencies(ablate_version ablate_version_header)
