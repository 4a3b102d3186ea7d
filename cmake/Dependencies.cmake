# Every dependency comes from a Debian 12 package; fail early and name the package to install.
# scripts/setup.sh installs all of them.
macro(clustersim_require found package)
  if(NOT ${found})
    message(FATAL_ERROR "clustersim: missing dependency. Install the Debian package '${package}' "
                        "(or run: sudo bash scripts/setup.sh)")
  endif()
endmacro()

find_package(Boost 1.74 QUIET CONFIG COMPONENTS graph)
if(NOT Boost_FOUND)
  find_package(Boost 1.74 QUIET COMPONENTS graph)
endif()
clustersim_require(Boost_FOUND libboost-graph-dev)

find_package(nlohmann_json 3.10 QUIET CONFIG)
clustersim_require(nlohmann_json_FOUND nlohmann-json3-dev)

find_package(TBB QUIET CONFIG)
clustersim_require(TBB_FOUND libtbb-dev)

find_package(fmt QUIET CONFIG)
clustersim_require(fmt_FOUND libfmt-dev)

find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp)
if(CLI11_INCLUDE_DIR)
  set(CLI11_FOUND TRUE)
endif()
clustersim_require(CLI11_FOUND libcli11-dev)

if(CLUSTERSIM_BUILD_TESTS)
  find_package(Catch2 2 QUIET CONFIG)
  clustersim_require(Catch2_FOUND catch2)
endif()
