# SPDX-License-Identifier: Apache-2.0
# Read by ctest after the discovered tests of kunci_token_suite: the instances on the software
# TPM (names ending in /tpm2, then the GetParam() note CMake adds) get the labels tokens, tpm2.
foreach(test IN LISTS kunci_token_suite_TESTS)
    if(test MATCHES "/tpm2( |$)")
        set_tests_properties("${test}" PROPERTIES LABELS "tokens;tpm2")
    endif()
endforeach()
