# deb-prebuild.cmake - run by CPack on its staging tree before the .deb is
# built (CPACK_PRE_BUILD_SCRIPTS): compresses the man pages with gzip -9n,
# as Debian policy asks (no timestamp, so the package is reproducible), and
# strips the binaries the way dh_strip does.
file(GLOB_RECURSE _pages "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/share/man/man1/*.1")
foreach(_page ${_pages})
  execute_process(COMMAND gzip -9nf "${_page}" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "gzip ${_page} failed")
  endif()
endforeach()

# Strip what CPack's plain strip leaves (lintian: binary-has-unneeded-section),
# the sections dh_strip removes too.
file(GLOB _bins "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/bin/*")
foreach(_bin ${_bins})
  execute_process(COMMAND strip --remove-section=.comment --remove-section=.note --strip-unneeded "${_bin}"
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "strip ${_bin} failed")
  endif()
endforeach()
