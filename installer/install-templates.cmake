# SPDX-License-Identifier: Apache-2.0
# Run at install time (install(CODE) in CMakeLists.txt): fills a template that names installed
# paths with the prefix being installed to, which is only known then (/usr when CPack builds the
# package, whatever `cmake --install --prefix` names otherwise), and installs it.
# The filled file goes to a directory of its own per DESTDIR and prefix: installs run at once
# (cpack and the install tests in parallel) must not write the same file.
# In: KUNCI_TEMPLATE_DIR, KUNCI_OUTPUT_DIR, KUNCI_BINDIR, KUNCI_SBINDIR, KUNCI_TEMPLATE,
#     KUNCI_DESTINATION (relative to the prefix, or absolute), KUNCI_TYPE (FILE or PROGRAM).
foreach(dir BINDIR SBINDIR)
    if(IS_ABSOLUTE "${KUNCI_${dir}}")
        set(KUNCI_INSTALLED_${dir} "${KUNCI_${dir}}")
    else()
        set(KUNCI_INSTALLED_${dir} "${CMAKE_INSTALL_PREFIX}/${KUNCI_${dir}}")
    endif()
endforeach()
string(SHA256 install_key "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
set(filled "${KUNCI_OUTPUT_DIR}/${install_key}/${KUNCI_TEMPLATE}")
configure_file("${KUNCI_TEMPLATE_DIR}/${KUNCI_TEMPLATE}.in" "${filled}" @ONLY)
if(IS_ABSOLUTE "${KUNCI_DESTINATION}")
    set(destination "${KUNCI_DESTINATION}")
else()
    set(destination "${CMAKE_INSTALL_PREFIX}/${KUNCI_DESTINATION}")
endif()
file(INSTALL DESTINATION "${destination}" TYPE ${KUNCI_TYPE} FILES "${filled}")
