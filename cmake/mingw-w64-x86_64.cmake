# SPDX-License-Identifier: Apache-2.0
# Cross-compiles for 64-bit Windows with Debian's mingw-w64 (posix threads) and runs the
# results (try_run, ctest) under wine. The prefix of the dependencies built by
# scripts/windows-deps comes from -DKUNCI_WINDOWS_DEPS=... or the environment variable of the
# same name, so that a preset can stay static:
#   $KUNCI_WINDOWS_DEPS/openssl     static libcrypto/libssl (lib64/), headers
#   $KUNCI_WINDOWS_DEPS/softhsm     bin/softhsm2.dll, bin/softhsm2-util.exe
#   $KUNCI_WINDOWS_DEPS/googletest  static gtest/gmock with their CMake package
#   $KUNCI_WINDOWS_DEPS/headers     boost, nlohmann, CLI, p11-kit-1: links to Debian's headers
#   $KUNCI_WINDOWS_DEPS/cmake       nlohmann_json and CLI11 packages on those headers
#   $KUNCI_WINDOWS_DEPS/pkgconfig   p11-kit-1.pc (headers only)
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(KUNCI_MINGW_TRIPLET x86_64-w64-mingw32)
# The -posix variants: std::thread and std::mutex need the winpthreads threading model.
set(CMAKE_C_COMPILER ${KUNCI_MINGW_TRIPLET}-gcc-posix)
set(CMAKE_CXX_COMPILER ${KUNCI_MINGW_TRIPLET}-g++-posix)
set(CMAKE_RC_COMPILER ${KUNCI_MINGW_TRIPLET}-windres)
# Named explicitly: CMake cannot derive the binutils prefix from a "-posix" compiler name and
# would otherwise fall back to the host's tools.
set(CMAKE_AR /usr/bin/${KUNCI_MINGW_TRIPLET}-gcc-ar-posix CACHE FILEPATH "")
set(CMAKE_RANLIB /usr/bin/${KUNCI_MINGW_TRIPLET}-gcc-ranlib-posix CACHE FILEPATH "")
set(CMAKE_NM /usr/bin/${KUNCI_MINGW_TRIPLET}-gcc-nm-posix CACHE FILEPATH "")
set(CMAKE_OBJCOPY /usr/bin/${KUNCI_MINGW_TRIPLET}-objcopy CACHE FILEPATH "")
set(CMAKE_OBJDUMP /usr/bin/${KUNCI_MINGW_TRIPLET}-objdump CACHE FILEPATH "")
set(CMAKE_STRIP /usr/bin/${KUNCI_MINGW_TRIPLET}-strip CACHE FILEPATH "")
set(CMAKE_LINKER /usr/bin/${KUNCI_MINGW_TRIPLET}-ld CACHE FILEPATH "")

# The environment wins over the cache: scripts/windows-deps names a new prefix when a recipe
# changes, and an existing build directory must follow it.
if(NOT "$ENV{KUNCI_WINDOWS_DEPS}" STREQUAL "")
    set(KUNCI_WINDOWS_DEPS "$ENV{KUNCI_WINDOWS_DEPS}"
        CACHE PATH "Prefix of the Windows dependencies built by scripts/windows-deps" FORCE)
endif()
set(KUNCI_WINDOWS_DEPS "${KUNCI_WINDOWS_DEPS}"
    CACHE PATH "Prefix of the Windows dependencies built by scripts/windows-deps")
# try_compile projects re-read this file without the cache: hand the prefix on to them.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KUNCI_WINDOWS_DEPS KUNCI_WINE)

set(CMAKE_FIND_ROOT_PATH /usr/${KUNCI_MINGW_TRIPLET})
if(KUNCI_WINDOWS_DEPS)
    list(APPEND CMAKE_FIND_ROOT_PATH
        "${KUNCI_WINDOWS_DEPS}/openssl" "${KUNCI_WINDOWS_DEPS}/googletest"
        "${KUNCI_WINDOWS_DEPS}/softhsm")
endif()
# Libraries, headers and packages only from the roots above (never the host's); programs
# (pkg-config, python, wine, wixl) only from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# /usr/bin/wine is Debian's launcher: it picks wine64 when wine32 is absent. WINEDEBUG=-all
# keeps wine's fixme lines (and the "wine32 is missing" hint) out of test output.
if(NOT KUNCI_WINE)
    if(EXISTS /usr/bin/wine)
        set(KUNCI_WINE /usr/bin/wine)
    else()
        set(KUNCI_WINE /usr/lib/wine/wine64)
    endif()
endif()
set(KUNCI_WINE "${KUNCI_WINE}" CACHE FILEPATH "wine executable that runs the built .exe files")
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/env WINEDEBUG=-all ${KUNCI_WINE})

if(KUNCI_WINDOWS_DEPS)
    # What an earlier configure found in another prefix is searched for again.
    foreach(found OPENSSL_INCLUDE_DIR LIB_EAY SSL_EAY)
        string(FIND "$CACHE{${found}}" "${KUNCI_WINDOWS_DEPS}/" at)
        if(DEFINED CACHE{${found}} AND NOT at EQUAL 0)
            unset(${found} CACHE)
        endif()
    endforeach()
    set(OPENSSL_ROOT_DIR "${KUNCI_WINDOWS_DEPS}/openssl")
    set(OPENSSL_USE_STATIC_LIBS TRUE)
    set(GTEST_ROOT "${KUNCI_WINDOWS_DEPS}/googletest")
    set(GTest_DIR "${KUNCI_WINDOWS_DEPS}/googletest/lib/cmake/GTest" CACHE PATH "" FORCE)
    # Header-only Boost: FindBoost reads the version from here and stops searching.
    set(Boost_INCLUDE_DIR "${KUNCI_WINDOWS_DEPS}/headers" CACHE PATH "" FORCE)
    set(Boost_NO_BOOST_CMAKE ON CACHE BOOL "")
    # Header-only packages whose Debian config files would add /usr/include: ours give the
    # same targets on the headers folder only.
    set(nlohmann_json_DIR "${KUNCI_WINDOWS_DEPS}/cmake/nlohmann_json" CACHE PATH "" FORCE)
    set(CLI11_DIR "${KUNCI_WINDOWS_DEPS}/cmake/CLI11" CACHE PATH "" FORCE)
    # pkg-config sees only the prefix's modules (p11-kit-1: headers, no library), never the
    # host's.
    set(ENV{PKG_CONFIG_LIBDIR} "${KUNCI_WINDOWS_DEPS}/pkgconfig")
    set(ENV{PKG_CONFIG_PATH} "")
    set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
    # The SoftHSM build for the Windows tests (test-only, not shipped).
    set(KUNCI_WINDOWS_SOFTHSM_MODULE "${KUNCI_WINDOWS_DEPS}/softhsm/bin/softhsm2.dll")
    set(KUNCI_WINDOWS_SOFTHSM2_UTIL "${KUNCI_WINDOWS_DEPS}/softhsm/bin/softhsm2-util.exe")
    # A system dir (-isystem) holding only the header-only libraries' folders, so that
    # Debian's glibc headers in /usr/include never mix with mingw's.
    set(KUNCI_WINDOWS_HEADERS "${KUNCI_WINDOWS_DEPS}/headers")
    set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES "${KUNCI_WINDOWS_HEADERS}")
    set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES "${KUNCI_WINDOWS_HEADERS}")
endif()
