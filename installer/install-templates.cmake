# Run at install time (install(CODE) in CMakeLists.txt): fills the templates that name installed
# paths with the prefix being installed to, which is only known then (/usr when CPack builds the
# package, whatever `cmake --install --prefix` names otherwise).
# In: KUNCI_TEMPLATE_DIR, KUNCI_OUTPUT_DIR, KUNCI_BINDIR, KUNCI_SBINDIR, KUNCI_TEMPLATES.
foreach(dir BINDIR SBINDIR)
    if(IS_ABSOLUTE "${KUNCI_${dir}}")
        set(KUNCI_INSTALLED_${dir} "${KUNCI_${dir}}")
    else()
        set(KUNCI_INSTALLED_${dir} "${CMAKE_INSTALL_PREFIX}/${KUNCI_${dir}}")
    endif()
endforeach()
foreach(template IN LISTS KUNCI_TEMPLATES)
    configure_file("${KUNCI_TEMPLATE_DIR}/${template}.in" "${KUNCI_OUTPUT_DIR}/${template}" @ONLY)
endforeach()
