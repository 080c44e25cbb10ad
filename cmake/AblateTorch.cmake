# Finds LibTorch. Order: Torch_DIR / CMAKE_PREFIX_PATH given by the user (a
# cluster module, the LibTorch zip), then the torch wheel of the project's
# .venv, then whatever `python3` imports. No flags needed after scripts/setup.sh.
if(NOT Torch_DIR)
  foreach(python IN ITEMS ${CMAKE_SOURCE_DIR}/.venv/bin/python3 python3)
    execute_process(
      COMMAND ${python} -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
      OUTPUT_VARIABLE _ablate_torch_prefix
      OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _ablate_rc)
    if(_ablate_rc EQUAL 0 AND _ablate_torch_prefix)
      list(APPEND CMAKE_PREFIX_PATH ${_ablate_torch_prefix})
      break()
    endif()
  endforeach()
endif()

# A CUDA build of Torch probes the installed GPUs unless told which to target;
# that probe fails without a GPU (and under C++20), so name the architectures
# (Ampere, Hopper) unless the user did. Every CUDA code path still compiles and links.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
endif()
find_package(Torch QUIET)
if(NOT Torch_FOUND)
  message(FATAL_ERROR
    "LibTorch not found. Run scripts/setup.sh (installs torch into .venv), or point "
    "CMake at an existing LibTorch: -DTorch_DIR=/path/to/libtorch/share/cmake/Torch, "
    "or configure with -DABLATE_WITH_TORCH=OFF to build everything but the trainer.")
endif()

# ABLATE_CUDA is on whenever Torch was built with CUDA, GPU or not.
set(ABLATE_TORCH_HAS_CUDA OFF)
if(TARGET torch_cuda)
  set(ABLATE_TORCH_HAS_CUDA ON)
endif()
message(STATUS "ablate: LibTorch ${Torch_VERSION} at ${Torch_DIR}; CUDA compiled in: ${ABLATE_TORCH_HAS_CUDA}")
