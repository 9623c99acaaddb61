# SPDX-License-Identifier: Apache-2.0
# The Windows build's header-only libraries: nlohmann-json, p11-kit's pkcs11.h and CLI11 from the
# dependency prefix's header folder (cmake/mingw-w64-x86_64.cmake), as the targets the Linux
# build gets from find_package and pkg-config. Debian's CMake packages would add /usr/include,
# whose glibc headers must never mix with mingw's.
if(NOT KUNCI_WINDOWS_HEADERS)
    message(FATAL_ERROR "kunci for Windows: configure with the toolchain file "
                        "cmake/mingw-w64-x86_64.cmake and KUNCI_WINDOWS_DEPS set")
endif()

add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
set_target_properties(nlohmann_json::nlohmann_json PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${KUNCI_WINDOWS_HEADERS})

# The name pkg-config gives the Linux build, so that the CMake files below read the same.
add_library(PkgConfig::P11KIT INTERFACE IMPORTED)
set_target_properties(PkgConfig::P11KIT PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${KUNCI_WINDOWS_HEADERS}/p11-kit-1)

# CLI11 is header-only too: the prefix's copy, else a folder of the build holding only a link
# to the host's CLI/ headers (never all of /usr/include).
if(EXISTS ${KUNCI_WINDOWS_HEADERS}/CLI/CLI.hpp)
    set(kunci_cli11_include ${KUNCI_WINDOWS_HEADERS})
else()
    find_path(kunci_host_cli11 CLI/CLI.hpp PATHS /usr/include NO_DEFAULT_PATH
        NO_CMAKE_FIND_ROOT_PATH)
    if(NOT kunci_host_cli11)
        message(FATAL_ERROR "kunci for Windows: CLI11's headers not found (apt-get install "
                            "libcli11-dev)")
    endif()
    set(kunci_cli11_include ${CMAKE_BINARY_DIR}/cli11-headers)
    file(MAKE_DIRECTORY ${kunci_cli11_include})
    file(CREATE_LINK ${kunci_host_cli11}/CLI ${kunci_cli11_include}/CLI SYMBOLIC)
endif()
add_library(CLI11::CLI11 INTERFACE IMPORTED)
set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${kunci_cli11_include})

