# SPDX-License-Identifier: Apache-2.0
# The demo page (ipc/client/kunci.js and ipc/client/demo/*) compiled into kunci-agent, and only
# into it: the agent serves it in --demo mode alone. Included from agent/CMakeLists.txt once the
# kunci-agent target exists. A file added to or removed from ipc/client/demo/ re-runs the glob;
# a changed file regenerates the table.
set(kunci_demo_client_dir ${PROJECT_SOURCE_DIR}/ipc/client)
file(GLOB_RECURSE kunci_demo_page_files CONFIGURE_DEPENDS LIST_DIRECTORIES false
    ${kunci_demo_client_dir}/demo/*)
if(EXISTS ${kunci_demo_client_dir}/kunci.js)
    list(PREPEND kunci_demo_page_files ${kunci_demo_client_dir}/kunci.js)
endif()
# Editor leftovers and hidden files are not part of the page.
list(FILTER kunci_demo_page_files EXCLUDE REGEX "(/\\.[^/]*|~|\\.swp)$")
# "|" rather than ";" so that the list survives the command line as one argument.
string(REPLACE ";" "|" kunci_demo_page_arg "${kunci_demo_page_files}")
set(kunci_demo_page_cpp ${CMAKE_CURRENT_BINARY_DIR}/demo_page_files.cpp)
add_custom_command(
    OUTPUT ${kunci_demo_page_cpp}
    COMMAND ${CMAKE_COMMAND} -DKUNCI_EMBED_ROOT=${kunci_demo_client_dir}
        "-DKUNCI_EMBED_FILES=${kunci_demo_page_arg}" -DKUNCI_EMBED_OUTPUT=${kunci_demo_page_cpp}
        -P ${CMAKE_CURRENT_LIST_DIR}/demo_embed_script.cmake
    DEPENDS ${kunci_demo_page_files} ${CMAKE_CURRENT_LIST_DIR}/demo_embed_script.cmake
    COMMENT "Embedding the demo page into kunci-agent"
    VERBATIM)
target_sources(kunci-agent PRIVATE ${kunci_demo_page_cpp})
